"""`cncwear validate` and `cncwear predict` on a ~1 GB CSV made from the bundled experiments
(about nine shifts at 10 Hz), each in its own process: wall time, MB/s and peak RSS (goal
<= 400 MB RSS and >= 50 MB/s); and `cncwear predict` on the 25,286 bundled rows.

    .venv/bin/python benchmarks/large_file.py [--size-mb 1024] [--folder DIR] [--keep]

The file repeats the 18 experiments' data lines in order (header once), so it holds ~2,200 runs.
The champion is trained first (in a temporary CNCWEAR_HOME) and not timed.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cncwear_gui.paths import bundled_dataset_dir  # noqa: E402


def make_file(path: Path, size_mb: int) -> int:
    """Write the big CSV; returns its size in bytes."""
    files = sorted(bundled_dataset_dir().glob("experiment_*.csv"))
    texts = [f.read_bytes().replace(b"\r\n", b"\n").replace(b"\r", b"\n").rstrip(b"\n") + b"\n" for f in files]
    header = texts[0].split(b"\n", 1)[0] + b"\n"
    body = b"".join(t.split(b"\n", 1)[1] for t in texts)
    target = size_mb * 1024 * 1024
    with open(path, "wb") as handle:
        handle.write(header)
        while handle.tell() + len(body) <= target:
            handle.write(body)
    return path.stat().st_size


def run(args: list[str], env: dict) -> tuple[float, float, int, str]:
    """(wall s, peak RSS MB, exit code, stderr tail) of one `cncwear` process."""
    started = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-m", "cncwear_gui.cli", *args], env=env, cwd=ROOT,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    error = process.stderr.read().decode(errors="replace")[-500:]
    process.stderr.close()
    process.returncode = os.waitstatus_to_exitcode(status)
    return wall, usage.ru_maxrss / 1024, process.returncode, error


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size-mb", type=int, default=1024)
    parser.add_argument("--folder", type=Path, help="where to write the file (default: a temporary folder)")
    parser.add_argument("--keep", action="store_true", help="keep the file and the scores")
    args = parser.parse_args()
    folder = args.folder or Path(tempfile.mkdtemp(prefix="cncwear-large-"))
    folder.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "CNCWEAR_HOME": str(folder / "home")}
    big = folder / "nine_shifts.csv"
    size = make_file(big, args.size_mb)
    print(f"file: {big} ({size / 1e6:,.0f} MB)")
    wall, rss, code, error = run(["champion"], env)
    assert code == 0, error
    for name, command in (("validate", ["validate", str(big)]),
                          ("predict ", ["predict", str(big), "--out", str(folder / "scores.parquet")])):
        wall, rss, code, error = run(command, env)
        print(f"{name} {size / 1e6:,.0f} MB: {wall:6.1f} s, {size / 1e6 / wall:5.1f} MB/s, peak RSS {rss:5.0f} MB, exit {code}"
              + (f"\n  {error}" if code else ""))
    wall, rss, code, error = run(["predict", str(bundled_dataset_dir()), "--out", str(folder / "bundled.csv")], env)
    print(f"predict the bundled 25,286 rows: {wall:.2f} s (process start and model load included), "
          f"peak RSS {rss:.0f} MB, exit {code}")
    wall_help, *_ = run(["predict", "--help"], env)
    print(f"  (a bare `cncwear predict --help` process: {wall_help:.2f} s)")
    if not args.keep:
        for path in (big, folder / "scores.parquet", folder / "bundled.csv"):
            path.unlink(missing_ok=True)


if __name__ == "__main__":
    main()
