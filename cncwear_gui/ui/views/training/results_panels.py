"""A run's results: the leaderboard of its candidates, and the talk's comparison table (LOEO
first) of the run against the baselines, which are computed on request in their own worker."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QHeaderView, QLabel, QPushButton, QVBoxLayout, QWidget

from ...state import AppState
from ...table_models import ComparisonTableModel, LeaderboardTableModel, fit_columns_on_reset, row_table
from ...workers import TaskRunner
from ..training_jobs import BASELINE_LABELS, BASELINES, TrainingOutcome, baselines_in_worker

_METRIC_COUNT = len(ComparisonTableModel.METRICS)
assert ComparisonTableModel.PROTOCOLS == ("seed", "loeo")  # the column order LoeoFirstComparisonModel maps


class LoeoFirstComparisonModel(ComparisonTableModel):
    """The comparison table with the LOEO columns (and experiments right) first, then seed's, the
    first of them labelled as the random row split it is (all of them in their tooltips)."""

    # our column -> the base model's: its columns are Model, seed metrics, loeo metrics, loeo experiments
    _SOURCE = (0, *range(_METRIC_COUNT + 1, 2 * _METRIC_COUNT + 2), *range(1, _METRIC_COUNT + 1))
    EXPERIMENTS_COLUMN = _METRIC_COUNT + 1
    FIRST_SEED_COLUMN = _METRIC_COUNT + 2
    COLUMNS = tuple(ComparisonTableModel.COLUMNS[source] for source in _SOURCE)
    COLUMNS = (*COLUMNS[:FIRST_SEED_COLUMN], COLUMNS[FIRST_SEED_COLUMN].replace("seed\n", "seed (random rows)\n"),
               *COLUMNS[FIRST_SEED_COLUMN + 1:])
    TOOLTIPS = {"loeo": "Leave one experiment out: no row of the tested run was seen in training — the honest "
                        "figure for the next, unseen tool.",
                "seed": "Random 80/20 split of the rows: neighbouring samples of one run land on both sides, "
                        "so it rewards recognising the run — optimistic."}

    def headerData(self, section, orientation, role=Qt.DisplayRole):
        if role == Qt.ToolTipRole and orientation == Qt.Horizontal and section > 0:
            return self.TOOLTIPS["seed" if self.COLUMNS[section].startswith("seed") else "loeo"]
        return super().headerData(section, orientation, role)

    def cell(self, row: int, column: int, role: int):
        return super().cell(row, self._SOURCE[column], role)


def baseline_names() -> str:
    names = [BASELINE_LABELS[code] for code in BASELINES]
    return ", ".join(names[:-1]) + f" and {names[-1]}"


class LeaderboardPanel(QWidget):
    """The run's candidates: the best per model family (FLAML) or the kept ensemble (auto-sklearn)."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.leaderboard = LeaderboardTableModel()
        self.leaderboard_table = row_table(self.leaderboard)
        fit_columns_on_reset(self.leaderboard_table)
        self.leaderboard_table.horizontalHeader().setStretchLastSection(True)
        self.leaderboard_caption = QLabel("Leaderboard: after the search.")
        self.leaderboard_caption.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.leaderboard_caption)
        layout.addWidget(self.leaderboard_table)

    def show_result(self, result) -> None:
        self.leaderboard.set_rows(result.leaderboard)
        self.leaderboard_caption.setText(
            "Leaderboard: best candidate per model family, with its configuration (FLAML)."
            if result.engine == "flaml" else "Leaderboard: the models auto-sklearn kept, with their ensemble weights."
        )


class ComparisonPanel(QWidget):
    """The run under both protocols beside the baselines on the same rows and features."""

    def __init__(self, state: AppState, parent=None):
        super().__init__(parent)
        self.state = state
        self.outcome: TrainingOutcome | None = None
        self.baselines: list = []
        self._baselines_for: tuple | None = None  # (dataset, feature set) the baselines were computed on
        self.baseliner = TaskRunner(self)

        self.comparison = LoeoFirstComparisonModel(tuple(BASELINE_LABELS[code] for code in BASELINES))
        self.comparison.set_rows([])
        self.comparison_table = row_table(self.comparison)
        self.comparison_table.horizontalHeader().setSectionResizeMode(QHeaderView.Stretch)
        fit_columns_on_reset(self.comparison_table,
                             (0, self.comparison.EXPERIMENTS_COLUMN, self.comparison.FIRST_SEED_COLUMN))
        caption = QLabel(
            "The talk's table on the run's features. loeo: leave one experiment out (the honest figure for the next, "
            "unseen tool). seed: random 80/20 split of the rows (optimistic: rows of one run land on both sides)."
        )
        caption.setWordWrap(True)
        self.baseline_status = QLabel(f"{baseline_names()}: after a training run.")
        self.baseline_status.setWordWrap(True)
        self.baseline_button = QPushButton("Compute baselines")
        self.baseline_button.setToolTip(f"{baseline_names()} under LOEO and seed, on the run's feature set.")
        self.baseline_button.clicked.connect(self._baselines_clicked)
        baseline_row = QHBoxLayout()
        baseline_row.addWidget(self.baseline_status, 1)
        baseline_row.addWidget(self.baseline_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(caption)
        layout.addWidget(self.comparison_table)
        layout.addLayout(baseline_row)

        self.baseliner.progress.connect(lambda fraction, message: self.baseline_status.setText(
            f"Computing the baselines: {message} ({fraction:.0%})"))
        self.baseliner.succeeded.connect(self._on_baselines)
        self.baseliner.failed.connect(lambda message: self.baseline_status.setText(f"✖ Baselines failed: {message}"))
        self.baseliner.cancelled.connect(lambda: self.baseline_status.setText("Baselines cancelled."))

    def update_button(self, training: bool) -> None:
        if self.baseliner.running:
            self.baseline_button.setText("Cancel baselines")
            self.baseline_button.setEnabled(True)
        else:
            self.baseline_button.setText("Compute baselines")
            self.baseline_button.setEnabled(self.outcome is not None and not training)

    def _baselines_clicked(self) -> None:
        if self.baseliner.running:
            self.baseliner.cancel()
        elif self.outcome is not None and self.state.dataset is not None:
            feature_set = self.outcome.result.feature_set
            self._baselines_for = (self.state.dataset, feature_set)
            self.baseline_status.setText(f"Computing {baseline_names()} …")
            self.baseliner.start(baselines_in_worker, self.state.dataset, feature_set)

    def _on_baselines(self, rows: list) -> None:
        self.baselines = rows
        self.baseline_status.setText("Baselines computed on the same rows and features (not logged to MLflow).")
        self._show_comparison()

    def show_outcome(self, outcome: TrainingOutcome) -> None:
        self.outcome = outcome
        self._show_comparison()

    def _show_comparison(self) -> None:
        if self.outcome is None:
            return
        current = (self.state.dataset, self.outcome.result.feature_set)
        baselines = self.baselines if self._baselines_for == current else []
        if not baselines and not self.baseliner.running:
            self.baseline_status.setText(f"{baseline_names()}: not computed yet — Compute baselines "
                                         f"(a few minutes: {len(BASELINES)} models, one fit per experiment under LOEO).")
        automl = self.outcome.rows
        self.comparison.set_rows(baselines + automl, highlight=automl[0].label if automl else None)
