"""The headless node behind ``cncwear serve``: sources → scoring → monitoring → /metrics.

One loop every 100 ms takes each machine's due samples, scores them in one batch and updates the
metrics; every ``drift_interval`` seconds each machine's last ten minutes are checked for drift.
A machine whose scoring fails is reported (metrics, log) and retried on the next tick; it never
stops the others.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from datetime import datetime

from ..live.replay import MachineSpec, ReplaySource
from .machine_monitor import MachineMonitor
from .metrics import AppMetrics

log = logging.getLogger(__name__)
TICK_S = 0.1
MAX_BATCH = 600  # a minute of samples at 10 Hz: a stalled model catches up in bounded steps


@dataclass
class WatchedMachine:
    spec: MachineSpec
    source: ReplaySource
    monitor: MachineMonitor


def describe_model(metrics: AppMetrics, model, evaluation: dict) -> None:
    """Publish the active model's identity, age and recorded figures."""
    trained = None
    if model.trained_at:
        try:
            trained = datetime.fromisoformat(model.trained_at).timestamp()
        except ValueError:
            log.warning("model %s has an unreadable trained_at %r", model.label, model.trained_at)
    metrics.set_model(model.name, model.version, model.engine, model.feature_set.key, model.trained_at,
                      trained, evaluation)


def open_machine(spec: MachineSpec, model, metrics: AppMetrics, reference, threshold: float) -> WatchedMachine:
    from ..data.dataset import load_dataset

    dataset = load_dataset([spec.path])
    if not dataset.experiments:
        problems = "; ".join(str(p.located(r.path)) for r in dataset.reports for p in r.errors)
        raise ValueError(f"machine {spec.machine}: {spec.path} has no usable samples ({problems})")
    source = ReplaySource(dataset.samples(), speed=spec.speed)
    monitor = MachineMonitor(spec.machine, spec.kind, model, metrics, reference, threshold)
    return WatchedMachine(spec, source, monitor)


class HeadlessNode:
    def __init__(self, machines: list[WatchedMachine], metrics: AppMetrics, drift_interval_s: float = 10.0):
        self.machines = machines
        self.metrics = metrics
        self.drift_interval_s = drift_interval_s
        self.stop_event = threading.Event()

    def step(self) -> None:
        for watched in self.machines:
            name = watched.spec.machine
            rows = watched.source.take(MAX_BATCH)
            try:
                watched.monitor.score(rows)
            except Exception as error:  # counted in scoring_errors; the node keeps serving
                log.warning("machine %s: scoring failed: %s", name, error)
            self.metrics.source_up.labels(name, watched.spec.kind).set(1)
            self.metrics.source_lag.labels(name).set(watched.source.lag_seconds())

    def check_drift(self) -> None:
        for watched in self.machines:
            try:
                watched.monitor.check_drift()
            except Exception as error:
                log.warning("machine %s: drift check failed: %s", watched.spec.machine, error)

    def run(self, duration_s: float | None = None) -> None:
        """Serve until ``stop_event`` is set or ``duration_s`` has passed."""
        for watched in self.machines:
            watched.source.start()
        started = last_drift = time.monotonic()
        while not self.stop_event.is_set():
            tick = time.monotonic()
            self.step()
            if tick - last_drift >= self.drift_interval_s:
                self.check_drift()
                last_drift = tick
            if duration_s is not None and tick - started >= duration_s:
                break
            self.stop_event.wait(max(0.0, TICK_S - (time.monotonic() - tick)))
        for watched in self.machines:
            self.metrics.source_up.labels(watched.spec.machine, watched.spec.kind).set(0)
