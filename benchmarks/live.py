"""Live machines in the desktop app: latency, dropped samples and CPU (issue targets: sample
arrival → prediction on screen ≤ 50 ms p99, zero samples dropped, under 50 % of one core).

    .venv/bin/python benchmarks/live.py [--machines 8] [--duration 300] [--speed 1]

Opens the main window (offscreen) on the bundled data in a fresh user data dir, with the demo's
eight machines replaying recorded runs at real speed (10 Hz each) through the live engine, the
prediction log and the audit trail on, and the app's /metrics endpoint serving. After a 10 s
warm-up it measures for ``--duration`` seconds:

* latency: for every scoring pass shown, the time from the newest shown sample's arrival (the
  instant the replay released it, i.e. when the machine produced it) until the Operator view's
  tile has been updated on the GUI thread;
* dropped: per machine, samples the source released vs samples scored vs rows in the prediction
  log (after a flush);
* CPU: the whole process's CPU time (GUI thread, engine, log writer, /metrics) over wall time,
  in % of one core.
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
from PySide6.QtCore import QEventLoop, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from cncwear_gui.settings import Settings  # noqa: E402
from cncwear_gui.ui.main_window import MainWindow  # noqa: E402
from cncwear_gui.ui.theme import apply_theme  # noqa: E402

WARM_UP_S = 10


def run_events(seconds: float) -> None:
    loop = QEventLoop()
    QTimer.singleShot(int(seconds * 1000), loop.quit)
    loop.exec()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--duration", type=float, default=300)
    parser.add_argument("--speed", type=float, default=1.0, help="replay speed (1 = 10 Hz per machine)")
    args = parser.parse_args()
    app = QApplication([])
    apply_theme(app, "light")
    window = MainWindow(Settings(demo_replay_speed=args.speed, metrics_port=19_464))
    window.resize(1600, 1000)
    window.show()
    started = time.monotonic()
    while window.live.node is None or not window.operator_view.views:
        run_events(0.2)
        if time.monotonic() - started > 600:
            raise SystemExit("the live machines did not start within 10 minutes")
    print(f"live after {time.monotonic() - started:.1f} s (first start trains the champion); "
          f"{len(window.operator_view.views)} machines at {args.speed:g}× ({10 * args.speed:g} Hz each)")
    run_events(WARM_UP_S)
    view, node = window.operator_view, window.live.node
    view.latencies.clear()
    cpu0, wall0 = time.process_time(), time.monotonic()
    run_events(args.duration)
    cpu, wall = time.process_time() - cpu0, time.monotonic() - wall0
    latencies = np.array(view.latencies) * 1000
    window.live.stop()
    run_events(0.5)

    print(f"measured {wall:.0f} s, {len(latencies)} machine updates shown")
    print(f"arrival → on screen: p50 {np.percentile(latencies, 50):.1f} ms · p95 {np.percentile(latencies, 95):.1f} ms · "
          f"p99 {np.percentile(latencies, 99):.1f} ms · max {latencies.max():.1f} ms (target p99 ≤ 50 ms)")
    print(f"CPU: {100 * cpu / wall:.1f} % of one core for the whole app (target < 50 %)")
    predictions = node.predictions
    predictions.flush()
    dropped = 0
    for machine in node.machines:
        released = machine.source.health().received
        scored = machine.monitor.scored
        logged = predictions.count(machine.name)
        dropped += (released - scored) + (scored - logged)
        print(f"  {machine.name}: released {released:,} · scored {scored:,} · logged {logged:,}")
    print(f"dropped samples: {dropped} (target 0)")
    window.close()


if __name__ == "__main__":
    main()
