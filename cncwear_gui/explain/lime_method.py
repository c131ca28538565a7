"""LIME: a weighted linear fit to the model's answers on perturbations around one sample.

The ``LimeTabularExplainer`` is built once per model on the background (its quartiles and
category frequencies) and reused. LIME is random: before every request its shared RandomState
(the explainer's, its discretizer's and its linear fit's are one object) is reseeded in place,
so the same request always gives the same answer.
"""

from __future__ import annotations

import threading
import time
from typing import Callable

import numpy as np

from ..tasks import Task, ensure_task
from .results import FeatureValue, LimeResult, WeightedCondition


class LimeExplainer:
    def __init__(self, proba: Callable[[np.ndarray, Task], np.ndarray], background: np.ndarray,
                 feature_names: list[str], class_names: tuple[str, ...], categorical: dict[int, dict[int, str]],
                 seed: int = 0):
        self._proba = proba
        self._background = background
        self._feature_names = feature_names
        self._class_names = class_names
        self._categorical = categorical
        self.seed = seed
        self._explainer = None
        self._lock = threading.Lock()

    def _fitted(self):
        if self._explainer is None:
            from lime.lime_tabular import LimeTabularExplainer

            self._explainer = LimeTabularExplainer(
                self._background, mode="classification", feature_names=self._feature_names,
                class_names=list(self._class_names), categorical_features=sorted(self._categorical),
                categorical_names=self._categorical, discretize_continuous=True, random_state=self.seed)
        return self._explainer

    def explain(self, x: np.ndarray, top_k: int = 10, num_samples: int = 5000, task: Task | None = None) -> LimeResult:
        task = ensure_task(task)
        started = time.perf_counter()
        task.progress(0.0, f"LIME: the model on {num_samples:,} perturbed samples")
        with self._lock:
            explainer = self._fitted()
            explainer.random_state.seed(self.seed)
            explanation = explainer.explain_instance(
                x, lambda Z: self._proba(Z, task), top_labels=1, num_features=min(top_k, len(x)),
                num_samples=num_samples)
        label = explanation.top_labels[0]
        indexed = explanation.as_map()[label]  # [(feature index, weight)], the same order as as_list
        texts = explanation.as_list(label=label)
        conditions = [WeightedCondition(text, float(weight)) for (text, weight) in texts]
        values = [FeatureValue(self._feature_names[j], float(x[j])) for j, _ in indexed]
        task.progress(1.0, "LIME: done")
        return LimeResult(
            predicted=self._class_names[label],
            probabilities={name: float(p) for name, p in zip(self._class_names, explanation.predict_proba)},
            conditions=conditions,
            feature_values=values,
            local_fit_score=float(explanation.score),
            intercept=float(explanation.intercept[label]),
            local_prediction=float(np.ravel(explanation.local_pred)[0]),
            num_samples=num_samples,
            seed=self.seed,
            seconds=time.perf_counter() - started,
        )
