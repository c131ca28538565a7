"""Leakage check: how well a feature set identifies the experiment a sample came from.

A model that can tell which run a sample belongs to can score well on a random row split by
recognising the run (and its label) instead of the tool. The check trains a classifier to
predict the experiment id, tested on blocks of samples it never saw: each experiment's rows are
cut into consecutive blocks of ``BLOCK_SAMPLES`` (5 s) and alternate blocks form two folds, so
a sample's 100 ms neighbours cannot give the answer away. The score is the balanced accuracy
rescaled so that chance (1 / experiments) is 0 and perfect identification is 1. The same is
done per feature with a small tree.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..tasks import Task, ensure_task

BLOCK_SAMPLES = 50
WARN_AT = 0.8  # "nearly identifies the experiment"
NOTE_AT = 0.5
TOP_FEATURES = 10


@dataclass
class LeakageReport:
    feature_set: str
    score: float  # 0 = chance, 1 = every held-out block attributed to its experiment
    balanced_accuracy: float
    chance: float
    experiments: int
    per_feature: list[tuple[str, float]] = field(default_factory=list)  # (feature, score), highest first

    @property
    def level(self) -> str:
        return "warning" if self.score >= WARN_AT else "note" if self.score >= NOTE_AT else "ok"

    @property
    def message(self) -> str:
        top = ", ".join(f"{name} {score:.2f}" for name, score in self.per_feature[:3])
        if self.level == "warning":
            return (f"{self.feature_set} nearly identifies the experiment (leakage score {self.score:.2f}): "
                    f"a random row split will reward recognising the run, not the tool; trust LOEO. "
                    f"Most identifying: {top}.")
        if self.level == "note":
            return (f"{self.feature_set} partly identifies the experiment (leakage score {self.score:.2f}). "
                    f"Most identifying: {top}.")
        return f"{self.feature_set} does not identify the experiment (leakage score {self.score:.2f})."

    def to_json(self) -> dict:
        return {
            "feature_set": self.feature_set,
            "score": round(self.score, 4),
            "balanced_accuracy": round(self.balanced_accuracy, 4),
            "chance": round(self.chance, 4),
            "experiments": self.experiments,
            "level": self.level,
            "message": self.message,
            "per_feature": [{"feature": name, "score": round(score, 4)} for name, score in self.per_feature],
        }


def block_folds(groups: np.ndarray, block: int = BLOCK_SAMPLES) -> np.ndarray:
    """Fold 0 or 1 per row: alternate consecutive blocks within each experiment."""
    fold = np.zeros(len(groups), dtype=np.int8)
    for experiment in np.unique(groups):
        rows = np.flatnonzero(groups == experiment)
        fold[rows] = (np.arange(len(rows)) // block) % 2
    return fold


def _score(model_factory, X: np.ndarray, groups: np.ndarray, folds: np.ndarray) -> float:
    from sklearn.metrics import balanced_accuracy_score

    predicted = np.empty_like(groups)
    for held_out in (0, 1):
        test = folds == held_out
        model = model_factory().fit(X[~test], groups[~test])
        predicted[test] = model.predict(X[test])
    return float(balanced_accuracy_score(groups, predicted))


def _rescale(balanced_accuracy: float, chance: float) -> float:
    return max(0.0, (balanced_accuracy - chance) / (1.0 - chance))


def check_leakage(X: np.ndarray, groups: np.ndarray, names: list[str], feature_set: str = "",
                  per_feature: bool = True, seed: int = 0, task: Task | None = None) -> LeakageReport:
    """Experiment identification from ``X`` (rows in time order within each experiment)."""
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.tree import DecisionTreeClassifier

    task = ensure_task(task)
    experiments = len(np.unique(groups))
    if experiments < 2:
        raise ValueError("the leakage check needs samples of at least two experiments")
    chance = 1.0 / experiments
    folds = block_folds(groups)
    task.progress(0.0, "predicting the experiment from all features")
    accuracy = _score(lambda: RandomForestClassifier(n_estimators=60, min_samples_leaf=5, n_jobs=-1,
                                                     random_state=seed), X, groups, folds)
    scores: list[tuple[str, float]] = []
    if per_feature:
        for index, name in enumerate(names):
            task.progress(0.5 + 0.5 * index / len(names), f"predicting the experiment from {name}")
            single = _score(lambda: DecisionTreeClassifier(max_depth=8, min_samples_leaf=5, random_state=seed),
                            X[:, [index]], groups, folds)
            scores.append((name, _rescale(single, chance)))
        scores.sort(key=lambda item: -item[1])
    task.progress(1.0, "leakage check done")
    return LeakageReport(feature_set, _rescale(accuracy, chance), accuracy, chance, experiments, scores)


def feature_set_leakage(samples, feature_set, per_feature: bool = True, task: Task | None = None) -> LeakageReport:
    """The check on a feature set's training rows of ``Dataset.samples()``."""
    from .sets import training_matrix

    X, _, groups = training_matrix(samples, feature_set)
    return check_leakage(X, groups, list(feature_set.columns), feature_set.key, per_feature, task=task)
