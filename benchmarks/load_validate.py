"""Load + validate all bundled files (target: <= 0.5 s for 25,286 rows), and a bare pandas read.

    .venv/bin/python benchmarks/load_validate.py [--repeat N]
"""

from __future__ import annotations

import argparse
import statistics
import time

import pandas as pd

from cncwear_gui.data.dataset import load_dataset
from cncwear_gui.paths import bundled_dataset_dir


def timed(function, repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return times


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    folder = bundled_dataset_dir()
    files = sorted(folder.glob("experiment_*.csv"))
    load_dataset([folder])  # warm the page cache and imports

    dataset = load_dataset([folder])
    ours = timed(lambda: load_dataset([folder]), args.repeat)
    bare = timed(lambda: [pd.read_csv(f) for f in files], args.repeat)
    print(f"rows: {dataset.rows:,} in {len(dataset.experiments)} experiments; all files ok: {dataset.ok}")
    print(f"load + validate (cncwear): best {min(ours):.3f} s, median {statistics.median(ours):.3f} s  (target <= 0.5 s)")
    print(f"bare pandas.read_csv:      best {min(bare):.3f} s, median {statistics.median(bare):.3f} s")


if __name__ == "__main__":
    main()
