"""The app's shared state; views get it in their constructor and subscribe to its signals.

The state knows no views. Heavy work that produces its values runs in workers (main_window).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal

from ..settings import Settings

if TYPE_CHECKING:  # pandas and scikit-learn stay off the start-up path
    from ..data.dataset import Dataset
    from ..models.active import ActiveModel
    from ..models.scoring import ScoredDataset


class AppState(QObject):
    dataset_changed = Signal(object)  # Dataset
    model_changed = Signal(object)  # ActiveModel
    scores_changed = Signal(object)  # ScoredDataset
    sample_selected = Signal(int, int)  # experiment, row: "the selected sample"
    settings_changed = Signal(object)
    pipeline_watcher_changed = Signal(str, bool)

    def __init__(self, settings: Settings):
        super().__init__()
        self.settings = settings
        self.dataset: Dataset | None = None
        self.model: ActiveModel | None = None
        self.scores: ScoredDataset | None = None
        self.selected: tuple[int, int] | None = None
        self.metrics = None  # monitoring.metrics.AppMetrics of this process, once created
        self.metrics_status = ""  # where /metrics is served, or why it is not
        self.pipeline_watcher_status = ("", False)  # what the retraining watcher does, and whether it failed

    def set_dataset(self, dataset: Dataset) -> None:
        self.dataset = dataset
        self.scores = None
        self.dataset_changed.emit(dataset)

    def set_pipeline_watcher_status(self, status: str, failed: bool) -> None:
        if (status, failed) != self.pipeline_watcher_status:
            self.pipeline_watcher_status = (status, failed)
            self.pipeline_watcher_changed.emit(status, failed)

    def set_model(self, model: ActiveModel) -> None:
        self.model = model
        self.model_changed.emit(model)

    def set_scores(self, scores: ScoredDataset) -> None:
        self.scores = scores
        self.scores_changed.emit(scores)

    def select_sample(self, experiment: int, row: int) -> None:
        self.selected = (experiment, row)
        self.sample_selected.emit(experiment, row)

    def set_settings(self, settings: Settings) -> None:
        self.settings = settings
        self.settings_changed.emit(settings)
