"""Monitoring figures: a /metrics scrape with 8 machines (target <= 20 ms) and a pipeline run with
FLAML at a 60 s budget, end to end (target <= 120 s).

    .venv/bin/python benchmarks/monitoring.py [--scrapes N] [--budget S] [--skip-pipeline]

Everything runs through the real command line in a temporary home: ``cncwear serve`` replays 8
bundled experiments at 10x while the scrapes are timed over loopback HTTP; then ``cncwear
pipeline run`` is timed twice on the bundled data. The first run is a fresh install's (its gate
also evaluates the first-start champion under LOEO, once); the second is the steady state.
Drift of a 6,000-row window is timed by benchmarks/drift.py.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from cncwear_gui.paths import bundled_dataset_dir

MACHINES = (1, 2, 3, 4, 6, 8, 9, 10)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "cncwear_gui.cli", *args]


def time_scrapes(env: dict, scrapes: int) -> None:
    port = _free_port()
    arguments = _cli("serve", "--metrics-addr", f"127.0.0.1:{port}", "--drift-interval", "10")
    for number in MACHINES:
        arguments += ["--machine", f"mill-{number}=replay:{bundled_dataset_dir() / f'experiment_{number:02d}.csv'}@10"]
    started = time.perf_counter()
    server = subprocess.Popen(arguments, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)
    try:
        ready = json.loads(server.stdout.readline())
        print(f"cncwear serve ready in {time.perf_counter() - started:.1f} s (first start trains a champion)")
        time.sleep(12)  # a drift check has run, every series exists
        times, size = [], 0
        for _ in range(scrapes):
            begin = time.perf_counter()
            body = urllib.request.urlopen(ready["url"], timeout=5).read()
            times.append((time.perf_counter() - begin) * 1000)
            size = len(body)
            time.sleep(0.05)
        series = sum(1 for line in body.decode().splitlines() if line and not line.startswith("#"))
        ordered = sorted(times)
        print(f"/metrics with {len(MACHINES)} machines: {series} series, {size / 1024:.1f} KiB; over {scrapes} scrapes "
              f"median {statistics.median(times):.1f} ms, p95 {ordered[int(0.95 * (len(ordered) - 1))]:.1f} ms, "
              f"max {ordered[-1]:.1f} ms  (target <= 20 ms)")
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)


def time_pipeline(env: dict, budget: int, label: str) -> None:
    started = time.perf_counter()
    done = subprocess.run(_cli("pipeline", "run", "--budget", str(budget), "--json"), capture_output=True, text=True, env=env)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        print(f"pipeline ({label}) failed: {done.stderr[-1500:]}")
        return
    result = json.loads(done.stdout[done.stdout.index("{"):])
    steps = ", ".join(f"{s['name']} {s['seconds']:.1f} s" for s in result["steps"] if s["seconds"])
    print(f"pipeline ({label}), FLAML {budget} s: {elapsed:.1f} s end to end (target <= 120 s); {result['status']}; {steps}")
    if result.get("gate"):
        print(f"  gate: {result['gate']['reason']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scrapes", type=int, default=200)
    parser.add_argument("--budget", type=int, default=60, help="pipeline search budget (default 60 s)")
    parser.add_argument("--skip-pipeline", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as home:
        env = {**os.environ, "CNCWEAR_HOME": str(Path(home) / "home"), "CNCWEAR_CONFIG_DIR": str(Path(home) / "config")}
        time_scrapes(env, args.scrapes)
        if not args.skip_pipeline:
            time_pipeline(env, args.budget, "first run after install")
            time_pipeline(env, args.budget, "steady state")


if __name__ == "__main__":
    main()
