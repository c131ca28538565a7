"""Qt table models over core objects. Virtualised: Qt asks only for the visible cells."""

from __future__ import annotations

from pathlib import Path

from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView

from ..data.schema import QUALITY_FLAGS
from .theme import CAUTION_BACKGROUND, FAILED_BACKGROUND

if TYPE_CHECKING:  # pandas stays off the start-up path
    import pandas as pd

    from ..data.dataset import Dataset
    from ..models.scoring import ScoredDataset

STATUS_TEXT = {"ok": "✔ OK", "warning": "▲ Warning", "rejected": "✖ Rejected"}
STATUS_BACKGROUND = {"ok": None, "warning": QColor(CAUTION_BACKGROUND), "rejected": QColor(FAILED_BACKGROUND)}
_FLAG_NAMES = {name: text for _, name, text in QUALITY_FLAGS}
_FLAG_SHORT = {
    "m1_feedrate_50": "FEED=50",
    "x1_position_198": "X=198",
    "m1_program_nonzero": "Prog≠0",
    "out_of_range": "range",
    "non_finite": "NaN/inf",
    "unknown_phase": "phase?",
}


def describe_flags(bits: int) -> str:
    """A flag bitmask as short names, e.g. 'FEED=50 · X=198 · Prog≠0'."""
    return " · ".join(_FLAG_SHORT[name] for bit, name, _ in QUALITY_FLAGS if bits & bit)


def row_table(model: QAbstractTableModel) -> QTableView:
    """A compact table that selects one whole row at a time (reports, verdicts)."""
    table = QTableView()
    table.setModel(model)
    table.setSelectionBehavior(QAbstractItemView.SelectRows)
    table.setSelectionMode(QAbstractItemView.SingleSelection)
    table.verticalHeader().hide()
    table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeToContents)
    return table


def fit_columns_on_reset(table: QTableView, columns: tuple[int, ...] | None = None) -> None:
    """Size ``columns`` (all by default) to their contents once per model reset instead of in
    every layout pass, as ResizeToContents does: each pass measures every cell's text on the GUI
    thread, several times in the frame in which new rows appear."""
    header = table.horizontalHeader()
    model = table.model()

    def fit() -> None:
        for column in range(model.columnCount()) if columns is None else columns:
            table.resizeColumnToContents(column)

    if columns is None:
        header.setSectionResizeMode(QHeaderView.Interactive)
    else:
        for column in columns:
            header.setSectionResizeMode(column, QHeaderView.Interactive)
    model.modelReset.connect(fit)
    fit()


class _Table(QAbstractTableModel):
    COLUMNS: tuple[str, ...] = ()

    def rowCount(self, parent=QModelIndex()):
        return 0 if parent.isValid() else self._rows()

    def columnCount(self, parent=QModelIndex()):
        return 0 if parent.isValid() else len(self.COLUMNS)

    def headerData(self, section, orientation, role=Qt.DisplayRole):
        if role != Qt.DisplayRole:
            return None
        return self.COLUMNS[section] if orientation == Qt.Horizontal else str(section + 1)

    def _rows(self) -> int:
        raise NotImplementedError


class _CachedCellsTable(_Table):
    """A small table whose cells are computed once per model reset.

    While it sizes columns and paints, Qt asks for every cell in every role several times; each
    answer is a Python call on the GUI thread. Subclasses implement ``cell`` and reset the model
    (begin/endResetModel) whenever their rows change.
    """

    def __init__(self):
        super().__init__()
        self._cells: dict[tuple[int, int, int], object] = {}

    def beginResetModel(self) -> None:
        self._cells.clear()
        super().beginResetModel()

    def data(self, index, role=Qt.DisplayRole):
        if not index.isValid():
            return None
        key = (index.row(), index.column(), role)
        try:
            return self._cells[key]
        except KeyError:
            value = self._cells[key] = self.cell(key[0], key[1], role)
            return value

    def cell(self, row: int, column: int, role: int):
        raise NotImplementedError


class ReportTableModel(_Table):
    """One row per file: status as text and symbol (never colour alone), counts, first problem."""

    COLUMNS = ("Status", "File", "Exp.", "Rows", "Unreliable", "FEED=50", "X=198", "Prog≠0", "Out of range", "NaN/inf", "First problem")
    _FLAG_COLUMNS = {4: "documented_unreliable", 5: "m1_feedrate_50", 6: "x1_position_198", 7: "m1_program_nonzero", 8: "out_of_range", 9: "non_finite"}

    def __init__(self):
        super().__init__()
        self.reports = []

    def set_dataset(self, dataset: Dataset) -> None:
        self.beginResetModel()
        self.reports = list(dataset.reports)
        self.endResetModel()

    def _rows(self) -> int:
        return len(self.reports)

    def data(self, index, role=Qt.DisplayRole):
        report = self.reports[index.row()]
        column = index.column()
        if role == Qt.BackgroundRole:
            return STATUS_BACKGROUND[report.status]
        if role == Qt.ToolTipRole and column == len(self.COLUMNS) - 1:
            return "\n".join(p.located(Path(report.path).name) for p in report.errors + report.warnings) or None
        if role == Qt.ToolTipRole and column in self._FLAG_COLUMNS:
            return _FLAG_NAMES.get(self._FLAG_COLUMNS[column], "rows matching either documented rule")
        if role != Qt.DisplayRole:
            return None
        if column == 0:
            return STATUS_TEXT[report.status] + (": unlabelled" if report.status_text == "warning: unlabelled" else "")
        if column == 1:
            return Path(report.path).name
        if column == 2:
            return "none" if report.unlabelled else "" if report.experiment is None else str(report.experiment)
        if column == 3:
            return f"{report.rows:,}"
        if column in self._FLAG_COLUMNS:
            value = report.flags.get(self._FLAG_COLUMNS[column])
            return "" if value is None else f"{value:,}"
        problems = report.errors or report.warnings
        return problems[0].located(Path(report.path).name) if problems else ""


class SamplesTableModel(_Table):
    """All samples of a dataset; cells are formatted on demand from numpy columns."""

    def __init__(self):
        super().__init__()
        self._frame = None
        self._columns: list[np.ndarray] = []
        self.COLUMNS = ()

    def set_frame(self, frame: pd.DataFrame) -> None:
        self.beginResetModel()
        self._frame = frame
        self.COLUMNS = tuple(frame.columns)
        self._columns = [frame[c].to_numpy() for c in frame.columns]
        self.endResetModel()

    def _rows(self) -> int:
        return 0 if self._frame is None else len(self._frame)

    def data(self, index, role=Qt.DisplayRole):
        if role not in (Qt.DisplayRole, Qt.TextAlignmentRole):
            return None
        value = self._columns[index.column()][index.row()]
        if self.COLUMNS[index.column()] == "quality_flags":
            return describe_flags(int(value)) if role == Qt.DisplayRole else None
        if role == Qt.TextAlignmentRole:
            return int(Qt.AlignRight | Qt.AlignVCenter) if isinstance(value, (float, np.floating, np.integer)) else None
        if isinstance(value, (float, np.floating)):
            return f"{value:.6g}"
        return str(value)

    def row_of(self, experiment: int, row: int) -> int | None:
        matches = np.flatnonzero((self._frame["experiment"].to_numpy() == experiment) & (self._frame["row"].to_numpy() == row))
        return int(matches[0]) if matches.size else None


class VerdictTableModel(_Table):
    COLUMNS = ("Exp.", "Verdict", "Mean P(worn)", "Confidence", "True label", "Match")

    def __init__(self):
        super().__init__()
        self.scores: list = []

    def set_scores(self, scored: ScoredDataset) -> None:
        self.beginResetModel()
        self.scores = [scored.experiments[n] for n in sorted(scored.experiments)]
        self.endResetModel()

    def _rows(self) -> int:
        return len(self.scores)

    def data(self, index, role=Qt.DisplayRole):
        score = self.scores[index.row()]
        column = index.column()
        if role == Qt.BackgroundRole and column == 5 and score.correct is False:
            return QColor(FAILED_BACKGROUND)
        if role != Qt.DisplayRole:
            return None
        truth = {1: "worn", 0: "unworn"}.get(score.true_worn, "unknown")
        match = {True: "✔ yes", False: "✖ no", None: "—"}[score.correct]
        values = (
            f"{score.source} (unlabelled)" if score.experiment < 0 else str(score.experiment),
            "▲ WORN" if score.verdict_worn else "● OK",
            f"{score.mean_probability:.2f}",
            f"{score.confidence:.0%}",
            truth,
            match,
        )
        return values[column]


def describe_config(config: dict | None) -> str:
    """A hyperparameter dict on one line: 'n_estimators=45 · learning_rate=0.131 · …'."""
    if not config:
        return ""
    return " · ".join(f"{key}={value:.3g}" if isinstance(value, float) else f"{key}={value}" for key, value in config.items())


class LeaderboardTableModel(_CachedCellsTable):
    """An AutoML leaderboard (list of dicts). FLAML: best candidate per model family with its
    trial count and configuration; auto-sklearn: the kept models with their ensemble weights."""

    _HEADERS = {"rank": "#", "model": "Model", "score": "Search score", "trials": "Trials", "weight": "Ensemble weight",
                "duration_s": "Fit s", "config": "Best configuration"}

    def __init__(self):
        super().__init__()
        self.rows: list[dict] = []
        self.keys: list[str] = []
        self.COLUMNS = ()

    def set_rows(self, rows: list[dict]) -> None:
        self.beginResetModel()
        self.rows = list(rows)
        present = {key for row in self.rows for key in row}
        self.keys = [key for key in self._HEADERS if key in present]
        self.COLUMNS = tuple(self._HEADERS[key] for key in self.keys)
        self.endResetModel()

    def _rows(self) -> int:
        return len(self.rows)

    def cell(self, row: int, column: int, role: int):
        key = self.keys[column]
        value = self.rows[row].get(key)
        if role == Qt.ToolTipRole and key == "config":
            return "\n".join(f"{k} = {v}" for k, v in (value or {}).items()) or None
        if role == Qt.TextAlignmentRole and key not in ("model", "config"):
            return int(Qt.AlignRight | Qt.AlignVCenter)
        if role != Qt.DisplayRole or value is None:
            return None
        if key == "config":
            return describe_config(value)
        if key == "score":
            return f"{value:.4f}"
        return f"{value:g}" if isinstance(value, float) else str(value)


_METRICS = ("accuracy", "precision", "recall", "f1", "mcc")
_METRIC_NAMES = {"accuracy": "accuracy", "precision": "precision", "recall": "recall", "f1": "F1", "mcc": "MCC"}
_PROTOCOLS = ("seed", "loeo")


def per_experiment_text(row) -> str | None:
    """Each held-out experiment's verdict under LOEO, the wrong ones first (a cell's tooltip)."""
    if row is None or not row.per_experiment:
        return None
    verdicts = sorted(row.per_experiment, key=lambda v: (v["correct"], v["experiment"]))
    lines = [f"{'✔' if v['correct'] else '✖'} experiment {v['experiment']}: {v['true']}, called {v['predicted']} "
             f"({v['worn_share']:.0%} of {v['rows']:,} samples called worn, {v['row_accuracy']:.0%} of rows right)"
             for v in verdicts]
    return "Held out one at a time (LOEO):\n" + "\n".join(lines)


class ComparisonTableModel(_CachedCellsTable):
    """The talk's table: one row per model, the seed and LOEO protocols side by side.

    Rows are ``benchmark.BenchmarkRow``s (label, protocol, metrics, experiments_correct,
    experiments); a model without rows yet (baselines not computed) shows dashes.
    """

    METRICS = _METRICS
    PROTOCOLS = _PROTOCOLS
    COLUMNS = ("Model", *(f"{p}\n{_METRIC_NAMES[m]}" for p in _PROTOCOLS for m in _METRICS), "loeo\nexperiments")

    def __init__(self, placeholders: tuple[str, ...] = ("Decision Tree", "Random Forest")):
        super().__init__()
        self.placeholders = placeholders
        self.models: list[str] = []
        self.cells: dict[tuple[str, str], object] = {}  # (model label, protocol) -> row
        self.highlight: str | None = None

    def set_rows(self, rows: list, highlight: str | None = None) -> None:
        """Baseline placeholders first (as in the talk), then the models of ``rows`` in order."""
        self.beginResetModel()
        self.cells = {(row.label, row.protocol): row for row in rows}
        self.models = list(dict.fromkeys([*self.placeholders, *(row.label for row in rows)]))
        self.highlight = highlight
        self.endResetModel()

    def _rows(self) -> int:
        return len(self.models)

    def cell(self, row: int, column: int, role: int):
        model = self.models[row]
        if role == Qt.FontRole and model == self.highlight:
            font = QFont()
            font.setBold(True)
            return font
        if role == Qt.TextAlignmentRole and column > 0:
            return int(Qt.AlignRight | Qt.AlignVCenter)
        if role == Qt.ToolTipRole and column == len(self.COLUMNS) - 1:
            return per_experiment_text(self.cells.get((model, "loeo")))
        if role != Qt.DisplayRole:
            return None
        if column == 0:
            computed = any((model, p) in self.cells for p in self.PROTOCOLS)
            return model if computed else f"{model} (not computed)"
        if column == len(self.COLUMNS) - 1:
            row = self.cells.get((model, "loeo"))
            return "—" if row is None or row.experiments is None else f"{row.experiments_correct}/{row.experiments}"
        protocol = self.PROTOCOLS[(column - 1) // len(self.METRICS)]
        metric = self.METRICS[(column - 1) % len(self.METRICS)]
        row = self.cells.get((model, protocol))
        if row is None:
            return "—"
        value = row.metrics[metric]
        return f"{value:.2%}" if metric == "accuracy" else f"{value:.4f}"
