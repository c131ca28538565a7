"""The explanation engine for one model: its fitted explainers and background data, reused.

Works on anything with the ``Predictor`` contract (``predict_proba`` whose columns follow
``class_names``): in-process scikit-learn models and the AutoML ``SidecarPredictor``, which
costs a pipe round trip per call, so every method batches its model calls. The explainers
(LIME, SHAP, Anchor) are built on first use, which also keeps shap/alibi/lime imports off start-up.
Methods take an optional ``Task`` for progress and cancel, and serialise per explainer, so the
engine can be shared between worker threads.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from ..models.small_batches import for_small_batches
from ..tasks import Task
from .anchor_method import AnchorExplainer
from .dependence import dependence
from .inputs import ExplanationInputError, as_matrix, as_row, feature_index
from .lime_method import LimeExplainer
from .results import AnchorResult, DependenceResult, LimeResult, ShapGlobalResult, ShapLocalResult, SurrogateResult
from .shap_method import ShapExplainer
from .surrogate import fit_surrogate

METHODS = ("lime", "shap", "shap_global", "anchor", "ice", "pdp", "surrogate")
DEFAULT_SURROGATE_DEPTH = 6  # depth 4 agrees with a Random Forest on only ~74 % of held-out rows, 6 on ~85 %


def default_categorical(feature_names: Sequence[str]) -> dict[int, dict[int, str]]:
    """The machining phase code is a category: its names for display and for LIME/Anchors."""
    from ..data.schema import PHASES, UNKNOWN_PHASE_CODE

    if "phase" not in feature_names:
        return {}
    return {list(feature_names).index("phase"): {**dict(enumerate(PHASES)), UNKNOWN_PHASE_CODE: "unknown phase"}}


class ExplanationEngine:
    def __init__(self, predictor, feature_names: Sequence[str], background: np.ndarray,
                 class_names: Sequence[str] = ("unworn", "worn"), seed: int = 0, target_class: str | None = None,
                 categorical: dict[int, dict[int, str]] | None = None):
        """``background``: training rows the explainers sample from (2,000 is plenty); rows with
        missing values are left out. ``target_class``: whose probability SHAP and ICE/PDP explain
        (default: the last class, "worn"). ``categorical``: {column: {code: name}}; by default the
        phase column."""
        self.predictor = predictor
        self._batched = for_small_batches(predictor)  # a row, LIME's and Anchor's batches: without the per-tree overhead
        self.feature_names = list(feature_names)
        if len(set(self.feature_names)) != len(self.feature_names):
            raise ExplanationInputError("the feature names are not unique")
        self.background = as_matrix(background, self.feature_names, "background rows", drop_missing=True)
        self.class_names = tuple(class_names)
        self.target_class = target_class or self.class_names[-1]
        if self.target_class not in self.class_names:
            raise ExplanationInputError(f"target class '{self.target_class}' is not one of {', '.join(self.class_names)}")
        self.target = self.class_names.index(self.target_class)
        self.seed = seed
        self.categorical = default_categorical(self.feature_names) if categorical is None else dict(categorical)
        self._lime = LimeExplainer(self.predict_proba, self.background, self.feature_names, self.class_names,
                                   self.categorical, seed)
        self._shap = ShapExplainer(predictor, self.predict_proba, self.background, self.feature_names,
                                   self.class_names, self.target, seed)
        self._anchor = AnchorExplainer(self.predict_class, self.background, self.feature_names, self.class_names,
                                       self.categorical, seed)

    # -- the model, batched ---------------------------------------------------------------------
    def predict_proba(self, X: np.ndarray, task: Task | None = None) -> np.ndarray:
        """One call to the model for all rows of X (stopping first if the task was cancelled)."""
        if task is not None:
            task.check()
        proba = np.asarray(self._batched.predict_proba(np.ascontiguousarray(X, dtype=float)), float)
        if proba.shape != (len(X), len(self.class_names)):
            raise ValueError(f"the model returned probabilities of shape {proba.shape} for {len(X)} rows; "
                             f"expected one column per class ({', '.join(self.class_names)})")
        return proba

    def predict_class(self, X: np.ndarray, task: Task | None = None) -> np.ndarray:
        """Class indices (into ``class_names``): the most probable class, as ``predict`` does."""
        return self.predict_proba(X, task).argmax(axis=1)

    def display(self, column: int, value: float) -> str:
        """A value as the operator reads it: the phase's name, or the number."""
        if column in self.categorical and float(value).is_integer():
            return self.categorical[column].get(int(value), f"{value:g}")
        return f"{value:.4g}"

    # -- one sample ---------------------------------------------------------------------------
    def lime(self, x, top_k: int = 10, num_samples: int = 5000, task: Task | None = None) -> LimeResult:
        return self._lime.explain(as_row(x, self.feature_names), top_k, num_samples, task)

    def shap_local(self, x, task: Task | None = None) -> ShapLocalResult:
        return self._shap.local(as_row(x, self.feature_names), self.display, task)

    def anchor(self, x, threshold: float = 0.95, task: Task | None = None) -> AnchorResult:
        if not 0 < threshold < 1:
            raise ExplanationInputError(f"the anchor's precision threshold must be between 0 and 1, not {threshold}")
        return self._anchor.explain(as_row(x, self.feature_names), threshold, task)

    # -- the model as a whole --------------------------------------------------------------------
    def shap_global(self, X, max_rows: int = 500, task: Task | None = None) -> ShapGlobalResult:
        return self._shap.summary(as_matrix(X, self.feature_names, "rows to summarise", drop_missing=True),
                                  max_rows, task)

    def dependence(self, X, feature: str | int, centred: bool = False, max_rows: int = 200, grid_points: int = 25,
                   task: Task | None = None) -> DependenceResult:
        j = feature_index(feature, self.feature_names)
        return dependence(self.predict_proba, as_matrix(X, self.feature_names, "rows for ICE/PDP", drop_missing=True),
                          j, self.feature_names[j], self.target, self.target_class, categorical=j in self.categorical,
                          centred=centred, max_rows=max_rows, grid_points=grid_points, seed=self.seed, task=task)

    def surrogate(self, X_train, X_heldout, max_depth: int = DEFAULT_SURROGATE_DEPTH, min_samples_leaf: int = 1, choose_depth: bool = False,
                  task: Task | None = None) -> SurrogateResult:
        if not 1 <= max_depth <= 20:
            raise ExplanationInputError(f"the surrogate tree's depth must be between 1 and 20, not {max_depth}")
        return fit_surrogate(self.predict_class,
                             as_matrix(X_train, self.feature_names, "surrogate training rows", drop_missing=True),
                             as_matrix(X_heldout, self.feature_names, "held-out rows", drop_missing=True),
                             self.feature_names, self.class_names, max_depth, min_samples_leaf, choose_depth,
                             self.seed, task)

    def explain(self, method: str, *args, **kwargs):
        """Dispatch by name: lime, shap, shap_global, anchor, ice or pdp (both: ``dependence``), surrogate."""
        methods = {"lime": self.lime, "shap": self.shap_local, "shap_global": self.shap_global, "anchor": self.anchor,
                   "ice": self.dependence, "pdp": self.dependence, "surrogate": self.surrogate}
        if method not in methods:
            raise ExplanationInputError(f"unknown explanation method '{method}'; choose one of {', '.join(METHODS)}")
        return methods[method](*args, **kwargs)
