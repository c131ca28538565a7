"""The first-start forest's size: what a depth limit, or fewer trees, costs in accuracy on unseen experiments and
what it buys in explanation speed, on the bundled dataset (``signals``, the set the first start
chooses there).

For each forest (trees x max_depth): LOEO accuracy and F1 (the promotion gate's protocol: 18 folds, one
experiment held out each), the fit on all rows, TreeSHAP for one row as the Explanations view
computes it (median of 15 rows), and the depth-6 surrogate's agreement with the forest on the
seed split's held-out rows. Targets (issue 25): TreeSHAP <= 20 ms per row, surrogate >= 0.95.

    .venv/bin/python benchmarks/first_start_depth.py [--forests 100xnone,100x12,50xnone,30xnone]
"""

from __future__ import annotations

import argparse
import logging
import os
import tempfile
import time

import numpy as np

os.environ.setdefault("CNCWEAR_HOME", tempfile.mkdtemp())

from cncwear_gui.data.dataset import load_dataset  # noqa: E402
from cncwear_gui.explain import ExplanationEngine  # noqa: E402
from cncwear_gui.features.sets import get_feature_set, training_matrix  # noqa: E402
from cncwear_gui.models.first_start import quick_forest  # noqa: E402
from cncwear_gui.models.evaluation import evaluate_loeo, seed_split  # noqa: E402
from cncwear_gui.paths import bundled_dataset_dir  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--forests", default="100xnone,100x16,100x12,100x10,100x8,50xnone,30xnone",
                        help="TREESxDEPTH, comma-separated (depth none: unlimited)")
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    feature_set = get_feature_set("signals")
    X, y, groups = training_matrix(load_dataset([bundled_dataset_dir()]).samples(), feature_set)
    names = list(feature_set.columns)
    train, test = seed_split(y)
    background = X[np.sort(np.random.default_rng(0).choice(train, 2000, replace=False))]
    rows = test[np.random.default_rng(1).choice(len(test), 16, replace=False)]
    print(f"{len(y):,} rows, {len(set(groups))} experiments; Random Forest, min_samples_leaf=2, seed 0")
    print(f"{'trees x depth':>13} | {'LOEO acc':>8} | {'LOEO F1':>7} | {'fit s':>5} | {'leaves/tree':>11} | "
          f"{'TreeSHAP ms/row':>15} | {'surrogate d6':>12}")
    for text in args.forests.split(","):
        trees, depth_text = text.strip().lower().split("x")
        params = {"n_estimators": int(trees), "max_depth": None if depth_text == "none" else int(depth_text)}
        loeo = evaluate_loeo(quick_forest(0).set_params(**params), X, y, groups, refit=False)
        started = time.perf_counter()
        fitted = quick_forest(0).set_params(**params).fit(X, y)
        fit_s = time.perf_counter() - started
        leaves = np.mean([tree.get_n_leaves() for tree in fitted.estimators_])
        engine = ExplanationEngine(quick_forest(0).set_params(**params).fit(X[train], y[train]), names,
                                   background, seed=0)
        engine.shap_local(X[rows[0]])  # the first call builds the explainer
        shap_ms = np.median([_seconds(lambda i=i: engine.shap_local(X[i])) for i in rows[1:]]) * 1000
        surrogate = engine.surrogate(X[train], X[test], max_depth=6)
        print(f"{text:>13} | {loeo.metrics['accuracy']:8.4f} | {loeo.metrics['f1']:7.4f} | {fit_s:5.1f} | "
              f"{leaves:11.0f} | {shap_ms:15.1f} | {surrogate.fidelity:12.4f}", flush=True)


def _seconds(call) -> float:
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


if __name__ == "__main__":
    main()
