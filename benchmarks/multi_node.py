"""Several `cncwear serve` nodes writing into one store (issue 24): rows lost, write-batch latency, CPU.

    .venv/bin/python benchmarks/multi_node.py [--nodes 2] [--machines 8] [--duration 300] [--store URL]
                                              [--engines postgresql,sqlite]

A champion is trained once in a fresh user data dir (``cncwear champion``); then, per engine, ``--nodes``
real ``cncwear serve`` processes, each with ``--machines`` bundled replays at real speed (10 Hz each),
log into one store for ``--duration`` seconds and are stopped with SIGTERM (they flush and close):

* postgresql: ``--store URL`` if given, else a throwaway cluster started as the tests start one
  (tests/postgres_server.py, PostgreSQL 15 binaries; note its fsync=off and synchronous_commit=off);
* sqlite: one SQLite file on this PC that every node writes to.

Printed per node and in total: samples scored vs rows stored (lost = scored - stored; the goal is 0),
the prediction log's write-batch latency (p50/p99/max over every committed batch, from the node's
"stopped" event), failed batches, and the node's CPU time over the measured wall time (from
/proc/PID/stat between "serving" and SIGTERM: scoring, alarms, drift checks, the log writer, /metrics).
Linux only.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
EXPERIMENTS = (1, 2, 3, 6, 8, 9, 10, 11, 12, 13, 14, 15, 17, 18)
TICKS = os.sysconf("SC_CLK_TCK")


def cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "cncwear_gui.cli", *args]


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def stored_rows(url: str) -> dict[str, int]:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return {m: int(n) for m, n in conn.execute(text("SELECT machine, count(*) FROM prediction_log GROUP BY machine"))}
    finally:
        engine.dispose()


class Node:
    def __init__(self, index: int, machines: int, url: str, env: dict, folder: Path):
        from cncwear_gui.paths import bundled_dataset_dir

        data = bundled_dataset_dir()
        specs = [f"n{index}-mill-{m + 1}=replay:{data / f'experiment_{EXPERIMENTS[m % len(EXPERIMENTS)]:02d}.csv'}"
                 for m in range(machines)]
        self.name = f"node-{index}"
        self.errors = open(folder / f"{self.name}.err", "w")
        self.process = subprocess.Popen(
            cli("serve", "--store", url, "--metrics-addr", f"127.0.0.1:{free_port()}", "--champion-check", "0",
                *[a for s in specs for a in ("--machine", s)]),
            stdout=subprocess.PIPE, stderr=self.errors, text=True, cwd=ROOT, env=env)
        self.events: list[dict] = []
        self.serving = threading.Event()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.process.stdout:
            try:
                event = json.loads(line)
            except ValueError:
                continue
            self.events.append(event)
            if event.get("event") == "serving":
                self.serving.set()

    def stopped(self) -> dict:
        return next((e for e in self.events if e.get("event") == "stopped"), {})


def run_engine(engine: str, url: str, args, env: dict, folder: Path) -> dict:
    print(f"\n== {engine}: {args.nodes} nodes × {args.machines} machines at 10 Hz into {redacted(url)}")
    nodes = [Node(i + 1, args.machines, url, env, folder) for i in range(args.nodes)]
    try:
        for node in nodes:
            if not node.serving.wait(600):
                raise SystemExit(f"{node.name} did not start: {(folder / f'{node.name}.err').read_text()[-2000:]}")
        cpu0 = {n.name: cpu_seconds(n.process.pid) for n in nodes}
        wall0 = time.monotonic()
        time.sleep(args.duration)
        cpu = {n.name: cpu_seconds(n.process.pid) - cpu0[n.name] for n in nodes}
        wall = time.monotonic() - wall0
        for node in nodes:
            node.process.send_signal(signal.SIGTERM)
        for node in nodes:
            node.process.wait(120)
    finally:
        for node in nodes:
            if node.process.poll() is None:
                node.process.kill()
    time.sleep(0.5)  # the reader threads take the last lines
    stored = stored_rows(url)
    total = {"scored": 0, "stored": 0, "p99": []}
    for node in nodes:
        stopped = node.stopped()
        scored = stopped.get("scored", {})
        log = stopped.get("log", {})
        rows = sum(stored.get(m, 0) for m in scored)
        total["scored"] += sum(scored.values())
        total["stored"] += rows
        total["p99"].append(log.get("batch_p99_ms"))
        print(f"  {node.name}: exit {node.process.returncode} · scored {sum(scored.values()):,} · stored {rows:,} · "
              f"lost {sum(scored.values()) - rows:,} · batches {log.get('batches')} (failed {log.get('failed_batches')}) · "
              f"write batch p50 {log.get('batch_p50_ms')} ms · p99 {log.get('batch_p99_ms')} ms · "
              f"max {log.get('batch_max_ms')} ms · CPU {cpu[node.name]:.1f} s over {wall:.0f} s "
              f"({100 * cpu[node.name] / wall:.1f} % of one core)")
    print(f"  total: scored {total['scored']:,} · stored {total['stored']:,} · lost {total['scored'] - total['stored']:,} "
          f"(goal 0)")
    return total


def redacted(url: str) -> str:
    from cncwear_gui.store.database import redacted as hide

    return hide(url)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=2)
    parser.add_argument("--machines", type=int, default=8, help="machines per node (10 Hz each)")
    parser.add_argument("--duration", type=float, default=300, help="measured seconds per engine")
    parser.add_argument("--store", help="a PostgreSQL URL (default: a throwaway cluster)")
    parser.add_argument("--engines", default="postgresql,sqlite")
    args = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)  # figures as they come, also into a file
    folder = Path(tempfile.mkdtemp(prefix="cncwear-multi-node-"))
    env = {**os.environ, "CNCWEAR_HOME": str(folder / "home"), "CNCWEAR_CONFIG_DIR": str(folder / "config"),
           "PYTHONPATH": str(ROOT)}
    env.pop("CNCWEAR_MLFLOW_URI", None)
    started = time.monotonic()
    done = subprocess.run(cli("champion", "--json"), capture_output=True, text=True, cwd=ROOT, env=env)
    if done.returncode != 0:
        raise SystemExit(f"cncwear champion failed: {done.stderr[-2000:]}")
    print(f"champion trained in {time.monotonic() - started:.0f} s (shared by every node: one user data dir)")
    server = None
    try:
        for engine in args.engines.split(","):
            if engine == "postgresql":
                url = args.store
                if not url:
                    sys.path.insert(0, str(ROOT / "tests"))
                    from postgres_server import start_server

                    server = start_server()
                    url = server.url(server.create_database())
                run_engine(engine, url, args, env, folder)
            elif engine == "sqlite":
                run_engine(engine, f"sqlite:///{folder / 'one-pc.db'}", args, env, folder)
            else:
                raise SystemExit(f"--engines: unknown engine {engine!r} (postgresql, sqlite)")
    finally:
        if server is not None:
            server.stop()


if __name__ == "__main__":
    main()
