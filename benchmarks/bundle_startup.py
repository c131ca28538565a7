"""Cold start of the built bundle to its first painted window (target <= 3 s), and its size.

    bash packaging/build.sh --no-smoke          # once
    .venv/bin/python benchmarks/bundle_startup.py [--bundle packaging/dist/cncwear] [--repeat N]

Each run is a fresh process of the bundle's own program, offscreen, with empty stores. The time is
wall-clock from spawning it (bootloader included; one-folder unpacks nothing) to the first paint of
the main window, the same window code benchmarks/gui_startup.py measures from source. The OS file
cache is warm after the first run, so the first figure is the closest to a start after a reboot.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from gui_startup import CHILD

ROOT = Path(__file__).resolve().parent.parent


def folder_size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file() and not f.is_symlink())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--bundle", type=Path, default=ROOT / "packaging" / "dist" / "cncwear")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    program = args.bundle / "cncwear"
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "CNCWEAR_HOME": tempfile.mkdtemp(), "CNCWEAR_CONFIG_DIR": tempfile.mkdtemp()}
    walls, inside = [], []
    for _ in range(args.repeat):
        started = time.perf_counter()
        out = subprocess.run([str(program), "-c", CHILD], capture_output=True, text=True, env=env, check=True).stdout.split()
        walls.append(time.perf_counter() - started)
        inside.append(float(out[0]))
    print(f"bundle start to first painted window: first run {walls[0]:.3f} s, best {min(walls):.3f} s, median {statistics.median(walls):.3f} s "
          f"(target <= 3 s; of which after the interpreter started: median {statistics.median(inside):.3f} s)")
    for part in ("_internal", "automl-runtime"):
        if (args.bundle / part).is_dir():
            print(f"size of {part}: {folder_size(args.bundle / part) / 2**20:,.0f} MiB")
    print(f"bundle size: {folder_size(args.bundle) / 2**20:,.0f} MiB in {args.bundle}")


if __name__ == "__main__":
    main()
