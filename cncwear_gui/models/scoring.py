"""Scoring whole experiments: P(worn) per sample and a verdict per experiment with confidence.

The verdict uses the cutting phases (Layer 1-3 Up/Down) when the run has them, since wear shows
while the tool cuts; confidence is the share of those samples on the verdict's side of the
threshold.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..data.dataset import Dataset
from ..data.schema import CUTTING_CODES, SAMPLE_PERIOD_S
from ..tasks import Task, ensure_task
from .active import ActiveModel



@dataclass
class ExperimentScore:
    experiment: int
    probability: np.ndarray  # P(worn) per sample, in file order
    phase: np.ndarray
    true_worn: int  # 1, 0, or -1 when unknown
    threshold: float
    source: str = ""  # the file's name (what an unlabelled file, numbered below 0, is shown by)

    @property
    def time_s(self) -> np.ndarray:
        return np.arange(len(self.probability)) * SAMPLE_PERIOD_S

    @property
    def _basis(self) -> np.ndarray:
        cutting = np.isin(self.phase, CUTTING_CODES)
        return self.probability[cutting] if cutting.any() else self.probability

    @property
    def mean_probability(self) -> float:
        return float(self._basis.mean())

    @property
    def verdict_worn(self) -> bool:
        return self.mean_probability >= self.threshold

    @property
    def confidence(self) -> float:
        above = self._basis >= self.threshold
        return float(above.mean() if self.verdict_worn else 1.0 - above.mean())

    @property
    def correct(self) -> bool | None:
        return None if self.true_worn < 0 else self.verdict_worn == bool(self.true_worn)


@dataclass
class ScoredDataset:
    model_label: str
    threshold: float
    experiments: dict[int, ExperimentScore] = field(default_factory=dict)


def score_dataset(model: ActiveModel, dataset: Dataset, threshold: float = 0.5, task: Task | None = None) -> ScoredDataset:
    task = ensure_task(task)
    scored = ScoredDataset(model.label, threshold)
    numbers = sorted(dataset.experiments)
    samples = dataset.samples()
    for index, number in enumerate(numbers):
        task.progress(index / max(1, len(numbers)), f"scoring experiment {number}")
        rows = samples[samples["experiment"] == number]
        scored.experiments[number] = ExperimentScore(
            experiment=number,
            probability=model.worn_probability(rows),
            phase=rows["phase"].to_numpy(),
            true_worn=int(rows["worn"].iloc[0]) if len(rows) else -1,
            threshold=threshold,
            source=dataset.experiments[number].path.name,
        )
    task.progress(1.0, "scored")
    return scored
