"""The FLAML engine: runs in the main runtime, in-process, and emits the auto-sklearn job's events.

It is the portable engine (Windows shop-floor PCs cannot run auto-sklearn). The search is
restricted to scikit-learn estimators, so the model it finds is a plain scikit-learn estimator:
it is logged under the same skops trust policy as every other model and the explainers take it
unchanged. FLAML has no progress callback, so the scoring function is the hook: it is called
once per candidate, reports the previous candidate from FLAML's own trial log, and raises
``Cancelled`` when the task was cancelled (FLAML lets the exception through and stops).
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from .. import events
from ..tasks import Task, ensure_task
from .config import SearchConfig
from .jobs import JobEvent

ESTIMATORS = ("rf", "extra_tree", "histgb", "lrl1")
TREE_ENSEMBLES = ("rf", "extra_tree", "histgb")  # the "tree-ensembles" search space
ESTIMATOR_NAMES = {
    "rf": "random_forest",
    "extra_tree": "extra_trees",
    "histgb": "hist_gradient_boosting",
    "lrl1": "logistic_regression_l1",
}
HOLDOUT_SHARE = 0.33  # as auto-sklearn's holdout: the search scores on a third of its rows


@dataclass
class FlamlResult:
    estimator: object  # unfitted scikit-learn estimator with the best configuration found
    best_model: str
    best_score: float
    best_config: dict
    leaderboard: list[dict]  # one row per estimator family: best score, trials, best config
    events: list[JobEvent] = field(default_factory=list)


def run_flaml_search(
    X: np.ndarray,
    y: np.ndarray,
    groups: np.ndarray,
    feature_names: list[str],
    config: SearchConfig,
    task: Task | None = None,
    on_event: Callable[[JobEvent], None] | None = None,
) -> FlamlResult:
    task = ensure_task(task)
    config.check(y, groups, "flaml")
    import flaml
    from flaml.automl import AutoML
    from sklearn.base import clone

    events: list[JobEvent] = []
    started = time.monotonic()

    def emit(kind: str, **data) -> None:
        event = JobEvent(kind, data)
        events.append(event)
        if on_event is not None:
            on_event(event)

    with tempfile.TemporaryDirectory(prefix="cncwear-flaml-") as work:
        trials = _TrialLog(Path(work) / "trials.jsonl", emit, started)
        score = _scorer(config.metric)

        def metric(X_val, y_val, estimator, labels, X_train, y_train, *args, **kwargs):
            trials.drain()
            elapsed = time.monotonic() - started
            task.progress(min(0.8, 0.8 * elapsed / config.budget_s), f"{trials.count} candidates tried")
            value = score(estimator, X_val, y_val)
            return 1.0 - value, {config.metric: value}

        emit("started", budget_s=config.budget_s, rows=int(len(y)), features=int(X.shape[1]),
             resampling=config.resampling, flaml=flaml.__version__)
        automl = AutoML()
        automl.fit(
            X, y, task="classification", metric=metric, time_budget=config.budget_s, seed=config.seed,
            estimator_list=list(TREE_ENSEMBLES if config.search_space == "tree-ensembles" else ESTIMATORS),
            log_file_name=str(trials.path), log_type="all",
            retrain_full=False, verbose=0, mlflow_logging=False, **_resampling(config, groups),
        )
        trials.drain()
    if automl.model is None:
        raise RuntimeError(f"FLAML found no model within {config.budget_s} s; give it a larger budget")
    best_model = ESTIMATOR_NAMES.get(automl.best_estimator, automl.best_estimator)
    best_score = 1.0 - float(automl.best_loss)
    emit("ensemble", members=[{"model": best_model, "weight": 1.0, "score": round(best_score, 6)}])
    emit("done", elapsed_s=round(time.monotonic() - started, 2))
    task.progress(0.8, f"FLAML finished: {best_model} {best_score:.4f}")
    return FlamlResult(
        estimator=clone(automl.model.estimator),
        best_model=best_model,
        best_score=best_score,
        best_config=dict(automl.best_config),
        leaderboard=trials.leaderboard(),
        events=events,
    )


def _resampling(config: SearchConfig, groups: np.ndarray) -> dict:
    if config.resampling == "holdout":
        return {"eval_method": "holdout", "split_ratio": HOLDOUT_SHARE}
    if config.resampling == "grouped-holdout":
        return {"eval_method": "holdout", "split_ratio": HOLDOUT_SHARE, "split_type": "group", "groups": groups}
    if config.resampling == "cv":
        return {"eval_method": "cv", "n_splits": config.folds}
    return {"eval_method": "cv", "n_splits": config.folds, "split_type": "group", "groups": groups}


def _scorer(metric: str) -> Callable:
    from sklearn.metrics import accuracy_score, balanced_accuracy_score, f1_score, roc_auc_score

    if metric == "roc_auc":
        return lambda estimator, X, y: float(roc_auc_score(y, estimator.predict_proba(X)[:, 1]))
    function = {"accuracy": accuracy_score, "balanced_accuracy": balanced_accuracy_score, "f1": f1_score}[metric]
    return lambda estimator, X, y: float(function(y, estimator.predict(X)))


class _TrialLog:
    """Turns the lines FLAML appends to its trial log into 'trial' and 'best' events."""

    def __init__(self, path: Path, emit: Callable, started: float):
        self.path = path
        self.emit = emit
        self.started = started
        self.count = 0
        self.best: float | None = None
        self.records: list[dict] = []
        self._offset = 0

    def drain(self) -> None:
        if not self.path.is_file():
            return
        with open(self.path) as handle:
            handle.seek(self._offset)
            lines = handle.readlines()
            if lines and not lines[-1].endswith("\n"):
                lines.pop()  # a line FLAML is still writing: read it next time
            self._offset += sum(len(line) for line in lines)
        for line in lines:
            record = events.parse_line(line)
            if record is None or "learner" not in record:
                continue  # the summary FLAML writes at the end
            self._report(record)

    def _report(self, record: dict) -> None:
        self.count += 1
        self.records.append(record)
        model = ESTIMATOR_NAMES.get(record["learner"], record["learner"])
        score = round(1.0 - float(record["validation_loss"]), 6)
        elapsed = round(time.monotonic() - self.started, 2)
        self.emit("trial", n=self.count, model=model, score=score, duration_s=round(float(record["trial_time"]), 3),
                  status="SUCCESS", elapsed_s=elapsed)
        if self.best is None or score > self.best:
            self.best = score
            self.emit("best", n=self.count, model=model, score=score, elapsed_s=elapsed)

    def leaderboard(self) -> list[dict]:
        best: dict[str, dict] = {}
        for record in self.records:
            learner = record["learner"]
            score = 1.0 - float(record["validation_loss"])
            entry = best.setdefault(learner, {"model": ESTIMATOR_NAMES.get(learner, learner), "score": score,
                                              "trials": 0, "config": record["config"]})
            entry["trials"] += 1
            if score > entry["score"]:
                entry.update(score=score, config=record["config"])
        rows = sorted(best.values(), key=lambda row: -row["score"])
        return [{"rank": rank, **row, "score": round(row["score"], 6)} for rank, row in enumerate(rows, start=1)]
