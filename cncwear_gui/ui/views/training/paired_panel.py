"""The paired protocol: the taught monitor on matched unworn/worn runs of one setup, with the
champion's verdict beside it (models/paired.py). The report comes from a ``cncwear benchmark
--protocol paired`` child run in a worker; the panel only shows its table and summary."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QPushButton, QVBoxLayout, QWidget

from ...state import AppState
from ...table_models import _CachedCellsTable, fit_columns_on_reset, row_table
from ...widgets import text_label
from ...workers import TaskRunner
from ..training_jobs import paired_in_worker

MAX_COLUMN_PX = 260  # a long cell (why a pair is not taught) is elided; its tooltip has it whole
CAPTION = ("Paired protocol: per setup, the taught monitor learns on the first half of each phase of the unworn "
           "run, is judged on the rest (false alarms) and on the worn run (detected, seconds of cutting). "
           "Default limits, nothing tuned on the worn runs.")


class PairedTableModel(_CachedCellsTable):
    """The report's rows as the core formats them (``PairedReport.rows()``)."""

    def __init__(self):
        super().__init__()
        self.COLUMNS: tuple[str, ...] = ()
        self.table_rows: list[list[str]] = []

    def set_table(self, columns: list[str], rows: list[list[str]]) -> None:
        self.beginResetModel()
        self.COLUMNS, self.table_rows = tuple(columns), [list(row) for row in rows]
        self.endResetModel()

    def _rows(self) -> int:
        return len(self.table_rows)

    def cell(self, row: int, column: int, role: int):
        if role in (Qt.DisplayRole, Qt.ToolTipRole):
            return self.table_rows[row][column]
        return None


class PairedPanel(QWidget):
    def __init__(self, state: AppState, parent=None):
        super().__init__(parent)
        self.state = state
        self.report: dict | None = None
        self.failure = ""  # why the last run failed
        self.paired_runner = TaskRunner(self)

        self.paired_model = PairedTableModel()
        self.paired_table = row_table(self.paired_model)
        fit_columns_on_reset(self.paired_table)
        self.paired_table.horizontalHeader().setStretchLastSection(True)
        self.paired_table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 8)  # compact rows
        self.paired_button = QPushButton("Run paired protocol")
        self.paired_button.setToolTip("The taught monitor and the champion on the dataset's matched unworn/worn runs "
                                      "(a few seconds; the champion is loaded in a child process).")
        self.paired_button.clicked.connect(self._clicked)
        self.paired_status = text_label("Paired protocol: not run yet.")
        self.paired_summary = text_label("")
        self.paired_summary.hide()
        top = QHBoxLayout()
        top.addWidget(text_label(CAPTION), 1)
        top.addWidget(self.paired_button, 0, Qt.AlignTop)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.paired_table, 1)
        layout.addWidget(self.paired_summary)
        layout.addWidget(self.paired_status)

        self.paired_runner.progress.connect(lambda fraction, message: self.paired_status.setText(
            f"Paired protocol: {message} ({fraction:.0%})"))
        self.paired_runner.succeeded.connect(self._on_report)
        self.paired_runner.failed.connect(self._on_failed)
        self.paired_runner.cancelled.connect(lambda: self.paired_status.setText("Paired protocol cancelled."))
        self.paired_runner.running_changed.connect(lambda _running: self.update_button())
        state.dataset_changed.connect(lambda _dataset: self.update_button())
        self.update_button()

    @property
    def loaded(self) -> bool:
        """A report or a failure is shown and nothing is running (the screenshot mode waits for it)."""
        return (self.report is not None or bool(self.failure)) and not self.paired_runner.running

    def update_button(self) -> None:
        running = self.paired_runner.running
        self.paired_button.setText("Cancel" if running else "Run paired protocol")
        self.paired_button.setEnabled(running or self.state.dataset is not None)

    def run(self) -> None:
        if self.state.dataset is not None and not self.paired_runner.running:
            self.failure = ""
            self.paired_status.setText("Paired protocol: starting …")
            self.paired_runner.start(paired_in_worker, self.state.dataset)

    def _clicked(self) -> None:
        if self.paired_runner.running:
            self.paired_runner.cancel()
        else:
            self.run()

    def _on_failed(self, message: str) -> None:
        self.failure = message
        self.paired_status.setText(f"✖ Paired protocol failed: {message}")

    def _on_report(self, report: dict) -> None:
        self.report = report
        table = report["table"]
        self.paired_model.set_table(table["columns"], table["rows"])
        # every pair in view without scrolling
        row_height = self.paired_table.verticalHeader().defaultSectionSize()
        self.paired_table.setMinimumHeight(row_height * (len(table["rows"]) + 1) + 8)
        header = self.paired_table.horizontalHeader()
        for column in range(self.paired_model.columnCount()):
            if header.sectionSize(column) > MAX_COLUMN_PX:
                header.resizeSection(column, MAX_COLUMN_PX)
        self.paired_summary.setText(report["summary"])
        self.paired_summary.show()
        classifier = report.get("classifier")
        self.paired_status.setText(
            f"Classifier: {classifier}, P(worn) ≥ {report['threshold']:g}. {report.get('classifier_note') or ''}"
            if classifier else "No classifier column.")
