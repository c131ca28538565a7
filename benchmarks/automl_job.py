"""The auto-sklearn job: a real run's figures, and how fast Cancel empties its process group
(target: the whole process tree gone within 2 s).

    .venv/bin/python benchmarks/automl_job.py [--budget 60] [--rows 3000]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import threading
import time

import numpy as np

os.environ.setdefault("CNCWEAR_HOME", tempfile.mkdtemp())

from cncwear_gui.automl.jobs import AutoSklearnConfig, group_alive, run_autosklearn_job  # noqa: E402
from cncwear_gui.data.dataset import load_dataset  # noqa: E402
from cncwear_gui.features.sets import get_feature_set, training_matrix  # noqa: E402
from cncwear_gui.paths import bundled_dataset_dir  # noqa: E402
from cncwear_gui.tasks import Cancelled, Task  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--budget", type=int, default=60)
    parser.add_argument("--rows", type=int, default=3000)
    args = parser.parse_args()
    feature_set = get_feature_set("seed_slides")
    X, y, groups = training_matrix(load_dataset([bundled_dataset_dir()]).samples(), feature_set)
    rows = np.random.default_rng(0).choice(len(y), min(args.rows, len(y)), replace=False)
    data = (X[rows], y[rows], groups[rows], list(feature_set.columns))

    started = time.perf_counter()
    result = run_autosklearn_job(*data, AutoSklearnConfig(budget_s=args.budget))
    trials = [e for e in result.events if e.kind == "trial"]
    best = [e.data["score"] for e in result.events if e.kind == "best"]
    print(f"real run: budget {args.budget} s on {len(rows):,} rows took {time.perf_counter() - started:.1f} s; "
          f"{len(trials)} trials, best holdout accuracy {best[-1] if best else 'n/a'}, ensemble {result.ensemble['members']}")

    task, pid, cancelled_at = Task(), {}, {}

    def on_event(event):
        if event.kind == "started":
            pid["job"] = event.data["pid"]
        if event.kind == "trial" and "t" not in cancelled_at:
            cancelled_at["t"] = time.perf_counter()
            threading.Thread(target=task.cancel).start()

    try:
        run_autosklearn_job(*data, AutoSklearnConfig(budget_s=120), task=task, on_event=on_event)
    except Cancelled:
        pass
    while group_alive(pid["job"]):
        time.sleep(0.01)
    print(f"cancel → whole process group gone in {time.perf_counter() - cancelled_at['t']:.2f} s (target <= 2 s)")


if __name__ == "__main__":
    main()
