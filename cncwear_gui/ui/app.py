"""Starting the Qt application, and the screenshot mode that renders every view to PNG."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

log = logging.getLogger(__name__)


def run_gui(screenshot_dir: str | None = None) -> int:
    import os

    if screenshot_dir is not None:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # no screen needed to render PNGs
    elif sys.platform.startswith("linux") and not (
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY") or os.environ.get("QT_QPA_PLATFORM")
    ):
        print("cncwear gui: no display found (DISPLAY/WAYLAND_DISPLAY unset). Run it on a desktop, "
              "under xvfb-run, or use --screenshot DIR.", file=sys.stderr)
        return 1
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from .main_window import MainWindow

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("cncwear")
    window = MainWindow()
    window.show()
    if screenshot_dir is None:
        return app.exec()

    target = Path(screenshot_dir)
    target.mkdir(parents=True, exist_ok=True)
    result = {"code": 1}

    def capture() -> None:
        if window.loader.running:
            QTimer.singleShot(100, capture)
            return
        for index in range(window.tabs.count()):
            window.tabs.setCurrentIndex(index)
            app.processEvents()  # let the tab lay out before grabbing (screenshot mode only)
            name = window.tabs.tabText(index).lower().replace(" ", "_")
            path = target / f"{index + 1:02d}_{name}.png"
            window.grab().save(str(path))
            print(path)
        result["code"] = 0
        window.close()
        app.quit()

    QTimer.singleShot(200, capture)
    app.exec()
    return result["code"]
