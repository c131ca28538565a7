"""SHAP: each feature's share of the distance between a base value and the model's probability.

Tree models get ``shap.TreeExplainer`` (exact, fast): first path-dependent on the trees alone,
which for scikit-learn forests explains the probability directly; if that does not add up to
the model's probability (boosted trees explain log-odds), interventional with a probability
output over a small background. Anything else, such as the AutoML sidecar, gets Kernel SHAP
over a k-means summary of the background, whose perturbations go to the model as ONE batched
call per explained row. Every result checks additivity against the model's own probability:
``|base + sum(shap) - P(target)|``.
"""

from __future__ import annotations

import contextlib
import threading
import time
from typing import Callable

import numpy as np

from ..tasks import Task, ensure_task
from .results import Contribution, ShapGlobalResult, ShapLocalResult

TREE_TOLERANCE = 1e-6
KERNEL_TOLERANCE = 1e-6
KMEANS_CENTRES = 10
KERNEL_SAMPLES = 1000  # coalitions per explained row (x 10 centres = rows in the one model call)
GLOBAL_KERNEL_SAMPLES = 500
GLOBAL_KERNEL_ROWS = 100  # Kernel SHAP costs a model call per row: the global summary uses fewer rows
INTERVENTIONAL_BACKGROUND = 100
GLOBAL_CHUNK = 10  # rows per TreeSHAP call between progress reports


@contextlib.contextmanager
def seeded_numpy(seed: int):
    """Kernel SHAP and alibi draw from numpy's global generator: seed it for the call, then put
    the caller's state back."""
    state = np.random.get_state()
    np.random.seed(seed)
    try:
        yield
    finally:
        np.random.set_state(state)


class ShapExplainer:
    def __init__(self, model, proba: Callable[[np.ndarray, Task], np.ndarray], background: np.ndarray,
                 feature_names: list[str], class_names: tuple[str, ...], target: int, seed: int = 0):
        self._model = model
        self._proba = proba
        self._background = background
        self._feature_names = feature_names
        self._class_names = class_names
        self._target = target
        self.seed = seed
        self.kind = ""
        self.tolerance = TREE_TOLERANCE
        self._tree = None
        self._kernel = None
        self._lock = threading.Lock()

    # -- setup --------------------------------------------------------------------------------
    def _ready(self, task: Task) -> None:
        if self._tree is not None or self._kernel is not None:
            return
        import shap

        probe = self._background[:1]
        expected = self._proba(probe, task)[0, self._target]
        attempts = (
            ("TreeSHAP (path-dependent)", {}),
            ("TreeSHAP (interventional, probability output)",
             {"data": self._background[:INTERVENTIONAL_BACKGROUND], "feature_perturbation": "interventional",
              "model_output": "probability"}),
        )
        for kind, options in attempts:
            try:
                explainer = shap.TreeExplainer(self._model, **options)
                values, base = self._tree_values(explainer, probe)
            except Exception:  # not a model TreeExplainer knows (a sidecar, a pipeline …): try the next way
                continue
            if abs(base + values[0].sum() - expected) <= TREE_TOLERANCE:
                self._tree, self.kind, self.tolerance = explainer, kind, TREE_TOLERANCE
                return
        task.check()
        centres = shap.kmeans(self._background, min(KMEANS_CENTRES, len(self._background)))
        self._kernel = shap.KernelExplainer(lambda Z: self._proba(Z, task)[:, self._target], centres, link="identity")
        self.kind = f"Kernel SHAP (k-means background, {centres.data.shape[0]} centres)"
        self.tolerance = KERNEL_TOLERANCE

    def _tree_values(self, explainer, X: np.ndarray) -> tuple[np.ndarray, float]:
        """SHAP values (rows x features) and base value for the target class's probability."""
        values = np.asarray(explainer.shap_values(X, check_additivity=False), float)
        base = np.atleast_1d(np.asarray(explainer.expected_value, float))
        if values.ndim == 3:
            return values[:, :, self._target], float(base[self._target])
        if self._target == len(self._class_names) - 1:  # one output: the positive class
            return values, float(base[0])
        return -values, 1.0 - float(base[0])  # binary: P(first class) = 1 - P(second class)

    def _values(self, X: np.ndarray, nsamples: int, task: Task) -> tuple[np.ndarray, float]:
        if self._tree is not None:
            return self._tree_values(self._tree, X)
        self._kernel.model.f = lambda Z: self._proba(Z, task)[:, self._target]  # this request's task
        with seeded_numpy(self.seed):
            values = self._kernel.shap_values(X, nsamples=nsamples, l1_reg=False, silent=True)
        return np.asarray(values, float).reshape(len(X), -1), float(np.ravel(self._kernel.expected_value)[0])

    # -- one sample ---------------------------------------------------------------------------
    def local(self, x: np.ndarray, display: Callable[[int, float], str], task: Task | None = None) -> ShapLocalResult:
        task = ensure_task(task)
        started = time.perf_counter()
        task.progress(0.0, "SHAP: preparing the explainer")
        with self._lock:
            self._ready(task)
            task.progress(0.1, f"SHAP: {self.kind}")
            row = x[None, :]
            values, base = self._values(row, KERNEL_SAMPLES, task)
        proba = self._proba(row, task)[0]
        output = float(proba[self._target])
        shap_row = values[0]
        order = np.argsort(-np.abs(shap_row), kind="stable")
        percentiles = (self._background < x).mean(axis=0) * 100 + (self._background == x).mean(axis=0) * 50
        task.progress(1.0, "SHAP: done")
        return ShapLocalResult(
            explainer_kind=self.kind,
            target_class=self._class_names[self._target],
            predicted=self._class_names[int(np.argmax(proba))],
            base_value=base,
            model_output=output,
            contributions=[Contribution(self._feature_names[j], float(x[j]), float(shap_row[j])) for j in order],
            percentiles=[float(percentiles[j]) for j in order],
            display_values=[display(j, float(x[j])) for j in order],
            additivity_error=abs(base + float(shap_row.sum()) - output),
            additivity_tolerance=self.tolerance,
            seconds=time.perf_counter() - started,
        )

    # -- a sample of rows -----------------------------------------------------------------------
    def summary(self, X: np.ndarray, max_rows: int = 500, task: Task | None = None) -> ShapGlobalResult:
        """Mean |SHAP| per feature and the beeswarm data over at most ``max_rows`` rows of X
        (Kernel SHAP: at most GLOBAL_KERNEL_ROWS, each costs a model call)."""
        task = ensure_task(task)
        started = time.perf_counter()
        task.progress(0.0, "SHAP summary: preparing the explainer")
        with self._lock:
            self._ready(task)
            limit = max_rows if self._tree is not None else min(max_rows, GLOBAL_KERNEL_ROWS)
            if len(X) > limit:
                X = X[np.sort(np.random.default_rng(self.seed).choice(len(X), limit, replace=False))]
            chunk = GLOBAL_CHUNK if self._tree is not None else 1
            parts, base = [], 0.0
            for start in range(0, len(X), chunk):
                task.progress(0.05 + 0.9 * start / len(X), f"SHAP summary: row {start + 1:,} of {len(X):,}")
                values, base = self._values(X[start:start + chunk], GLOBAL_KERNEL_SAMPLES, task)
                parts.append(values)
        values = np.vstack(parts)
        outputs = self._proba(X, task)[:, self._target]
        mean_abs = np.abs(values).mean(axis=0)
        order = np.argsort(-mean_abs, kind="stable")
        task.progress(1.0, "SHAP summary: done")
        return ShapGlobalResult(
            explainer_kind=self.kind,
            target_class=self._class_names[self._target],
            n_rows=len(X),
            base_value=base,
            features=[self._feature_names[j] for j in order],
            mean_abs=mean_abs[order],
            shap_values=values.T[order],
            feature_values=X.T[order],
            max_additivity_error=float(np.max(np.abs(base + values.sum(axis=1) - outputs))),
            seconds=time.perf_counter() - started,
        )
