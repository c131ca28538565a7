"""The baseline estimators: the talk's table (Decision Tree, Random Forest) and scikit-learn's
histogram gradient boosting, the strongest baseline under LOEO (scikit-learn defaults, fixed seeds)."""

from __future__ import annotations

from sklearn.base import ClassifierMixin
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.tree import DecisionTreeClassifier

BASELINE_NAMES = {"dt": "Decision Tree", "rf": "Random Forest", "hgb": "Gradient Boosting"}
RF_TREES = 200


def make_baseline(code: str, seed: int = 0, n_jobs: int = -1) -> ClassifierMixin:
    if code == "dt":
        return DecisionTreeClassifier(random_state=seed)
    if code == "rf":
        return RandomForestClassifier(n_estimators=RF_TREES, n_jobs=n_jobs, random_state=seed)
    if code == "hgb":
        return HistGradientBoostingClassifier(random_state=seed)
    raise ValueError(f"unknown model '{code}'; known: {', '.join(BASELINE_NAMES)}")
