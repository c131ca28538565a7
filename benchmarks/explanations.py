"""Explanation timings against the targets, for (a) the first-start champion's Random Forest in-process and (b) an
auto-sklearn model served by the AutoML sidecar (trained here on 3,000 rows of the seed split's
training rows, ``signals`` feature set). Explainers are built once per model and reused, as the
app does; the first call of each method (imports, fitting) is reported apart.

Targets: TreeSHAP one row <= 20 ms (median), LIME one row <= 0.3 s, Anchor one row <= 2 s at
precision >= 0.95, surrogate agreement >= 0.95 at depth <= 6 on held-out rows with its fit <= 2 s
on 25k rows, PDP+ICE for one feature <= 0.5 s, and on the sidecar each method within 3x of its
in-process time.

    .venv/bin/python benchmarks/explanations.py [--budget 30] [--skip-sidecar] [--anchor-rows 10]
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
from cncwear_gui.models.evaluation import seed_split  # noqa: E402
from cncwear_gui.paths import bundled_dataset_dir  # noqa: E402

FEATURE = "X1_OutputCurrent"


def timed(call) -> tuple[float, object]:
    started = time.perf_counter()
    result = call()
    return time.perf_counter() - started, result


def measure(name: str, engine: ExplanationEngine, X: np.ndarray, y_model, train: np.ndarray, test: np.ndarray,
            anchor_rows: int) -> dict:
    """Every method on one model; returns the figures the comparison needs."""
    rows = test[np.random.default_rng(1).choice(len(test), 30, replace=False)]
    figures = {}
    print(f"\n== {name}")
    model = engine.predictor
    one = np.median([timed(lambda: model.predict_proba(X[rows[:1]]))[0] for _ in range(10)])
    batch = np.median([timed(lambda: model.predict_proba(X[test[:5000]]))[0] for _ in range(3)])
    everything = timed(lambda: model.predict_proba(X))[0]
    print(f"the model alone, predict_proba: 1 row {one * 1000:.0f} ms, 5,000 rows {batch * 1000:.0f} ms, "
          f"all {len(X):,} rows {everything:.2f} s")

    first, result = timed(lambda: engine.shap_local(X[rows[0]]))
    times = [timed(lambda i=i: engine.shap_local(X[i]))[0] for i in rows[1:16]]
    figures["shap"] = np.median(times)
    print(f"SHAP one row ({result.explainer_kind}): median {np.median(times) * 1000:.0f} ms over {len(times)} rows, "
          f"max {max(times) * 1000:.0f} ms (first call with import and setup {first:.2f} s); "
          f"additivity error {result.additivity_error:.1e}")

    first, _ = timed(lambda: engine.lime(X[rows[0]]))
    times = [timed(lambda i=i: engine.lime(X[i]))[0] for i in rows[1:8]]
    figures["lime"] = np.median(times)
    print(f"LIME one row (5,000 samples): median {np.median(times):.3f} s, max {max(times):.3f} s (first {first:.2f} s)")

    first, _ = timed(lambda: engine.anchor(X[rows[0]]))
    anchors = [engine.anchor(X[i]) for i in rows[1:1 + anchor_rows]]
    seconds = np.array([a.seconds for a in anchors])
    met = [a for a in anchors if a.threshold_met]
    figures["anchor"] = np.median(seconds)
    print(f"Anchor one row: median {np.median(seconds):.2f} s, max {seconds.max():.2f} s over {len(anchors)} rows "
          f"(first, with import and fit, {first:.2f} s); threshold 0.95 met for {len(met)}/{len(anchors)}")
    if met:
        precision = np.array([a.precision for a in met])
        coverage = np.array([a.coverage for a in met])
        print(f"  where met: alibi precision min {precision.min():.3f} median {np.median(precision):.3f}, "
              f"coverage median {np.median(coverage):.3f} (min {coverage.min():.3f})")
        recorded = []
        for a in met:
            keep = np.ones(len(train), bool)
            for condition in a.conditions:
                keep &= condition.holds(X[train, engine.feature_names.index(condition.feature)])
            if keep.any():
                recorded.append(np.mean(y_model[train][keep] == engine.class_names.index(a.predicted)))
        if recorded:
            print(f"  the same rules on the recorded training rows that match them: the model agrees "
                  f"min {min(recorded):.3f}, median {np.median(recorded):.3f}, "
                  f"{np.mean(np.array(recorded) >= 0.95):.0%} of rules at >= 0.95")
    for a in anchors[:3]:
        print(f"  e.g. IF {' AND '.join(a.rule) or '(empty)'} THEN {a.predicted.upper()}: precision {a.precision:.3f}, "
              f"coverage {a.coverage:.3f}, {a.seconds:.2f} s")

    times = [timed(lambda: engine.dependence(X[test], FEATURE))[0] for _ in range(5)]
    figures["dependence"] = np.median(times)
    print(f"PDP+ICE for {FEATURE} (200 rows x grid, one model call): median {np.median(times):.3f} s")

    for depth in (4, 6, 8, 10, 12):  # past 6 (the target's limit): the depth this model would need
        result = engine.surrogate(X[train], X[test], max_depth=depth)
        print(f"surrogate depth {depth} on {len(train) + len(test):,} rows: held-out agreement {result.fidelity:.4f} "
              f"(train {result.train_fidelity:.4f}), {result.n_leaves} leaves, {result.seconds:.2f} s with labelling")
        if depth == 6:
            figures["surrogate"] = result.seconds
            figures["surrogate_fidelity"] = result.fidelity
    chosen = engine.surrogate(X[train], X[test], max_depth=6, choose_depth=True)
    print(f"surrogate, depth chosen on training rows: depth {chosen.depth}, held-out agreement {chosen.fidelity:.4f}, "
          f"{chosen.seconds:.2f} s; validation fidelity by depth {chosen.depth_fidelities}")

    _, summary = timed(lambda: engine.shap_global(X[test], max_rows=100))
    print(f"SHAP summary over {summary.n_rows} rows: {summary.seconds:.1f} s; top features {summary.features[:5]}")
    return figures


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--budget", type=int, default=30, help="auto-sklearn budget in seconds for the sidecar model")
    parser.add_argument("--skip-sidecar", action="store_true")
    parser.add_argument("--anchor-rows", type=int, default=10)
    args = parser.parse_args()
    logging.disable(logging.WARNING)  # alibi warns on every row whose threshold is not met

    feature_set = get_feature_set("signals")
    X, y, groups = training_matrix(load_dataset([bundled_dataset_dir()]).samples(), feature_set)
    names = list(feature_set.columns)
    train, test = seed_split(y)
    background = X[np.sort(np.random.default_rng(0).choice(train, 2000, replace=False))]

    fit_time, forest = timed(lambda: quick_forest(0).fit(X[train], y[train]))
    print(f"the first-start champion's recipe, a Random Forest of {forest.n_estimators} trees (n_jobs={forest.n_jobs}): "
          f"fitted in {fit_time:.1f} s on {len(train):,} rows")
    local = measure("Random Forest in-process", ExplanationEngine(forest, names, background, seed=0), X,
                    forest.predict(X), train, test, args.anchor_rows)
    rows = [
        ("TreeSHAP one row", "<= 0.020 s", local["shap"], local["shap"] <= 0.020),
        ("LIME one row", "<= 0.3 s", local["lime"], local["lime"] <= 0.3),
        ("Anchor one row (median)", "<= 2 s", local["anchor"], local["anchor"] <= 2),
        ("surrogate fit, depth 6, 25k rows", "<= 2 s", local["surrogate"], local["surrogate"] <= 2),
        ("surrogate agreement, depth 6", ">= 0.95", local["surrogate_fidelity"], local["surrogate_fidelity"] >= 0.95),
        ("PDP+ICE one feature", "<= 0.5 s", local["dependence"], local["dependence"] <= 0.5),
    ]
    if not args.skip_sidecar:
        from cncwear_gui.automl.config import SearchConfig
        from cncwear_gui.automl.jobs import run_autosklearn_job
        from cncwear_gui.models.predictor import SidecarPredictor

        fit_rows = np.sort(np.random.default_rng(0).choice(train, 3000, replace=False))
        fit_time, job = timed(lambda: run_autosklearn_job(X[fit_rows], y[fit_rows], groups[fit_rows], names,
                                                          SearchConfig(budget_s=args.budget, seed=1)))
        print(f"\nauto-sklearn, budget {args.budget} s on 3,000 rows: {fit_time:.0f} s; ensemble {job.ensemble['members']}")
        predictor = SidecarPredictor(job.model_path, names)
        try:
            start, _ = timed(lambda: predictor.predict_proba(X[:1]))
            print(f"sidecar start + first call {start:.1f} s")
            remote = measure("auto-sklearn through the sidecar", ExplanationEngine(predictor, names, background, seed=0),
                             X, predictor.predict_proba(X).argmax(axis=1), train, test, args.anchor_rows)
        finally:
            predictor.close()
        for method, label in (("shap", "SHAP"), ("lime", "LIME"), ("anchor", "Anchor"), ("dependence", "PDP+ICE"),
                              ("surrogate", "surrogate")):
            ratio = remote[method] / local[method]
            rows.append((f"sidecar {label} / in-process", "<= 3x", ratio, ratio <= 3))
        rows.append(("sidecar surrogate agreement, depth 6", ">= 0.95", remote["surrogate_fidelity"],
                     remote["surrogate_fidelity"] >= 0.95))
    print("\n== against the targets")
    for label, target, value, ok in rows:
        print(f"{label:40s} {target:>10s}  {value:10.4g}  {'ok' if ok else 'MISSED'}")


if __name__ == "__main__":
    main()
