"""The main window. For now: the Data view with the validation report of the loaded files.

Operator, Predictions, Training, Explanations and Monitoring views arrive with their issues;
each is one panel added to ``self.tabs``.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from .. import __version__
from ..data.dataset import Dataset, load_dataset
from ..paths import bundled_dataset_dir
from .workers import TaskRunner

_STATUS_COLOURS = {"ok": None, "warning": QColor("#fff3cd"), "rejected": QColor("#f8d7da")}


class ReportTableModel(QAbstractTableModel):
    """One row per file: status (text, never colour alone), experiment, rows, flags, first problem."""

    COLUMNS = ("Status", "File", "Experiment", "Rows", "Unreliable rows", "Program ≠ 0", "First problem")

    def __init__(self):
        super().__init__()
        self._reports = []

    def set_dataset(self, dataset: Dataset) -> None:
        self.beginResetModel()
        self._reports = list(dataset.reports)
        self.endResetModel()

    def rowCount(self, parent=QModelIndex()):
        return 0 if parent.isValid() else len(self._reports)

    def columnCount(self, parent=QModelIndex()):
        return len(self.COLUMNS)

    def headerData(self, section, orientation, role=Qt.DisplayRole):
        if orientation == Qt.Horizontal and role == Qt.DisplayRole:
            return self.COLUMNS[section]
        return None

    def data(self, index, role=Qt.DisplayRole):
        report = self._reports[index.row()]
        if role == Qt.BackgroundRole:
            return _STATUS_COLOURS[report.status]
        if role != Qt.DisplayRole:
            return None
        flags = report.flags
        problems = report.errors or report.warnings
        values = (
            {"ok": "✔ OK", "warning": "▲ Warning", "rejected": "✖ Rejected"}[report.status],
            Path(report.path).name,
            "" if report.experiment is None else str(report.experiment),
            str(report.rows),
            str(flags.get("documented_unreliable", "")),
            str(flags.get("m1_program_nonzero", "")) if flags else "",
            problems[0].located(Path(report.path).name) if problems else "",
        )
        return values[index.column()]


class DataView(QWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.summary = QLabel("Loading the bundled dataset …")
        self.summary.setWordWrap(True)
        font = self.summary.font()
        font.setPointSize(font.pointSize() + 2)
        self.summary.setFont(font)
        self.model = ReportTableModel()
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.table)

    def show_dataset(self, dataset: Dataset) -> None:
        self.model.set_dataset(dataset)
        rejected = sum(not r.usable for r in dataset.reports)
        text = f"{len(dataset.experiments)} experiments, {dataset.rows:,} samples loaded"
        if rejected:
            text += f" — {rejected} file(s) rejected, see below"
        self.summary.setText(text)


class MainWindow(QMainWindow):
    def __init__(self, initial_paths: list[Path] | None = None):
        super().__init__()
        self.setWindowTitle(f"cncwear {__version__} — milling-tool wear")
        self.resize(1280, 800)
        self.dataset: Dataset | None = None
        self.loader = TaskRunner(self)

        self.tabs = QTabWidget()
        self.data_view = DataView()
        self.tabs.addTab(self.data_view, "Data")

        self.open_button = QPushButton("Open files…")
        self.open_button.setMinimumHeight(48)
        self.open_button.clicked.connect(self._choose_files)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setTextVisible(True)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setMinimumHeight(48)
        self.cancel_button.clicked.connect(self.loader.cancel)
        bar = QHBoxLayout()
        bar.addWidget(self.open_button)
        bar.addWidget(self.progress, 1)
        bar.addWidget(self.cancel_button)

        central = QWidget()
        layout = QVBoxLayout(central)
        layout.addLayout(bar)
        layout.addWidget(self.tabs)
        self.setCentralWidget(central)

        self.loader.progress.connect(self._on_progress)
        self.loader.succeeded.connect(self._on_loaded)
        self.loader.failed.connect(self._on_failed)
        self.loader.running_changed.connect(self._on_running)
        self.load(initial_paths or [bundled_dataset_dir()])

    def load(self, paths: list[Path]) -> None:
        self.loader.start(load_dataset, paths)

    def _choose_files(self) -> None:
        files, _ = QFileDialog.getOpenFileNames(self, "Open experiment files", "", "CSV files (*.csv)")
        if files:
            self.load([Path(f) for f in files])

    def _on_progress(self, fraction: float, message: str) -> None:
        self.progress.setValue(int(fraction * 1000))
        self.progress.setFormat(message or "%p%")

    def _on_running(self, running: bool) -> None:
        self.cancel_button.setEnabled(running)
        if not running and self.progress.value() < 1000:
            self.progress.setFormat("cancelled")

    def _on_loaded(self, dataset: Dataset) -> None:
        self.dataset = dataset
        self.data_view.show_dataset(dataset)
        self.progress.setValue(1000)
        self.progress.setFormat("ready")

    def _on_failed(self, message: str) -> None:
        self.progress.setFormat("failed")
        QMessageBox.critical(self, "Loading failed", message)

    def closeEvent(self, event) -> None:
        self.loader.shutdown()
        super().closeEvent(event)
