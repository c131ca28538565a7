"""Predictions view: P(worn) over time per experiment, the threshold, verdicts, sample selection."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget


from ...data.schema import SAMPLE_PERIOD_S
from ..state import AppState
from ..table_models import VerdictTableModel, row_table
from ..theme import MARKER_INK, PROBABILITY_LINE, THRESHOLD_LINE, THRESHOLD_TEXT

if TYPE_CHECKING:
    from ...models.scoring import ScoredDataset


class PredictionsView(QWidget):
    explain_requested = Signal()  # "show me why": the main window switches to the Explanations view

    def __init__(self, state: AppState, parent=None):
        super().__init__(parent)
        self.state = state
        self.experiment: int | None = None
        self.title = QLabel("Waiting for the model …")
        self.title.setObjectName("viewTitle")
        self.title.setWordWrap(True)
        self.selection_label = QLabel("Click the curve to select a sample for the Explanations view.")
        self.explain_button = QPushButton("Explain this sample →")
        self.explain_button.setEnabled(False)
        self.explain_button.clicked.connect(self.explain_requested)

        self.verdicts = VerdictTableModel()
        self.table = row_table(self.verdicts)
        self.table.setMinimumWidth(400)
        self.table.selectionModel().currentRowChanged.connect(lambda current, _: self._show_row(current.row()))

        self.plot = pg.PlotWidget()
        self.plot.setLabel("left", "P(worn)")
        self.plot.setLabel("bottom", "time", units="s")
        self.plot.setYRange(0, 1, padding=0.02)
        self.plot.showGrid(x=True, y=True, alpha=0.2)
        self.curve = self.plot.plot(pen=pg.mkPen(PROBABILITY_LINE, width=1.5))
        self.curve.setDownsampling(auto=True, method="peak")
        self.curve.setClipToView(True)
        self.threshold_line = pg.InfiniteLine(angle=0, movable=False, pen=pg.mkPen(THRESHOLD_LINE, width=2, style=Qt.DashLine), label="threshold {value:.2f}", labelOpts={"position": 0.02, "color": THRESHOLD_TEXT, "anchors": [(0, 1), (0, 1)]})
        self.plot.addItem(self.threshold_line)
        self.marker = pg.InfiniteLine(angle=90, movable=False, pen=pg.mkPen(MARKER_INK, width=1))
        self.marker.hide()
        self.plot.addItem(self.marker)
        self.plot.scene().sigMouseClicked.connect(self._clicked)

        right = QVBoxLayout()
        right.addWidget(self.plot, 1)
        selection = QHBoxLayout()
        selection.addWidget(self.selection_label, 1)
        selection.addWidget(self.explain_button)
        right.addLayout(selection)
        body = QHBoxLayout()
        body.addWidget(self.table)
        body.addLayout(right, 1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addLayout(body)
        state.scores_changed.connect(self.show_scores)
        state.sample_selected.connect(self._show_selection)

    @property
    def loaded(self) -> bool:
        return self.state.scores is not None

    def show_scores(self, scored: ScoredDataset) -> None:
        self.verdicts.set_scores(scored)
        correct = [s.correct for s in scored.experiments.values() if s.correct is not None]
        text = f"{scored.model_label} · threshold {scored.threshold:.2f}"
        if correct:
            text += f" · verdict matches the known label for {sum(correct)}/{len(correct)} experiments (in-sample: these experiments were used for training)"
        self.title.setText(text)
        self.threshold_line.setValue(scored.threshold)
        if self.verdicts.rowCount():
            self.table.selectRow(0)
            self._show_row(0)

    def show_experiment(self, experiment: int) -> None:
        rows = [s.experiment for s in self.verdicts.scores]
        if experiment in rows:
            self.table.selectRow(rows.index(experiment))

    def _show_row(self, row: int) -> None:
        if not 0 <= row < len(self.verdicts.scores):
            return
        score = self.verdicts.scores[row]
        self.experiment = score.experiment
        self.curve.setData(score.time_s, score.probability)
        self.plot.setXRange(0, len(score.probability) * SAMPLE_PERIOD_S, padding=0.01)
        self.marker.hide()

    def _clicked(self, event) -> None:
        if self.experiment is None or event.button() != Qt.LeftButton:
            return
        point = self.plot.getPlotItem().vb.mapSceneToView(event.scenePos())
        probability = self.state.scores.experiments[self.experiment].probability
        row = int(np.clip(round(point.x() / SAMPLE_PERIOD_S), 0, len(probability) - 1))
        self.state.select_sample(self.experiment, row)

    def _show_selection(self, experiment: int, row: int) -> None:
        if experiment != self.experiment:
            self.show_experiment(experiment)
        probability = self.state.scores.experiments[experiment].probability[row]
        self.marker.setValue(row * SAMPLE_PERIOD_S)
        self.marker.show()
        self.explain_button.setEnabled(True)
        self.selection_label.setText(
            f"Selected: experiment {experiment}, sample {row} (t = {row * SAMPLE_PERIOD_S:.1f} s), P(worn) = {probability:.2f}"
        )
