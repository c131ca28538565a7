"""The champion's model statistics from the snapshot: confusion matrix, ROC, precision/recall vs
threshold, and a one-line summary at the app's worn threshold."""

from __future__ import annotations

from PySide6.QtWidgets import QGroupBox, QHBoxLayout

from ...state import AppState
from ...widgets import fill_box, text_label
from ..monitoring_jobs import MonitoringSnapshot
from ..monitoring_plots import ConfusionMatrix, PrecisionRecallPlot, RocPlot


class StatisticsPanel(QGroupBox):
    def __init__(self, state: AppState, parent=None):
        super().__init__("Model statistics of the champion", parent)
        self.state = state
        self.snapshot: MonitoringSnapshot | None = None
        self.confusion = ConfusionMatrix()
        self.roc_plot = RocPlot()
        self.pr_plot = PrecisionRecallPlot()
        curves = QHBoxLayout()
        curves.addWidget(self.roc_plot)
        curves.addWidget(self.pr_plot)
        self.statistics_summary = text_label("")
        self.statistics_source = text_label("Statistics: after the snapshot is loaded.")
        fill_box(self, self.statistics_summary, self.confusion, curves, self.statistics_source)
        self.layout().setStretch(2, 1)  # the curves take the spare height
        state.settings_changed.connect(lambda _settings: self.show_statistics())

    def set_snapshot(self, snapshot: MonitoringSnapshot) -> None:
        self.snapshot = snapshot
        self.show_statistics()

    def show_statistics(self) -> None:
        threshold = float(self.state.settings.worn_threshold)
        statistics = self.snapshot.statistics if self.snapshot is not None else None
        self.confusion.show_matrix(None if statistics is None else statistics.matrix)
        self.roc_plot.show_roc(statistics, threshold)
        self.pr_plot.show_curves(statistics, threshold)
        if self.snapshot is None:
            return
        if statistics is None:
            self.statistics_summary.setText("Model statistics: not available.")
            self.statistics_source.setText(f"Source: {self.snapshot.statistics_source or 'none recorded'}")
            return
        precision = statistics.tp / max(1, statistics.tp + statistics.fp)
        recall = statistics.tp / max(1, statistics.tp + statistics.fn)
        auc = "AUC not defined" if statistics.roc_auc is None else f"AUC {statistics.roc_auc:.4f}"
        self.statistics_summary.setText(
            f"At threshold {statistics.threshold:.2f}: accuracy {statistics.accuracy:.2%} · precision {precision:.3f} · "
            f"recall {recall:.3f} · {auc} · {statistics.n:,} samples")
        self.statistics_source.setText(f"Source: {self.snapshot.statistics_source}. Diagonal cells: right calls.")
