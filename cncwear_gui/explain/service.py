"""Explanations for one model on one dataset: the selected sample, a reused engine, a cache.

The view and the CLI both go through ``ExplanationService``. It picks the sample by experiment
and row, builds the explanation engine once (its fitted LIME/SHAP/Anchor explainers are reused
for every sample), and caches each result per (model version, sample, method, options), so
switching back to a sample already explained is instant. Global methods (PDP/ICE, the surrogate,
the SHAP summary) do not depend on the sample and are cached per model only.

Background, ICE rows and the surrogate's data come from the loaded dataset, sampled with a fixed
seed; the surrogate's fidelity is measured on a held-out 20 % of the rows it never saw.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import numpy as np

from ..data.dataset import Dataset
from ..models.active import ActiveModel
from ..tasks import Task, ensure_task
from .engine import DEFAULT_SURROGATE_DEPTH

LOCAL_METHODS = ("lime", "shap", "anchor")
GLOBAL_METHODS = ("ice", "pdp", "surrogate", "shap_global")
METHODS = LOCAL_METHODS + GLOBAL_METHODS
BACKGROUND_ROWS = 2_000
SUMMARY_ROWS = 150  # TreeSHAP on deep forests: ~65 ms a row
SURROGATE_HELDOUT = 0.2


class SampleNotFound(ValueError):
    """The experiment or row the user asked for is not in the loaded data."""


@dataclass(frozen=True)
class SampleRef:
    experiment: int
    row: int
    source: str  # the file the sample came from
    line: int  # its line in that file (1-based, the header is line 1)
    worn: int  # the known label: 1, 0, or -1 when unknown

    @property
    def label(self) -> str:
        return f"experiment {self.experiment}, sample {self.row} ({self.source}, line {self.line})"

    def to_json(self) -> dict:
        return {"experiment": self.experiment, "row": self.row, "source": self.source, "line": self.line, "worn": self.worn}


def check_sample(dataset: Dataset, experiment: int, row: int) -> None:
    """SampleNotFound, saying what is loaded, unless row ``row`` of ``experiment`` is in ``dataset``."""
    if experiment not in dataset.experiments:
        known = ", ".join(str(n) for n in sorted(dataset.experiments)[:20])
        raise SampleNotFound(f"experiment {experiment} is not in the loaded data (loaded: {known})")
    count = dataset.experiments[experiment].rows
    if not 0 <= row < count:
        raise SampleNotFound(f"experiment {experiment} has rows 0 to {count - 1}; row {row} does not exist")


class ExplanationService:
    def __init__(self, model: ActiveModel, dataset: Dataset, seed: int = 0):
        self.model = model
        self.dataset = dataset
        self.seed = seed
        self.feature_names = list(model.feature_set.columns)
        self._samples = dataset.samples()
        self._features = model.feature_set.build(self._samples).to_numpy()
        self._engine = None
        self._engine_lock = threading.Lock()
        self._cache: dict[tuple, object] = {}
        rng = np.random.default_rng(seed)
        order = rng.permutation(len(self._samples))
        held = int(len(order) * SURROGATE_HELDOUT)
        self._heldout_rows, self._train_rows = np.sort(order[:held]), np.sort(order[held:])
        self._background_rows = np.sort(order[: min(BACKGROUND_ROWS, len(order))])

    @property
    def model_key(self) -> tuple:
        return (self.model.name, self.model.version, self.model.run_id)

    # -- the sample ----------------------------------------------------------------------------
    def locate(self, experiment: int, row: int) -> int:
        """The position of (experiment, row) in the dataset's samples; SampleNotFound if absent."""
        check_sample(self.dataset, experiment, row)
        positions = np.flatnonzero(self._samples["experiment"].to_numpy() == experiment)
        return int(positions[row])

    def sample(self, experiment: int, row: int) -> SampleRef:
        position = self.locate(experiment, row)
        record = self._samples.iloc[position]
        return SampleRef(experiment, row, self.dataset.experiments[experiment].path.name, int(record["line"]),
                         int(record["worn"]))

    def features_of(self, experiment: int, row: int) -> np.ndarray:
        return self._features[self.locate(experiment, row)]

    # -- the engine ----------------------------------------------------------------------------
    def engine(self, task: Task | None = None):
        """The explanation engine for this model, built once (its explainers are fitted lazily)."""
        with self._engine_lock:
            if self._engine is None:
                from .engine import ExplanationEngine

                ensure_task(task).progress(0.0, "preparing the explainers")
                self._engine = ExplanationEngine(self.model.estimator, self.feature_names,
                                                 self._features[self._background_rows], seed=self.seed)
            return self._engine

    def explain(self, method: str, experiment: int | None = None, row: int | None = None, *,
                feature: str | None = None, centred: bool = False, depth: int = DEFAULT_SURROGATE_DEPTH, threshold: float = 0.95,
                task: Task | None = None):
        """One method's result, from the cache when this exact request was answered before."""
        if method not in METHODS:
            raise ValueError(f"unknown method '{method}'; choose one of: {', '.join(METHODS)}")
        task = ensure_task(task)
        if method in LOCAL_METHODS:
            if experiment is None or row is None:
                raise SampleNotFound(f"{method} explains one sample: give an experiment and a row")
            x = self.features_of(experiment, row)
            key = (self.model_key, method, experiment, row, threshold if method == "anchor" else None)
        else:
            x = None
            key = (self.model_key, method, feature if method in ("ice", "pdp") else None,
                   centred if method in ("ice", "pdp") else None, depth if method == "surrogate" else None)
        if key in self._cache:
            return self._cache[key]
        engine = self.engine(task)
        task.check()
        started = time.perf_counter()
        result = self._compute(engine, method, x, feature, centred, depth, threshold, task)
        from ..monitoring.metrics import app_metrics

        app_metrics().observe_explanation(method, time.perf_counter() - started)
        self._cache[key] = result
        return result

    def _compute(self, engine, method, x, feature, centred, depth, threshold, task):
        if method == "lime":
            return engine.lime(x, task=task)
        if method == "shap":
            return engine.shap_local(x, task=task)
        if method == "anchor":
            return engine.anchor(x, threshold=threshold, task=task)
        if method in ("ice", "pdp"):
            if feature is None:
                raise ValueError(f"{method} needs a feature (e.g. {self.feature_names[0]})")
            return engine.dependence(self._features[self._background_rows], feature, centred=centred, task=task)
        if method == "surrogate":
            return engine.surrogate(self._features[self._train_rows], self._features[self._heldout_rows],
                                    max_depth=depth, task=task)
        summary_rows = self._background_rows[:SUMMARY_ROWS]
        return engine.shap_global(self._features[summary_rows], task=task)

    def summary(self, experiment: int, row: int, task: Task | None = None) -> str:
        """The operator's sentence: from the anchor rule and the top SHAP features."""
        from .summary import plain_language

        task = ensure_task(task)
        shap_result = self.explain("shap", experiment, row, task=task.child(0.0, 0.3))
        anchor_result = self.explain("anchor", experiment, row, task=task.child(0.3, 1.0))
        return plain_language(anchor_result, shap_result)
