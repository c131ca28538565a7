"""Helpers for tests: the repository root and running the real command line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from cncwear_gui.automl.runtime import automl_python

ROOT = Path(__file__).resolve().parent.parent
BUNDLED = ROOT / "resources" / "data" / "cnc_mill_tool_wear"

# Tests that need the AutoML runtime (Python 3.9 + auto-sklearn) skip without it, unless CI says it must exist.
needs_automl_runtime = pytest.mark.skipif(
    automl_python() is None and not os.environ.get("CNCWEAR_REQUIRE_AUTOML"),
    reason="no AutoML runtime here (no Python 3.9)",
)


def run_cli(*args: str, env: dict | None = None, cwd: Path | None = None, timeout: float = 1800) -> subprocess.CompletedProcess:
    """Run the real ``cncwear`` command line in a subprocess."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "cncwear_gui.cli", *args],
        capture_output=True,
        text=True,
        env=full_env,
        cwd=cwd or ROOT,
        timeout=timeout,
    )


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(condition, timeout: float, what: str, poll_s: float = 0.02):
    """Poll ``condition`` until it returns something truthy; fail naming ``what`` after ``timeout``."""
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(poll_s)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def tree_predict(nodes: list[dict], X, names: list[str]):
    """Walk a surrogate's exported node dicts for every row: the tree without scikit-learn."""
    import numpy as np

    by_id = {n["id"]: n for n in nodes}
    out = []
    for row in X:
        node = by_id[0]
        while not node["leaf"]:
            node = by_id[node["left"] if row[names.index(node["feature"])] <= node["threshold"] else node["right"]]
        out.append(int(np.argmax(node["class_counts"])))
    return np.array(out)


#: Three worn and three unworn experiments: a pipeline trains on them in seconds.
PIPELINE_SUBSET = (1, 2, 3, 6, 8, 9)


class SteppedClock:
    """A clock the test moves by hand: replays and the live engine read it instead of real time."""

    def __init__(self, now: float = 100.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


def replay_node(frames: dict, model, url: str | None, **config):
    """A live node over replays of ``frames`` (machine → samples; 10× on a stepped clock) with the
    real stores at ``url`` (None: the default ones of the test's home). Returns (node, run_samples,
    stores, metrics); ``run_samples(n)`` advances the replays by about ``n`` samples each. The
    caller closes the stores."""
    import math

    from cncwear_gui.live.engine import LiveConfig, LiveNode, open_machine
    from cncwear_gui.live.node import open_stores
    from cncwear_gui.live.replay import ReplaySource
    from cncwear_gui.live.sources import MachineSpec
    from cncwear_gui.monitoring.metrics import AppMetrics

    clock = SteppedClock()
    metrics = AppMetrics(process_metrics=False)
    settings = LiveConfig(**{"tool_change_poll_s": 0.0, **config})
    stores = open_stores(url, settings.limits)
    machines = [open_machine(MachineSpec(name, "replay", "memory"), model, metrics, settings,
                             source=ReplaySource(frame, speed=10, clock=clock)) for name, frame in frames.items()]
    node = LiveNode(machines, model, metrics, settings, clock=clock, **stores)
    node.start_sources()

    def run_samples(samples: int) -> None:
        for _ in range(math.ceil(samples / 100)):
            clock.now += 1.0
            node.step()

    return node, run_samples, stores, metrics


def run_sql(url: str, *statements: str) -> None:
    """Statements from another connection (a hand edit, a site's DBA, an older app), committed."""
    import sqlalchemy

    engine = sqlalchemy.create_engine(url)
    try:
        with engine.begin() as conn:
            for statement in statements:
                conn.execute(sqlalchemy.text(statement))
    finally:
        engine.dispose()
