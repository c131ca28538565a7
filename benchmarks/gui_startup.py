"""Cold start to the first painted window (target <= 1.5 s), in a fresh process each time.

    .venv/bin/python benchmarks/gui_startup.py [--repeat N]

Measures from interpreter start (before any import) to the first paint event of the main window,
offscreen, and lists which heavy libraries were imported by then (none should be).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile

CHILD = r"""
import time
started = time.perf_counter()
import os, sys
from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication
from cncwear_gui.ui.theme import apply_theme
from cncwear_gui.ui.main_window import MainWindow

app = QApplication([])
apply_theme(app, "light")

class FirstPaint(QObject):
    def eventFilter(self, watched, event):
        if event.type() == QEvent.Paint:
            heavy = [m for m in ("shap", "alibi", "mlflow", "lime", "sklearn", "pandas") if m in sys.modules]
            print(f"{time.perf_counter() - started:.3f} {','.join(heavy) or '-'}", flush=True)
            os._exit(0)
        return False

window = MainWindow()
window.tabs.currentWidget().installEventFilter(FirstPaint(window))
window.show()
app.exec()
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "CNCWEAR_HOME": tempfile.mkdtemp(), "CNCWEAR_CONFIG_DIR": tempfile.mkdtemp()}
    times, heavy = [], set()
    for _ in range(args.repeat):
        out = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True, env=env, check=True).stdout.split()
        times.append(float(out[0]))
        heavy.update(x for x in out[1].split(",") if x != "-")
    print(f"cold start to first painted window: best {min(times):.3f} s, median {statistics.median(times):.3f} s (target <= 1.5 s)")
    print(f"heavy libraries imported before the first paint: {sorted(heavy) or 'none'}")


if __name__ == "__main__":
    main()
