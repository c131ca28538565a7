"""Prediction-log retention: bytes per raw row, the time to prune one day's rows, and the store's
size at steady state over a simulated period (issue 27).

Real stores, the real writer thread and the real prune job, on a SQLite file in a temp folder.
A full day at 8 machines x 10 Hz is 6.9 M rows; by default the day is simulated at ``--hz``
(1 Hz: 691,200 rows) and the prune time is also given per million rows; ``--hz 10`` runs the
real day. The steady-state run writes ``--days`` simulated days at ``--sim-hz`` per machine with
logged_at set to the simulated time, prunes at the end of each day with ``--retention`` days,
and prints the file size per day: it stops growing once the retention is reached (pages freed by
pruning are reused, and given back with incremental vacuum).

    .venv/bin/python benchmarks/retention.py [--hz 1] [--days 45] [--retention 30] [--sim-hz 0.05]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, select  # noqa: E402

from cncwear_gui.store.prediction_log import PredictionLog  # noqa: E402
from cncwear_gui.store.prediction_tables import prediction_minutes, prediction_runs  # noqa: E402
from cncwear_gui.store.retention import Pruner, Retention  # noqa: E402

MACHINES = 8
START = datetime(2026, 1, 1, tzinfo=timezone.utc)


def day_rows(day_start: datetime, hz: float, machines: int = MACHINES, chunk: int = 50_000):
    """One day's rows for ``machines`` at ``hz``, in chunks: a run every 20 minutes, P(worn) rising."""
    step = 1.0 / hz
    per_machine = int(86_400 * hz)
    rows = []
    for i in range(per_machine):
        at = day_start + timedelta(seconds=i * step)
        run = int(at.timestamp() // 1200)
        for m in range(machines):
            p = ((i * 7 + m * 13) % 1000) / 1000
            rows.append({"machine": f"mill-{m}", "logged_at": at, "sample_time": at, "model_version": "3",
                         "probability": p, "wear_state": "worn" if p > 0.8 else "ok",
                         "quality_flags": 1 if (i + m) % 97 == 0 else 0, "run_id": run * 1_000_000})
            if len(rows) >= chunk:
                yield rows
                rows = []
    if rows:
        yield rows


def write_day(log: PredictionLog, day_start: datetime, hz: float) -> int:
    n = 0
    for rows in day_rows(day_start, hz):
        while log.pending > 500_000:
            time.sleep(0.05)
        n += log.append(rows)
    log.flush(timeout=None)
    return n


def size(path: Path) -> int:
    return sum(p.stat().st_size for p in (path, Path(f"{path}-wal")) if p.exists())


def checkpoint(log: PredictionLog) -> None:
    with log.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")


def count(log: PredictionLog, table) -> int:
    with log.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar())


def live_writer_lag(log: PredictionLog, prune, hz_machines: int = MACHINES) -> tuple[list[float], object]:
    """Append 8 machines x 10 Hz (80 rows every 100 ms, as the engine does) while ``prune()`` runs;
    each pass's time from append to commit. Scoring never waits (append only queues): this is how
    far behind the database the log falls meanwhile."""
    import threading

    lags: list[float] = []
    done = threading.Event()

    def live():
        i = 0
        while not done.is_set():
            started = time.perf_counter()
            now = datetime.now(timezone.utc)
            log.append([{"machine": f"mill-{m}", "probability": 0.3, "wear_state": "ok", "logged_at": now,
                         "run_id": 1} for m in range(hz_machines) for _ in range(10)])
            log.flush(timeout=None)
            lags.append(time.perf_counter() - started)
            i += 1
            time.sleep(max(0.0, 0.1 - (time.perf_counter() - started)))

    thread = threading.Thread(target=live)
    thread.start()
    try:
        result = prune()
    finally:
        done.set()
        thread.join()
    return lags, result


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def prune_one_day(folder: Path, hz: float) -> None:
    path = folder / "prune.db"
    log = PredictionLog(f"sqlite:///{path}", max_batch=5000, max_pending=2_000_000)
    started = time.perf_counter()
    rows = write_day(log, START, hz)
    wrote = time.perf_counter() - started
    checkpoint(log)
    bytes_per_row = size(path) / rows
    print(f"wrote one day at {MACHINES} machines x {hz:g} Hz: {rows:,} rows in {wrote:.1f} s "
          f"({rows / wrote:,.0f} rows/s); store {size(path) / 2**20:.1f} MB = {bytes_per_row:.0f} bytes/row "
          f"(index included)")
    idle, _ = live_writer_lag(log, lambda: time.sleep(10))
    print(f"live log beside no pruning: append -> commit p50 {percentile(idle, 0.5) * 1000:.0f} ms, "
          f"p99 {percentile(idle, 0.99) * 1000:.0f} ms, max {max(idle) * 1000:.0f} ms ({len(idle)} passes)")
    for pause in (0.0, 0.05):
        if pause:  # the same day again, pruned with the default pause between batches
            write_day(log, START, hz)
        pruner = Pruner(log.engine, Retention(days=30, pause_s=pause))
        lags, result = live_writer_lag(log, lambda: pruner.prune(now=START + timedelta(days=31)))
        # longest batch: its transaction, including any wait for the live writer's lock
        print(f"  live log beside this prune: append -> commit p50 {percentile(lags, 0.5) * 1000:.0f} ms, "
              f"p99 {percentile(lags, 0.99) * 1000:.0f} ms, max {max(lags) * 1000:.0f} ms ({len(lags)} passes)")
        print(f"pruned one day ({result.rows:,} rows, {result.batches} batches of 2,000, pause {pause:g} s): "
              f"{result.seconds:.1f} s = {result.seconds / result.rows * 1e6:.1f} s per million rows; longest batch "
              f"transaction {result.longest_batch_s * 1000:.0f} ms; {result.vacuumed_pages:,} pages given back; "
              f"a real day (6,912,000 rows) at this rate: {result.seconds / result.rows * 6_912_000 / 60:.1f} min")
    checkpoint(log)
    minutes, runs = count(log, prediction_minutes), count(log, prediction_runs)
    print(f"roll-ups of the day: {minutes:,} minute rows, {runs:,} run rows (their bytes per day: the steady-state "
          f"run below); store now {size(path) / 2**20:.2f} MB with {log.count():,} live-log rows left")
    log.close()


def steady_state(folder: Path, days: int, retention: float, hz: float) -> None:
    path = folder / "steady.db"
    log = PredictionLog(f"sqlite:///{path}", max_batch=5000)
    pruner = Pruner(log.engine, Retention(days=retention, pause_s=0))
    per_day = int(86_400 * hz) * MACHINES
    print(f"\nsteady state: {days} simulated days at {MACHINES} machines x {hz:g} Hz ({per_day:,} rows/day), "
          f"retention {retention:g} days")
    sizes = []
    for day in range(days):
        write_day(log, START + timedelta(days=day), hz)
        pruner.prune(now=START + timedelta(days=day + 1))
        checkpoint(log)
        sizes.append(size(path))
        if day % 5 == 4 or day == days - 1:
            print(f"  day {day + 1:3d}: {log.count():>10,} raw rows, {count(log, prediction_minutes):>8,} minute "
                  f"roll-ups, store {sizes[-1] / 2**20:8.1f} MB")
    full = int(retention) + 1
    if days > full + 2:
        growth = (sizes[-1] - sizes[full]) / (days - 1 - full)
        print(f"  after the retention is reached the store grows {growth / 2**10:.0f} KiB per day "
              f"(the roll-ups; minute roll-ups do not depend on the rate)")
    log.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--hz", type=float, default=1.0, help="per-machine rate of the pruned day (10 = real)")
    parser.add_argument("--days", type=int, default=45)
    parser.add_argument("--retention", type=float, default=30)
    parser.add_argument("--sim-hz", type=float, default=0.05, help="per-machine rate in the steady-state run")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="cncwear-retention-") as folder:
        prune_one_day(Path(folder), args.hz)
        steady_state(Path(folder), args.days, args.retention, args.sim_hz)


if __name__ == "__main__":
    os.environ.setdefault("CNCWEAR_HOME", tempfile.mkdtemp(prefix="cncwear-bench-home-"))
    main()
