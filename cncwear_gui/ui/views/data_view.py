"""Data view: the validation report per file, all samples in a virtualised table, signal plots
with the machining phases shaded.

A configured data directory that is not there (a network share not mounted) is said here, above
the reports; nothing else is loaded in its place and no setting changes: Reload opens it once it is back."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListWidget,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)


from ...data.schema import FLAG_BITS, PHASES, SAMPLE_PERIOD_S, SIGNAL_COLUMNS
from ..state import AppState
from ..table_models import ReportTableModel, SamplesTableModel, row_table
from ..theme import PHASE_CUT, PHASE_CUT_LIGHT, PHASE_IDLE, PHASE_UNKNOWN, signal_colour

if TYPE_CHECKING:
    from ...data.dataset import Dataset

DEFAULT_SIGNALS = ("X1_CurrentFeedback", "S1_CurrentFeedback")  # same unit (A), similar scale
_PHASE_BRUSHES = {
    name: pg.mkBrush(*colour)
    for name, colour in zip(PHASES, [PHASE_IDLE] * 2 + [PHASE_CUT, PHASE_CUT_LIGHT] * 3 + [PHASE_IDLE] * 2)
}


class DataView(QWidget):
    open_files_requested = Signal()
    open_folder_requested = Signal()
    reload_requested = Signal()  # the configured data directory again (it may be back)

    def __init__(self, state: AppState, parent=None):
        super().__init__(parent)
        self.state = state
        self.summary = QLabel("Loading …")
        self.summary.setObjectName("viewTitle")
        self.summary.setWordWrap(True)
        open_files = QPushButton("Open files…")
        open_folder = QPushButton("Open folder…")
        open_files.clicked.connect(self.open_files_requested)
        open_folder.clicked.connect(self.open_folder_requested)
        top = QHBoxLayout()
        top.addWidget(self.summary, 1)
        top.addWidget(QLabel("or drop CSV files here"))
        top.addWidget(open_files)
        top.addWidget(open_folder)

        self.folder_warning = QLabel()
        self.folder_warning.setObjectName("folderWarning")
        self.folder_warning.setWordWrap(True)
        self.reload_button = QPushButton("Reload")
        self.reload_button.setToolTip("Open the data directory of the settings again")
        self.reload_button.clicked.connect(self._reload)
        warning_row = QHBoxLayout()
        warning_row.addWidget(self.folder_warning, 1)
        warning_row.addWidget(self.reload_button)
        self.warning_panel = QWidget()
        self.warning_panel.setLayout(warning_row)

        self.reports = ReportTableModel()
        self.report_table = row_table(self.reports)
        self.report_table.horizontalHeader().setStretchLastSection(True)
        self.report_table.clicked.connect(self._file_clicked)

        self.samples = SamplesTableModel()
        self.sample_table = QTableView()
        self.sample_table.setModel(self.samples)
        self.sample_table.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.sample_table.verticalHeader().setDefaultSectionSize(22)
        self.sample_table.verticalHeader().setSectionResizeMode(QHeaderView.Fixed)
        self.sample_table.horizontalHeader().setDefaultSectionSize(110)

        self.experiment_box = QComboBox()
        self.experiment_box.currentIndexChanged.connect(self._replot)
        self.signal_list = QListWidget()
        self.signal_list.setSelectionMode(QAbstractItemView.MultiSelection)
        self.signal_list.addItems(SIGNAL_COLUMNS)
        self.signal_list.setMaximumWidth(240)
        for index, name in enumerate(SIGNAL_COLUMNS):
            if name in DEFAULT_SIGNALS:
                self.signal_list.item(index).setSelected(True)
        self.signal_list.itemSelectionChanged.connect(self._replot)
        self.plot = pg.PlotWidget()
        self.plot.setLabel("bottom", "time", units="s")
        self.plot.addLegend(offset=(10, 10))
        self.plot.showGrid(x=True, y=True, alpha=0.2)
        side = QVBoxLayout()
        side.addWidget(QLabel("Experiment"))
        side.addWidget(self.experiment_box)
        side.addWidget(QLabel("Signals"))
        side.addWidget(self.signal_list)
        legend = QLabel("Bands: blue = cutting layers\n(darker: Up, lighter: Down),\ngrey = prep / repositioning / end")
        legend.setWordWrap(True)
        side.addWidget(legend)
        plot_row = QHBoxLayout()
        plot_row.addLayout(side)
        plot_row.addWidget(self.plot, 1)
        plot_panel = QWidget()
        plot_panel.setLayout(plot_row)

        splitter = QSplitter(Qt.Vertical)
        splitter.addWidget(self.report_table)
        splitter.addWidget(plot_panel)
        splitter.addWidget(self.sample_table)
        splitter.setSizes([260, 360, 260])
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.warning_panel)
        layout.addWidget(splitter)
        state.dataset_changed.connect(self.show_dataset)
        state.settings_changed.connect(lambda _settings: self.show_folder_problem())
        self.show_folder_problem()

    def folder_problem(self) -> str:
        """What is wrong with the configured data directory, in words for this view; empty when nothing is."""
        problem = self.state.settings.data_dir_problem()
        if not problem:
            return ""
        return (f"⚠ The {problem} — a network share that is not mounted, or a folder moved? Nothing was changed: "
                "the settings keep it, and no other data is shown in its place. Reload opens it once it is back; "
                "Open files… or Open folder… opens other data; Edit → Settings changes it.")

    def show_folder_problem(self) -> None:
        text = self.folder_problem()
        self.folder_warning.setText(text)
        self.warning_panel.setVisible(bool(text))

    def _reload(self) -> None:
        self.show_folder_problem()
        self.reload_requested.emit()

    def showEvent(self, event) -> None:  # a share mounted meanwhile: say so when the view is looked at
        self.show_folder_problem()
        super().showEvent(event)

    @property
    def loaded(self) -> bool:
        return self.state.dataset is not None

    def show_dataset(self, dataset: Dataset) -> None:
        self.show_folder_problem()
        self.reports.set_dataset(dataset)
        samples = dataset.samples()
        visible = ["experiment", "row", "line", "Machining_Process", "quality_flags", *SIGNAL_COLUMNS, "tool_condition"]
        self.samples.set_frame(samples[[c for c in visible if c in samples.columns]])
        for name, width in (("Machining_Process", 130), ("quality_flags", 190)):
            if name in self.samples.COLUMNS:  # not when no file had samples (a missing data directory)
                self.sample_table.setColumnWidth(self.samples.COLUMNS.index(name), width)
        rejected = sum(not r.usable for r in dataset.reports)
        text = f"{len(dataset.experiments)} experiments · {dataset.rows:,} samples"
        if dataset.unlabelled:
            text += f" · {dataset.unlabelled} unlabelled file(s): scored and explained, not trained on"
        if rejected:
            text += f" · {rejected} file(s) rejected (see the first column)"
        self.summary.setText(text)
        self.experiment_box.blockSignals(True)
        self.experiment_box.clear()
        for number in sorted(dataset.experiments, key=lambda n: (n < 0, abs(n))):
            experiment = dataset.experiments[number]
            meta = experiment.meta
            condition = meta.tool_condition if meta and meta.tool_condition else "unknown"
            title = experiment.title if experiment.unlabelled else f"Experiment {number} ({condition})"
            self.experiment_box.addItem(title, number)
        self.experiment_box.blockSignals(False)
        self._replot()

    def _file_clicked(self, index) -> None:
        """Click through from a file to its rows: the first flagged row, else the first row."""
        report = self.reports.reports[index.row()]
        dataset = self.state.dataset
        if dataset is None:
            return
        experiment = next((e for e in dataset.experiments.values() if str(e.path) == report.path), None)
        if experiment is None:
            return
        flagged = np.flatnonzero(experiment.samples["quality_flags"].to_numpy() & ~FLAG_BITS["m1_program_nonzero"])  # near-universal: skip
        row = int(flagged[0]) if flagged.size else 0
        table_row = self.samples.row_of(experiment.number, row)
        if table_row is not None:
            self.sample_table.selectRow(table_row)
            self.sample_table.scrollTo(self.samples.index(table_row, 0), QAbstractItemView.PositionAtCenter)
        self.experiment_box.setCurrentIndex(self.experiment_box.findData(experiment.number))

    def _replot(self) -> None:
        self.plot.clear()
        dataset = self.state.dataset
        number = self.experiment_box.currentData()
        if dataset is None or number is None:
            return
        samples = dataset.experiments[number].samples
        time_s = np.arange(len(samples)) * SAMPLE_PERIOD_S
        self._shade_phases(samples["Machining_Process"].to_numpy(), time_s)
        for index, item in enumerate(self.signal_list.selectedItems()):
            curve = self.plot.plot(time_s, samples[item.text()].to_numpy(), pen=pg.mkPen(signal_colour(index), width=1.5), name=item.text())
            curve.setDownsampling(auto=True, method="peak")
            curve.setClipToView(True)

    def _shade_phases(self, process: np.ndarray, time_s: np.ndarray) -> None:
        """One translucent band per contiguous phase; cutting layers in blue, the rest grey."""
        if not len(process):
            return
        changes = np.flatnonzero(process[1:] != process[:-1]) + 1
        starts = np.concatenate(([0], changes))
        ends = np.concatenate((changes, [len(process)]))
        for start, end in zip(starts, ends):
            name = process[start]
            region = pg.LinearRegionItem(
                (time_s[start], time_s[end - 1] + 0.1), movable=False, brush=_PHASE_BRUSHES.get(name, pg.mkBrush(*PHASE_UNKNOWN))
            )
            region.setZValue(-10)
            for line in region.lines:
                line.setPen(pg.mkPen(None))
            self.plot.addItem(region)
