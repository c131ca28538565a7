"""Export of the prediction log to Parquet: rows, seconds and peak memory (issue 24; goal < 300 MB RSS).

Fills a SQLite prediction log in a temp folder with ``--rows`` rows (default 1,000,000: 8
machines, a sample every 100 ms, a run every 20 minutes, P(worn) rising) by bulk insert through
the store's own table, then runs ``cncwear_gui.store.exports.export`` in a child process (so its
peak RSS is the export's, not the filling's) and prints rows, seconds, MB/s of the file, the
child's RSS after its imports and its peak RSS (VmHWM, reset after the imports, so it is the export's peak with
the imports' pages that stay resident). ``--format csv`` times the CSV
export instead; ``--keep`` leaves the temp folder.

    .venv/bin/python benchmarks/export.py [--rows 1000000] [--format parquet|csv] [--chunk 20000]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

MACHINES = 8
START = datetime(2026, 11, 2, 6, 0, tzinfo=timezone.utc)


def fill(url: str, rows: int, batch: int = 50_000) -> float:
    """``rows`` prediction rows, inserted ``batch`` at a time; returns the seconds it took."""
    from cncwear_gui.store.prediction_log import make_engine, prediction_log

    engine = make_engine(url)
    started = time.perf_counter()
    done = 0
    with engine.begin() as conn:
        while done < rows:
            chunk = []
            for n in range(done, min(rows, done + batch)):
                step, machine = divmod(n, MACHINES)
                at = START + timedelta(milliseconds=100 * step)
                p = ((step * 7 + machine * 13) % 1000) / 1000
                chunk.append({"logged_at": at, "machine": f"mill-{machine + 1}", "sample_time": at,
                              "model_version": "3", "probability": p, "wear_state": "worn" if p > 0.8 else "ok",
                              "quality_flags": 1 if n % 97 == 0 else 0,
                              "run_id": int(at.timestamp() // 1200) * 1_000_000})
            conn.execute(prediction_log.insert(), chunk)
            done += len(chunk)
    engine.dispose()
    return time.perf_counter() - started


def memory_kb(field: str) -> int | None:
    """VmRSS / VmHWM of this process from /proc (Linux): unlike ``ru_maxrss``, whose high-water
    mark survives exec and would be the parent's, VmHWM belongs to this process's own memory."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return None


def child(url: str, out: str, fmt: str, chunk: int) -> None:
    """In the child: import, note the RSS, export, print figures as one JSON line."""
    import resource

    from cncwear_gui.store.exports import export

    import pyarrow  # noqa: F401 - imported by the export anyway; counted in the baseline
    import pyarrow.compute  # noqa: F401
    import pyarrow.csv  # noqa: F401
    import pyarrow.parquet  # noqa: F401

    baseline = memory_kb("VmRSS")
    try:
        Path("/proc/self/clear_refs").write_text("5")  # reset VmHWM: the peak of the export itself
    except OSError:
        pass
    started = time.perf_counter()
    result = export("predictions", out, url, fmt, chunk_rows=chunk)
    seconds = time.perf_counter() - started
    peak = memory_kb("VmHWM") or resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"rows": result.rows, "seconds": seconds, "baseline_kb": baseline or 0, "peak_kb": peak}),
          flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--format", choices=["parquet", "csv"], default="parquet")
    from cncwear_gui.store.exports import CHUNK_ROWS

    parser.add_argument("--chunk", type=int, default=CHUNK_ROWS, help="rows per chunk (Parquet row group)")
    parser.add_argument("--keep", action="store_true", help="keep the temp folder")
    parser.add_argument("--child", nargs=2, metavar=("URL", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child, args.format, args.chunk)
        return 0

    folder = Path(tempfile.mkdtemp(prefix="cncwear-export-bench-"))
    try:
        url = f"sqlite:///{folder / 'features.db'}"
        fill_s = fill(url, args.rows)
        store_mb = sum(p.stat().st_size for p in folder.iterdir()) / 2**20
        print(f"filled {args.rows:,} prediction rows in {fill_s:.1f} s (store {store_mb:.0f} MB)")
        out = folder / f"predictions.{args.format}"
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        done = subprocess.run([sys.executable, __file__, "--child", url, str(out), "--format", args.format,
                               "--chunk", str(args.chunk)], env=env, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            print(done.stderr, file=sys.stderr)
            return 1
        figures = json.loads(done.stdout.strip().splitlines()[-1])
        size_mb = out.stat().st_size / 2**20
        import pyarrow.parquet as pq

        read_back = pq.ParquetFile(out).metadata.num_rows if args.format == "parquet" else None
        print(f"export to {args.format}: {figures['rows']:,} rows in {figures['seconds']:.2f} s "
              f"({figures['rows'] / figures['seconds']:,.0f} rows/s), file {size_mb:.1f} MB"
              + (f", {read_back:,} rows read back" if read_back is not None else ""))
        print(f"child RSS after imports {figures['baseline_kb'] / 1024:.0f} MB, peak RSS {figures['peak_kb'] / 1024:.0f} MB "
              f"(goal < 300 MB); chunk {args.chunk:,} rows")
    finally:
        if args.keep:
            print(f"kept {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
