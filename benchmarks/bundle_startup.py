"""Cold start of the built bundle to its first painted window (target <= 3 s), and its size.

    bash packaging/build.sh --no-smoke          # once
    .venv/bin/python benchmarks/bundle_startup.py [--bundle packaging/dist/cncwear] [--repeat N] [--top N]
    .venv/bin/python benchmarks/bundle_startup.py --sizes-only [--top N]     # sizes only (packaging/build.sh)

Each run is a fresh process of the bundle's own program, offscreen, with empty stores. The time is
wall-clock from spawning it (bootloader included; one-folder unpacks nothing) to the first paint of
the main window, the same window code benchmarks/gui_startup.py measures from source. The OS file
cache is warm after the first run, so the first figure is the closest to a start after a reboot.

Sizes are the bytes of the bundle's files (symbolic links not counted), in MiB: what an archive of
the folder holds. ``du -sm`` counts allocated blocks and reads a few per cent higher. Per part: the
executable (the bootloader and the archive of Python modules), ``_internal`` (Python 3.11, Qt, the
libraries) and ``automl-runtime`` (Python 3.9 with auto-sklearn), each with its biggest entries.
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
MIB = 2**20


def folder_size(path: Path) -> int:
    if path.is_symlink():
        return 0
    if path.is_file():
        return path.stat().st_size
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file() and not f.is_symlink())


def biggest(folder: Path, top: int) -> str:
    entries = sorted(((folder_size(child), child.name) for child in folder.iterdir()), reverse=True)[:top]
    return ", ".join(f"{name} {size / MIB:,.1f}" for size, name in entries)


def print_sizes(bundle: Path, top: int) -> None:
    total = folder_size(bundle)
    print(f"bundle size: {total / MIB:,.0f} MiB in {bundle}")
    program = bundle / "cncwear"
    if program.is_file():
        print(f"  cncwear (the executable and its archive of Python modules): {folder_size(program) / MIB:,.0f} MiB")
    internal = bundle / "_internal"
    if internal.is_dir():
        print(f"  _internal: {folder_size(internal) / MIB:,.0f} MiB; biggest (MiB): {biggest(internal, top)}")
    runtime = bundle / "automl-runtime"
    if runtime.is_dir():
        packages = next(runtime.glob("lib/python3*/site-packages"), None)
        print(f"  automl-runtime: {folder_size(runtime) / MIB:,.0f} MiB", end="")
        if packages is not None:
            rest = folder_size(runtime) - folder_size(packages)
            print(f"; the interpreter and standard library {rest / MIB:,.0f} MiB; site-packages "
                  f"{folder_size(packages) / MIB:,.0f} MiB, biggest (MiB): {biggest(packages, top)}")
        else:
            print()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--bundle", type=Path, default=ROOT / "packaging" / "dist" / "cncwear")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--top", type=int, default=10, help="how many of each part's biggest entries to name")
    parser.add_argument("--sizes-only", action="store_true", help="print the sizes without starting the bundle")
    args = parser.parse_args()
    if not args.sizes_only:
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
    print_sizes(args.bundle, args.top)


if __name__ == "__main__":
    main()
