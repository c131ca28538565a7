"""The auto-sklearn job: a real run's figures, the prediction sidecar's round trips (targets: one
row <= 20 ms, 5,000 rows <= 0.5 s), and how fast Cancel empties the job's process group (target:
the whole process tree gone within 2 s).

    .venv/bin/python benchmarks/automl_job.py [--budget 60] [--rows 3000]
    .venv/bin/python benchmarks/automl_job.py --model DIR/model.pkl   # the sidecar figures only, for a saved model

A run saves its model under $CNCWEAR_HOME/automl-models/ (a temporary home unless set), so a later
run can time the sidecar on the same ensemble with ``--model``.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import threading
import time

import numpy as np

os.environ.setdefault("CNCWEAR_HOME", tempfile.mkdtemp())

from cncwear_gui.automl.config import SearchConfig  # noqa: E402
from cncwear_gui.automl.jobs import run_autosklearn_job  # noqa: E402
from cncwear_gui.process_groups import group_alive  # noqa: E402
from cncwear_gui.data.dataset import load_dataset  # noqa: E402
from cncwear_gui.features.sets import get_feature_set, training_matrix  # noqa: E402
from cncwear_gui.paths import bundled_dataset_dir  # noqa: E402
from cncwear_gui.tasks import Cancelled, Task  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--budget", type=int, default=60)
    parser.add_argument("--rows", type=int, default=3000)
    parser.add_argument("--model", help="a saved auto-sklearn model.pkl: time its sidecar, train nothing")
    args = parser.parse_args()
    feature_set = get_feature_set("seed_slides")
    X, y, groups = training_matrix(load_dataset([bundled_dataset_dir()]).samples(), feature_set)
    rows = np.random.default_rng(0).choice(len(y), min(args.rows, len(y)), replace=False)
    data = (X[rows], y[rows], groups[rows], list(feature_set.columns))

    if args.model:
        time_sidecar(args.model, data)
        return
    started = time.perf_counter()
    result = run_autosklearn_job(*data, SearchConfig(budget_s=args.budget))
    trials = [e for e in result.events if e.kind == "trial"]
    best = [e.data["score"] for e in result.events if e.kind == "best"]
    print(f"real run: budget {args.budget} s on {len(rows):,} rows took {time.perf_counter() - started:.1f} s; "
          f"{len(trials)} trials, best holdout accuracy {best[-1] if best else 'n/a'}, ensemble {result.ensemble['members']}")
    print(f"model: {result.model_path}")
    time_sidecar(result.model_path, data)
    time_cancel(data)


def time_sidecar(model_path, data) -> None:
    from cncwear_gui.models.predictor import SidecarPredictor

    predictor = SidecarPredictor(model_path, data[3])
    started = time.perf_counter()
    predictor.predict_proba(data[0][:1])
    print(f"sidecar start + first call: {time.perf_counter() - started:.2f} s "
          f"(on the sidecar's small-batch paths: {predictor.fast_steps})")
    pings = [predictor.ping() for _ in range(50)]
    print(f"sidecar pipe round trip (ping, no model call): median {np.median(pings) * 1000:.2f} ms")
    for rows in (1, 5000):
        times = []
        for i in range(40 if rows == 1 else 5):  # one row: 40 different rows, as the live engine sends them
            batch = data[0][i:i + 1] if rows == 1 else data[0][np.resize(np.arange(len(data[0])), rows)]
            started = time.perf_counter()
            predictor.predict_proba(batch)
            times.append(time.perf_counter() - started)
        print(f"sidecar predict_proba, {rows:,} row(s): median {np.median(times) * 1000:.1f} ms, best {min(times) * 1000:.1f} ms")
    predictor.close()


def time_cancel(data) -> None:
    task, pid, cancelled_at = Task(), {}, {}

    def on_event(event):
        if event.kind == "started":
            pid["job"] = event.data["pid"]
        if event.kind == "trial" and "t" not in cancelled_at:
            cancelled_at["t"] = time.perf_counter()
            threading.Thread(target=task.cancel).start()

    try:
        run_autosklearn_job(*data, SearchConfig(budget_s=120), task=task, on_event=on_event)
    except Cancelled:
        pass
    while group_alive(pid["job"]):
        time.sleep(0.01)
    print(f"cancel → whole process group gone in {time.perf_counter() - cancelled_at['t']:.2f} s (target <= 2 s)")


if __name__ == "__main__":
    main()
