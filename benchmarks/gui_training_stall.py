"""Main-thread stall of the GUI during a training run from the Training view (target: max <= 50 ms).

    .venv/bin/python benchmarks/gui_training_stall.py [--engine flaml|auto-sklearn] [--budget S]

Opens the main window on the bundled data in a fresh user data dir (offscreen), waits until the
first predictions are shown, then starts a training run (registered as challenger) with the
Training tab visible. A 10 ms heartbeat QTimer records the gaps between its ticks while the run
is going; the largest gap beyond 10 ms is the longest stall of the GUI thread.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ["CNCWEAR_HOME"] = tempfile.mkdtemp()
os.environ["CNCWEAR_CONFIG_DIR"] = tempfile.mkdtemp()

import numpy as np  # noqa: E402
from PySide6.QtCore import QElapsedTimer, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from cncwear_gui.ui.main_window import MainWindow  # noqa: E402
from cncwear_gui.ui.theme import apply_theme  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--engine", default="flaml")
    parser.add_argument("--budget", type=int, default=30)
    args = parser.parse_args()
    app = QApplication([])
    apply_theme(app, "light")
    window = MainWindow()
    window.show()
    view = window.training_view
    gaps: list[float] = []
    stages: list[str] = []
    times: list[float] = []
    busy: list[str] = []
    clock = QElapsedTimer()
    last = [0]

    def beat() -> None:
        now = clock.elapsed()
        gaps.append(now - last[0])
        stages.append(window.progress.format())
        times.append(now / 1000)
        busy.append(",".join(name for name, runner in named_runners if runner.running) or "none")
        last[0] = now

    named_runners = [("trainer", view.trainer), ("registry", view.registry_runner), ("baselines", view.baseliner),
                     ("loader", window.loader), ("model", window.modeller), ("scorer", window.scorer)]
    heartbeat = QTimer()
    heartbeat.setInterval(10)
    heartbeat.timeout.connect(beat)

    def start_training() -> None:
        window.live.stop()  # measure the training, not the live machines' redraws
        window.tabs.setCurrentWidget(view)
        app.processEvents()
        view.set_choices(engine=args.engine, budget_s=args.budget, register=True)
        clock.start()
        last[0] = clock.elapsed()
        heartbeat.start()
        started[0] = time.perf_counter()
        view.start_training()

    def stop() -> None:
        heartbeat.stop()  # before quitting: closing the window is not part of the training run
        app.quit()

    def finished(*_args) -> None:
        if started[0] is not None and not any(runner.running for runner in view.runners):
            QTimer.singleShot(200, stop)

    started = [None]
    window.state.scores_changed.connect(lambda _: started[0] is None and QTimer.singleShot(500, start_training))
    for runner in view.runners:
        runner.running_changed.connect(finished)
    app.exec()
    heartbeat.stop()
    took = time.perf_counter() - started[0]
    stalls = np.asarray(gaps[2:]) - 10
    worst = np.argsort(stalls)[-5:][::-1]
    print(f"{args.engine} training ({args.budget} s budget, registered) from the Training view: {took:.1f} s")
    print("longest stalls: " + "; ".join(f"{stalls[i]:.0f} ms at {times[i + 2]:.1f} s during '{stages[i + 2]}' "
                                         f"(running: {busy[i + 2]})" for i in worst))
    print(f"main-thread stall: max {stalls.max():.0f} ms, 99th percentile {np.percentile(stalls, 99):.0f} ms, "
          f"{(stalls > 50).sum()} of {len(stalls)} heartbeats over 50 ms (target max <= 50 ms)")
    window.close()


if __name__ == "__main__":
    main()
