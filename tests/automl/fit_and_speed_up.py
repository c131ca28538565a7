"""Run by test_sidecar_speedups.py in the AutoML runtime (Python 3.9, auto-sklearn 0.15):

    <automl python> fit_and_speed_up.py ROWS.npz OUT.json

Fits one auto-sklearn pipeline per step sidecar_speedups.py speeds up (each with the component's
default hyperparameters, on the real rows given), keeps an untouched copy of each, speeds the
fitted one up, and writes what both predict for a few batch sizes to OUT.json. Then the same for
a forest whose fast path fails while it is being installed: it must keep scikit-learn's.
"""

import copy
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "cncwear_gui" / "automl"))  # as the sidecar imports it
import sidecar_speedups  # noqa: E402
from sidecar_speedups import MAX_ROWS, speed_up_pipelines  # noqa: E402

PIPELINES = {  # feature preprocessor, classifier
    "embedding → forest": ("random_trees_embedding", "random_forest"),  # the forest sees a sparse matrix
    "extra-trees selection → boosting": ("extra_trees_preproc_for_classification", "gradient_boosting"),
    "linear-SVC selection → extra trees": ("liblinear_svc_preprocessor", "extra_trees"),
}


def fit(X, y, preprocessor, classifier):
    from autosklearn.pipeline.classification import SimpleClassificationPipeline

    include = {"feature_preprocessor": [preprocessor], "classifier": [classifier]}
    feat_type = {i: "numerical" for i in range(X.shape[1])}
    space = SimpleClassificationPipeline(include=include, feat_type=feat_type).get_hyperparameter_search_space(
        feat_type=feat_type)
    pipeline = SimpleClassificationPipeline(config=space.get_default_configuration(), include=include,
                                            feat_type=feat_type, random_state=1)
    return pipeline.fit(X, y)


def main(rows_path, out_path):
    rows = np.load(rows_path)
    X, y, X_new = rows["X"], rows["y"], rows["X_new"]
    report = {"max_rows": MAX_ROWS}
    for name, (preprocessor, classifier) in PIPELINES.items():
        fast = fit(X, y, preprocessor, classifier)
        plain = copy.deepcopy(fast)
        counts = speed_up_pipelines([fast])
        batches = {}
        for size in (1, 3, 7, MAX_ROWS, MAX_ROWS + 1):  # all trees at once, per tree, and scikit-learn's own path
            batch = X_new[np.resize(np.arange(len(X_new)), size)]
            batches[size] = {"fast": fast.predict_proba(batch.copy()).tolist(),
                             "plain": plain.predict_proba(batch.copy()).tolist()}
        report[name] = {"counts": counts, "batches": batches}

    class Broken:
        def __init__(self, *args):
            raise RuntimeError("a forest unlike the ones the fast path knows")

    plain = fit(X, y, "no_preprocessing", "random_forest")
    fast = copy.deepcopy(plain)
    sidecar_speedups.ForestSum = Broken
    counts = speed_up_pipelines([fast])
    batch = X_new[:3]
    report["failed install"] = {"counts": counts, "batches": {3: {"fast": fast.predict_proba(batch).tolist(),
                                                                  "plain": plain.predict_proba(batch).tolist()}}}
    Path(out_path).write_text(json.dumps(report))


if __name__ == "__main__":
    main(*sys.argv[1:3])
