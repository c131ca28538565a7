"""Live machines in the desktop app: latency, dropped samples and CPU (issue targets: sample
arrival → prediction on screen ≤ 50 ms p99, zero samples dropped, under 50 % of one core).

    .venv/bin/python benchmarks/live.py [--duration 300] [--speed 1] [--no-teach] [--no-drift]

Opens the main window (offscreen) on the bundled data in a fresh user data dir, with the demo's
eight machines replaying recorded runs at real speed (10 Hz each) through the live engine, the
prediction log and the audit trail on, and the app's /metrics endpoint serving. By default, as on
a shop floor that uses both: every machine's setup is taught first (``cncwear teach`` on the run it
replays, so the taught monitor judges every window from the start), and the champion's per-setup
drift reference is handed to the engine as the Monitoring view does, so every machine's window is
checked against the training runs of its setup every 10 s. After a 10 s warm-up it measures for
``--duration`` seconds:

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


def teach_demo_machines(dataset, store_url: str | None) -> list[str]:
    """Teach every demo machine's setup on the run it replays (what ``cncwear teach`` stores)."""
    from cncwear_gui.data.setup import setup_of_meta
    from cncwear_gui.monitoring.teach_in import teach, windows_of_samples
    from cncwear_gui.store.taught_references import TaughtReferenceStore
    from cncwear_gui.ui.live_service import DEMO_MACHINES

    taught = []
    with TaughtReferenceStore(store_url) as store:
        for machine, number in DEMO_MACHINES.items():
            experiment = dataset.experiments[number]
            setup = setup_of_meta(experiment.meta)
            reference = teach(windows_of_samples(experiment.samples), machine, setup, runs=[experiment.path.name])
            store.save(machine, setup.text, reference.to_json(), "benchmark", "benchmarks/live.py")
            taught.append(f"{machine} · {setup.text}")
    return taught


def run_events(seconds: float) -> None:
    loop = QEventLoop()
    QTimer.singleShot(int(seconds * 1000), loop.quit)
    loop.exec()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--duration", type=float, default=300)
    parser.add_argument("--speed", type=float, default=1.0, help="replay speed (1 = 10 Hz per machine)")
    parser.add_argument("--no-teach", action="store_true", help="leave the machines' setups not taught")
    parser.add_argument("--no-drift", action="store_true", help="no per-setup drift reference: no drift checks")
    args = parser.parse_args()
    settings = Settings(demo_replay_speed=args.speed, metrics_port=19_464)
    if not args.no_teach:
        from cncwear_gui.data.dataset import load_dataset
        from cncwear_gui.paths import bundled_dataset_dir

        taught = teach_demo_machines(load_dataset([bundled_dataset_dir()]), settings.feature_store_url or None)
        print(f"taught {len(taught)} machine setups: {'; '.join(taught)}")
    app = QApplication([])
    apply_theme(app, "light")
    window = MainWindow(settings)
    window.resize(1600, 1000)
    window.show()
    started = time.monotonic()
    while window.live.node is None or not window.operator_view.views:
        run_events(0.2)
        if time.monotonic() - started > 600:
            raise SystemExit("the live machines did not start within 10 minutes")
    print(f"live after {time.monotonic() - started:.1f} s (first start trains the champion); "
          f"{len(window.operator_view.views)} machines at {args.speed:g}× ({10 * args.speed:g} Hz each)")
    node = window.live.node
    if not args.no_drift:
        from cncwear_gui.monitoring.reference import setup_reference_for

        model, dataset = window.state.model, window.state.dataset
        reference = setup_reference_for(model, lambda: dataset)
        window.live.set_reference(reference, str(model.version))  # what the Monitoring view's snapshot hands over
        print(f"per-setup drift reference of v{model.version}: {len(reference.setups)} setups; "
              f"the engine checks every {node.config.drift_interval_s:g} s")
    run_events(WARM_UP_S)
    view = window.operator_view
    checks0 = {m.name: m.monitor.metrics.drift_checks.labels(m.name)._value.get() for m in node.machines}
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
    checks = sum(m.monitor.metrics.drift_checks.labels(m.name)._value.get() - checks0[m.name] for m in node.machines)
    states = {m.name: (m.monitor.last_check.state if m.monitor.last_check else "none") for m in node.machines}
    taught = {m.name: m.monitor.teach_in.verdict().state for m in node.machines}
    print(f"drift checks while measuring: {checks:.0f}; last per machine: "
          + ", ".join(f"{name} {state}" for name, state in states.items()))
    print("taught monitor per machine: " + ", ".join(f"{name} {state}" for name, state in taught.items()))
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
