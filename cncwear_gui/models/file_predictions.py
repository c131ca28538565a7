"""Scoring data files headless (``cncwear predict``): P(worn) and the call per sample, and the
live engine's verdict (models/verdict.py) per run and per cutting phase of each run.

Chunk by chunk: :class:`FileScorer` takes the samples of one file in pieces of any size and holds
only the run in progress, so a shift-long file is scored in bounded memory.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import pandas as pd

from ..data.schema import PHASES
from .active import WORN, ActiveModel
from .small_batches import for_small_batches
from .verdict import RunSplitter, ToolVerdict, phase_verdicts, tool_verdict


@dataclass
class RunPrediction:
    run: int  # 1-based, in file order
    first_line: int
    last_line: int
    verdict: ToolVerdict
    phases: list[ToolVerdict]

    def to_json(self) -> dict:
        return {"run": self.run, "first_line": self.first_line, "last_line": self.last_line,
                **self.verdict.to_json(), "phases": [p.to_json() for p in self.phases]}


@dataclass
class FilePrediction:
    path: str
    experiment: int | None  # None: unlabelled
    setup: str
    rows: int = 0
    called_worn: int = 0
    runs: list[RunPrediction] = field(default_factory=list)

    def to_json(self) -> dict:
        return {"path": self.path, "experiment": self.experiment, "unlabelled": self.experiment is None,
                "setup": self.setup, "rows": self.rows, "called_worn": self.called_worn,
                "runs": [r.to_json() for r in self.runs]}


@dataclass
class ScoredChunk:
    """One chunk's per-sample result, in file order."""

    lines: np.ndarray
    phase: np.ndarray  # phase codes
    probability: np.ndarray
    worn: np.ndarray  # bool: P(worn) >= threshold

    def frame(self, path: str, experiment: int | None, first_row: int) -> pd.DataFrame:
        names = np.array([*PHASES, ""], dtype=object)
        return pd.DataFrame({
            "file": path, "experiment": pd.array([experiment] * len(self.lines), dtype="Int64"),
            "row": np.arange(first_row, first_row + len(self.lines), dtype=np.int64),
            "line": self.lines.astype(np.int64), "phase": names[self.phase.astype(np.int64)],
            "p_worn": self.probability, "predicted": np.where(self.worn, "worn", "unworn")})


_THREADS = 2
_SPLIT_ROWS = 4_096


@lru_cache(maxsize=1)
def _pool():
    from concurrent.futures import ThreadPoolExecutor

    return ThreadPoolExecutor(_THREADS, thread_name_prefix="cncwear-score")


class FileScorer:
    """The samples of one file, fed in chunks (``Dataset.samples()``-shaped frames with ``line``)."""

    def __init__(self, model: ActiveModel, threshold: float, prediction: FilePrediction):
        self.model, self.threshold, self.prediction = model, threshold, prediction
        self._runs = RunSplitter()
        # A forest is summed tree by tree in one order (its thread pool may differ in the last bit):
        # the same samples get the same probabilities in any chunk, any file, any run.
        self._estimator = for_small_batches(model.estimator, max_rows=None)

    def add(self, samples: pd.DataFrame) -> ScoredChunk:
        features = self.model.feature_set.matrix(samples)
        if len(features) >= 2 * _SPLIT_ROWS:  # rows split over threads: each row's sum is the same, bit for bit
            proba = np.concatenate(list(_pool().map(self._estimator.predict_proba, np.array_split(features, _THREADS))))
        elif len(features):
            proba = self._estimator.predict_proba(features)
        if len(features):
            probability = proba[:, list(self._estimator.classes_).index(WORN)]
        else:
            probability = np.empty(0)
        worn = probability >= self.threshold
        phase = samples["phase"].to_numpy()
        lines = samples["line"].to_numpy()
        self.prediction.rows += len(samples)
        self.prediction.called_worn += int(np.count_nonzero(worn))
        for run in self._runs.feed(worn, phase, lines):
            self._add_run(*run)
        return ScoredChunk(lines, phase, probability, worn)

    def finish(self) -> FilePrediction:
        last = self._runs.finish()
        if last is not None:
            self._add_run(*last)
        return self.prediction

    def _add_run(self, calls: np.ndarray, phases: np.ndarray, lines: np.ndarray) -> None:
        self.prediction.runs.append(RunPrediction(len(self.prediction.runs) + 1, int(lines[0]), int(lines[-1]),
                                                  tool_verdict(calls), phase_verdicts(calls, phases)))
