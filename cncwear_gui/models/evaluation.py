"""Evaluation protocols and the metrics of the talk's table.

- ``seed``: stratified random 80/20 row split, as the talk did. Neighbouring 100 ms samples of
  the same run land on both sides, so this measures recognising runs, not tools.
- ``loeo``: leave-one-experiment-out. No row of the held-out experiment is seen in training;
  reported per row and per experiment (the tool verdict over its rows, models/verdict.py).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
from sklearn.base import ClassifierMixin, clone
from sklearn.metrics import accuracy_score, f1_score, matthews_corrcoef, precision_score, recall_score
from sklearn.model_selection import LeaveOneGroupOut, train_test_split

from ..tasks import Task, ensure_task
from .verdict import tool_verdict

PROTOCOLS = ("seed", "loeo")
PROTOCOL_LABELS = {
    "seed": "seed: stratified random 80/20 row split (as in the talk; optimistic, rows of a run on both sides)",
    "loeo": "loeo: leave-one-experiment-out (the honest figure for the next, unseen tool)",
}
TEST_SIZE = 0.2


def classification_metrics(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, float]:
    """Accuracy, precision, recall and F1 for the 'worn' class, and MCC (the talk's correlation)."""
    return {
        "accuracy": float(accuracy_score(y_true, y_pred)),
        "precision": float(precision_score(y_true, y_pred, zero_division=0)),
        "recall": float(recall_score(y_true, y_pred, zero_division=0)),
        "f1": float(f1_score(y_true, y_pred, zero_division=0)),
        "mcc": float(matthews_corrcoef(y_true, y_pred)),
    }


@dataclass
class ExperimentVerdict:
    experiment: int
    true_worn: bool
    worn_share: float  # share of the experiment's rows predicted worn
    rows: int
    row_accuracy: float
    confidence: float = 0.5  # of the verdict (models/verdict.py); 0.5 when not known

    @property
    def predicted_worn(self) -> bool:
        return self.worn_share >= 0.5

    @property
    def correct(self) -> bool:
        return self.predicted_worn == self.true_worn

    def to_json(self) -> dict:
        return {
            "experiment": self.experiment,
            "true": "worn" if self.true_worn else "unworn",
            "predicted": "worn" if self.predicted_worn else "unworn",
            "worn_share": round(self.worn_share, 4),
            "rows": self.rows,
            "row_accuracy": round(self.row_accuracy, 4),
            "confidence": round(self.confidence, 4),
            "correct": self.correct,
        }


@dataclass
class Evaluation:
    protocol: str
    metrics: dict[str, float]
    fit_seconds: float  # one fit (seed) or the mean fit over folds (loeo)
    model: ClassifierMixin | None  # seed: the model evaluated; loeo: refitted on all rows
    verdicts: list[ExperimentVerdict] = field(default_factory=list)

    @property
    def experiments_correct(self) -> int:
        return sum(v.correct for v in self.verdicts)


def experiment_verdicts(groups: np.ndarray, y_true: np.ndarray, y_pred: np.ndarray) -> list[ExperimentVerdict]:
    """The tool verdict per experiment over its rows' calls, in the order given."""
    verdicts = []
    for experiment in np.unique(groups):
        mask = groups == experiment
        verdict = tool_verdict(y_pred[mask])
        verdicts.append(
            ExperimentVerdict(
                experiment=int(experiment),
                true_worn=bool(round(y_true[mask].mean())),
                worn_share=verdict.worn_share,
                rows=int(mask.sum()),
                row_accuracy=float((y_pred[mask] == y_true[mask]).mean()),
                confidence=verdict.confidence,
            )
        )
    return verdicts


def seed_split(y: np.ndarray, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Row indices (train, test) of the seed protocol; every engine uses exactly this split.
    The test rows are in random order: a verdict's 5 s blocks of them are random samples of the run."""
    return train_test_split(np.arange(len(y)), test_size=TEST_SIZE, stratify=y, random_state=seed)


def evaluation_from_predictions(
    protocol: str, y_true: np.ndarray, y_pred: np.ndarray, groups: np.ndarray, fit_seconds: float = float("nan")
) -> Evaluation:
    """Score predictions made elsewhere (e.g. by the auto-sklearn job in the AutoML runtime)."""
    return Evaluation(
        protocol=protocol,
        metrics=classification_metrics(y_true, y_pred),
        fit_seconds=fit_seconds,
        model=None,
        verdicts=experiment_verdicts(groups, y_true, y_pred),
    )


def evaluate_seed(
    estimator: ClassifierMixin, X: np.ndarray, y: np.ndarray, groups: np.ndarray, seed: int = 0, task: Task | None = None
) -> Evaluation:
    task = ensure_task(task)
    train, test = seed_split(y, seed)
    model = clone(estimator)
    task.progress(0.0, "fitting on 80 % of the rows")
    started = time.perf_counter()
    model.fit(X[train], y[train])
    fit_seconds = time.perf_counter() - started
    y_pred = model.predict(X[test])
    task.progress(1.0, "evaluated on the other 20 %")
    return Evaluation(
        protocol="seed",
        metrics=classification_metrics(y[test], y_pred),
        fit_seconds=fit_seconds,
        model=model,
        verdicts=experiment_verdicts(groups[test], y[test], y_pred),
    )


def evaluate_loeo(
    estimator: ClassifierMixin,
    X: np.ndarray,
    y: np.ndarray,
    groups: np.ndarray,
    task: Task | None = None,
    refit: bool = True,
) -> Evaluation:
    task = ensure_task(task)
    splits = list(LeaveOneGroupOut().split(X, y, groups))
    y_pred = np.empty_like(y)
    fit_times = []
    for fold, (train, test) in enumerate(splits):
        task.progress(fold / (len(splits) + refit), f"fold {fold + 1}/{len(splits)}: experiment {groups[test][0]} held out")
        model = clone(estimator)
        started = time.perf_counter()
        model.fit(X[train], y[train])
        fit_times.append(time.perf_counter() - started)
        y_pred[test] = model.predict(X[test])
    final = clone(estimator)
    if refit:
        task.progress(len(splits) / (len(splits) + 1), "refitting on all experiments")
        final.fit(X, y)
    task.progress(1.0, "done")
    return Evaluation(
        protocol="loeo",
        metrics=classification_metrics(y, y_pred),
        fit_seconds=float(np.mean(fit_times)),
        model=final,
        verdicts=experiment_verdicts(groups, y, y_pred),
    )


EVALUATORS: dict[str, Callable[..., Evaluation]] = {"seed": evaluate_seed, "loeo": evaluate_loeo}
