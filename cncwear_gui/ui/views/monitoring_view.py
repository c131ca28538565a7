"""Monitoring view, for maintenance staff and quality engineers: is the model still fit for the
machines, how good is it, how is the app doing, and what did the automated pipeline do.

* Header: the champion (engine, age, recorded accuracies) and **Retrain now**, which runs the
  automated pipeline in a child process with progress and Cancel, then shows its outcome.
* Drift over time: every ``DRIFT_CHECK_S`` each machine's last window is compared with the
  champion's training reference (PSI and KS per feature, in a worker); a heatmap per machine, the
  largest PSI per feature group over time, the latest check's top features and reasons, and the
  window's predicted P(worn) distribution against the reference's.
* Model statistics from the snapshot: confusion matrix, ROC, precision/recall vs threshold.
* Application metrics (Prometheus registry of this process), refreshed every 2 s while shown.
* Pipeline triggers and the history of firings.

The snapshot comes from a ``cncwear monitor`` child (monitoring_jobs.py): mlflow never loads here.
"""

from __future__ import annotations

import json
import threading
from collections import deque
from datetime import datetime, timezone
from typing import Callable

import numpy as np
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QFrame,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QSizePolicy,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ...automl.config import MIN_BUDGET_S
from ..state import AppState
from ..workers import TaskRunner
from .monitoring_jobs import (
    HISTORY_LIMIT,
    DriftCheck,
    MonitoringSnapshot,
    RetrainOutcome,
    check_drift_in_worker,
    count_retrain,
    describe_firing,
    load_snapshot,
    metric_rows,
    run_pipeline_in_worker,
)
from .monitoring_plots import (
    LEVEL_BACKGROUND,
    LEVEL_TEXT,
    THRESHOLDS,
    ConfusionMatrix,
    DriftHeatmap,
    GroupPsiPlot,
    PrecisionRecallPlot,
    PredictionHistogram,
    RocPlot,
)
from .training_jobs import dataset_files

DRIFT_CHECK_S = 10  # every machine's window is checked this often
DRIFT_HISTORY = 360  # checks kept per machine: an hour at one check every 10 s
METRICS_REFRESH_MS = 2000
TOP_FEATURES = 10
MAX_BUDGET_S = 3600
FAILED_STYLE = "background: #efc0c0;"  # colour only for the abnormal state, always with text
WARN_STYLE = "background: #f3d9a0;"
STATUS_TEXT = {"promoted": "✔ promoted", "kept": "● kept", "failed": "✖ failed", "skipped": "– skipped",
               "running": "▶ running", "cancelled": "■ cancelled"}
OUTCOME_SYMBOL = {"promoted": "✔", "kept": "●", "failed": "✖", "skipped": "–", "cancelled": "■"}
TRIGGER_NAMES = {"schedule": "Schedule", "new-data": "New data", "degradation": "Degradation", "manual": "Manual",
                 "drift": "Drift"}

WindowSource = Callable[[], dict]  # machine → (Dataset.samples()-shaped rows, their P(worn))


def _utc(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        value = datetime.fromisoformat(str(text))
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def _percent(value: float | None) -> str:
    return "not recorded" if value is None else f"{value:.1%}"


def _item(text: str, tooltip: str | None = None, align_right: bool = False) -> QTableWidgetItem:
    item = QTableWidgetItem(text)
    item.setFlags(Qt.ItemIsEnabled | Qt.ItemIsSelectable)
    if tooltip:
        item.setToolTip(tooltip)
    if align_right:
        item.setTextAlignment(int(Qt.AlignRight | Qt.AlignVCenter))
    return item


def _table(columns: tuple[str, ...], stretch_last: bool = True) -> QTableWidget:
    table = QTableWidget(0, len(columns))
    table.setHorizontalHeaderLabels(columns)
    table.verticalHeader().hide()
    table.setEditTriggers(QAbstractItemView.NoEditTriggers)
    table.setSelectionBehavior(QAbstractItemView.SelectRows)
    table.setSelectionMode(QAbstractItemView.SingleSelection)
    table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeToContents)
    table.horizontalHeader().setStretchLastSection(stretch_last)
    table.verticalHeader().setDefaultSectionSize(20)
    table.verticalHeader().setMinimumSectionSize(18)
    return table


def _label(text: str = "", selectable: bool = True) -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    if selectable:
        label.setTextInteractionFlags(Qt.TextSelectableByMouse)
    return label


def _group(title: str, *items, grow: QWidget | None = None) -> QGroupBox:
    """A titled box of widgets and layouts, top to bottom; ``grow`` takes the spare height."""
    box = QGroupBox(title)
    layout = QVBoxLayout(box)
    layout.setContentsMargins(6, 6, 6, 6)
    for item in items:
        if isinstance(item, QWidget):
            layout.addWidget(item, 1 if item is grow else 0)
        else:
            layout.addLayout(item)
    return box


class MonitoringView(QWidget):
    champion_changed = Signal()  # a retrain promoted a new champion: the main window reloads it

    def __init__(self, state: AppState, window_source: WindowSource | None = None, parent=None):
        super().__init__(parent)
        self.state = state
        self.window_source = window_source
        self.snapshot: MonitoringSnapshot | None = None
        self.snapshot_error = ""
        self.last_retrain: RetrainOutcome | None = None
        self.drift_history: dict[str, deque[DriftCheck]] = {}
        self._shown_once = False
        self._stop: threading.Event | None = None
        self._columns: list[str] = []  # heatmap rows: the reference's feature columns

        self.snapshot_runner = TaskRunner(self)
        self.pipeline_runner = TaskRunner(self)
        self.drift_runner = TaskRunner(self)  # quiet and frequent: left out of the status bar's runners
        self.runners = (self.snapshot_runner, self.pipeline_runner)

        self._build_header()
        self._build_drift()
        self._build_statistics()
        self._build_metrics()
        self._build_history()
        middle = QSplitter(Qt.Vertical)
        middle.addWidget(self.group_box)
        middle.addWidget(self.latest_box)
        middle.addWidget(self.history_box)
        middle.setSizes([215, 310, 285])
        right = QSplitter(Qt.Vertical)
        right.addWidget(self.statistics_box)
        right.addWidget(self.prediction_box)
        right.addWidget(self.metrics_box)
        right.setSizes([380, 210, 220])
        body = QSplitter(Qt.Horizontal)
        body.addWidget(self.heatmap_box)
        body.addWidget(middle)
        body.addWidget(right)
        body.setSizes([440, 540, 620])
        layout = QVBoxLayout(self)
        layout.addWidget(self.header)
        layout.addWidget(body, 1)

        self.snapshot_runner.progress.connect(self._on_snapshot_progress)
        self.snapshot_runner.succeeded.connect(self.set_snapshot)
        self.snapshot_runner.failed.connect(self._on_snapshot_failed)
        self.snapshot_runner.cancelled.connect(lambda: self._set_snapshot_status("Loading the monitoring data was cancelled."))
        self.pipeline_runner.progress.connect(self._on_retrain_progress)
        self.pipeline_runner.succeeded.connect(self._on_retrained)
        self.pipeline_runner.failed.connect(self._on_retrain_failed)
        self.pipeline_runner.cancelled.connect(self._on_retrain_cancelled)
        self.pipeline_runner.running_changed.connect(self._update_buttons)
        self.drift_runner.succeeded.connect(self._on_drift)
        self.drift_runner.failed.connect(lambda message: self._set_drift_status(f"✖ Drift check failed: {message}", failed=True))
        state.model_changed.connect(self._on_model_changed)
        state.settings_changed.connect(lambda _settings: self._show_statistics())
        state.pipeline_watcher_changed.connect(self._show_watcher)

        self.drift_timer = QTimer(self)
        self.drift_timer.setInterval(DRIFT_CHECK_S * 1000)
        self.drift_timer.timeout.connect(self.check_drift_now)
        if window_source is not None:
            self.drift_timer.start()
        self.metrics_timer = QTimer(self)
        self.metrics_timer.setInterval(METRICS_REFRESH_MS)
        self.metrics_timer.timeout.connect(self.refresh_metrics)
        self._show_champion()
        self._update_buttons()
        self.refresh_metrics()
        self._show_watcher(*state.pipeline_watcher_status)

    # -- layout ---------------------------------------------------------------------------------
    def _build_header(self) -> None:
        self.champion_label = _label("Champion: —")
        self.champion_label.setObjectName("viewTitle")
        self.champion_figures = _label("")
        self.budget = QSpinBox()
        self.budget.setRange(MIN_BUDGET_S["flaml"], MAX_BUDGET_S)
        self.budget.setValue(max(MIN_BUDGET_S["flaml"], int(self.state.settings.pipeline_budget_s)))
        self.budget.setSuffix(" s")
        self.budget.setToolTip("The AutoML search budget of the retrain (evaluation and the gate come on top).")
        self.retrain_button = QPushButton("Retrain now")
        self.retrain_button.setToolTip("Run the automated pipeline once: validate → features → train → evaluate → "
                                       "gate → register → promote. The champion changes only when the gate passes.")
        self.retrain_button.clicked.connect(self.retrain)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.cancel_retrain)
        self.retrain_progress = QProgressBar()
        self.retrain_progress.setRange(0, 1000)
        self.retrain_progress.setValue(0)
        self.retrain_progress.setFormat("idle")
        self.retrain_progress.setMinimumWidth(360)
        self.retrain_status = _label("No retrain from this window yet. Retrain now runs the pipeline on the loaded "
                                     "data; the gate promotes the new model only when it is not worse than the champion.")
        self.snapshot_status = _label("The monitoring data is read when this tab is first shown.")
        self.snapshot_progress = QProgressBar()
        self.snapshot_progress.setRange(0, 1000)
        self.snapshot_progress.setMaximumWidth(220)
        self.snapshot_progress.setFormat("snapshot")

        self.header = QFrame()
        self.header.setFrameShape(QFrame.StyledPanel)
        self.header.setSizePolicy(QSizePolicy.Preferred, QSizePolicy.Maximum)
        grid = QGridLayout(self.header)
        grid.setContentsMargins(8, 4, 8, 4)
        grid.setVerticalSpacing(2)
        grid.addWidget(self.champion_label, 0, 0)
        grid.addWidget(self.champion_figures, 1, 0)
        controls = QHBoxLayout()
        controls.addWidget(QLabel("Search budget"))
        controls.addWidget(self.budget)
        controls.addWidget(self.retrain_button)
        controls.addWidget(self.cancel_button)
        controls.addWidget(self.retrain_progress, 1)
        grid.addLayout(controls, 0, 1)
        grid.addWidget(self.retrain_status, 1, 1)
        snapshot = QHBoxLayout()
        snapshot.addWidget(self.snapshot_progress)
        snapshot.addWidget(self.snapshot_status, 1)
        grid.addLayout(snapshot, 2, 0, 1, 2)
        grid.setColumnStretch(0, 1)
        grid.setColumnStretch(1, 1)

    def _build_drift(self) -> None:
        self.machine_box = QComboBox()
        self.machine_box.setMinimumWidth(110)
        self.machine_box.currentIndexChanged.connect(lambda _index: self._show_drift())
        self.check_button = QPushButton("Check now")
        self.check_button.setToolTip(f"Compare every machine's last window with the training data now "
                                     f"(automatically every {DRIFT_CHECK_S} s).")
        self.check_button.clicked.connect(self.check_drift_now)
        self.drift_status = _label(f"Every {DRIFT_CHECK_S} s each machine's last window (up to 10 minutes) is compared "
                                   "with the champion's training data.")
        self.heatmap = DriftHeatmap()
        picker = QHBoxLayout()
        picker.addWidget(QLabel("Machine"))
        picker.addWidget(self.machine_box)
        picker.addWidget(self.check_button)
        picker.addStretch(1)
        caption = _label("PSI (population stability index) of each feature's distribution in the window vs the "
                         "training data: grey < 0.1 no real change, amber 0.1–0.25 moderate, red ≥ 0.25 significant. "
                         "A window of one run always differs somewhat from the pooled training runs (feedrate, "
                         "positions): watch for features that turn red and stay red.")
        self.heatmap_box = _group("Drift over time: PSI per feature and check", picker, self.drift_status, self.heatmap,
                                  self.heatmap.hovered, caption, grow=self.heatmap)

        self.group_plot = GroupPsiPlot()
        self.group_box = _group("Largest PSI per feature group (log scale)", self.group_plot, grow=self.group_plot)

        self.drift_verdict = _label("No drift check yet.")
        bold = QFont()
        bold.setPointSize(11)
        bold.setBold(True)
        self.drift_verdict.setFont(bold)
        self.reasons_label = _label("")
        self.drift_table = _table(("Feature", "Group", "PSI", "KS", "Level"), stretch_last=True)
        self.latest_box = _group("Latest check", self.drift_verdict, self.reasons_label, self.drift_table, grow=self.drift_table)

        self.prediction_plot = PredictionHistogram()
        self.prediction_caption = _label("")
        self.prediction_box = _group("Predicted P(worn): this window vs the training data", self.prediction_plot,
                                     self.prediction_caption, grow=self.prediction_plot)

    def _build_statistics(self) -> None:
        self.confusion = ConfusionMatrix()
        self.roc_plot = RocPlot()
        self.pr_plot = PrecisionRecallPlot()
        curves = QHBoxLayout()
        curves.addWidget(self.roc_plot)
        curves.addWidget(self.pr_plot)
        self.statistics_summary = _label("")
        self.statistics_source = _label("Statistics: after the snapshot is loaded.")
        self.statistics_box = _group("Model statistics of the champion", self.statistics_summary, self.confusion, curves,
                                     self.statistics_source)
        self.statistics_box.layout().setStretch(2, 1)  # the curves take the spare height

    def _build_metrics(self) -> None:
        self.metrics_status = _label("")
        bold = QFont()
        bold.setBold(True)
        self.metrics_status.setFont(bold)
        self.metrics_table = _table(("Application metric", "Value"))
        self.metrics_table.setSelectionMode(QAbstractItemView.NoSelection)
        self.metrics_table.setMinimumHeight(7 * 20 + 26)
        self.metrics_box = _group("Application metrics (this window, every 2 s)", self.metrics_status, self.metrics_table,
                                  grow=self.metrics_table)

    def _build_history(self) -> None:
        self.trigger_table = _table(("Trigger", "State", "Why"))
        self.trigger_table.setSelectionMode(QAbstractItemView.NoSelection)
        self.trigger_table.setFixedHeight(3 * 20 + 26)
        self.history_table = _table(("#", "Fired (UTC)", "Trigger", "Status", "Reason"))
        self.history_table.horizontalHeader().setSectionResizeMode(4, QHeaderView.Stretch)
        self.history_table.setWordWrap(False)
        self.history_table.itemSelectionChanged.connect(self._show_outcome)
        self.firing_outcome = _label("")
        self.history_table.setToolTip("Hover a firing for its steps, run ids, gate verdict and error; "
                                      "double-click to read all of it.")
        self.history_table.itemDoubleClicked.connect(lambda item: self.show_firing(item.data(Qt.UserRole)))
        self.firing_detail: QDialog | None = None
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.setToolTip("Read the champion, statistics, triggers and history again.")
        self.refresh_button.clicked.connect(self.refresh_snapshot)
        self.pipeline_label = _label("")
        self.watcher_label = _label("")
        self.watcher_label.setToolTip("The background process that checks the triggers every minute while the app is "
                                      "open. One that stops is restarted; its last error stays shown here.")
        bottom = QHBoxLayout()
        bottom.addWidget(self.pipeline_label, 1)
        bottom.addWidget(self.refresh_button)
        self.history_box = _group("Pipeline triggers and history", self.trigger_table, self.history_table,
                                  self.firing_outcome, self.watcher_label, bottom, grow=self.history_table)

    # -- state ----------------------------------------------------------------------------------
    @property
    def loaded(self) -> bool:
        """The snapshot is shown and, with live windows, a drift check too (screenshot mode waits)."""
        drift_done = self.window_source is None or any(self.drift_history.values())
        return (self.snapshot is not None and drift_done and not self.snapshot_runner.running
                and not self.drift_runner.running)

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if not self._shown_once:
            self._shown_once = True
            if self.snapshot is None and not self.snapshot_runner.running:
                self.refresh_snapshot()
        self.refresh_metrics()
        self.metrics_timer.start()

    def hideEvent(self, event) -> None:
        super().hideEvent(event)
        self.metrics_timer.stop()

    def shutdown(self) -> None:
        """Stop the timers and the background work (the main window closes)."""
        self.drift_timer.stop()
        self.metrics_timer.stop()
        if self._stop is not None:
            self._stop.set()
        self.drift_runner.cancel()

    def _update_buttons(self, *_args) -> None:
        running = self.pipeline_runner.running
        self.retrain_button.setEnabled(not running)
        self.budget.setEnabled(not running)
        self.cancel_button.setEnabled(running and not (self._stop is not None and self._stop.is_set()))

    # -- the snapshot ---------------------------------------------------------------------------
    def _files(self) -> list[str] | None:
        return dataset_files(self.state.dataset) if self.state.dataset is not None else None

    def refresh_snapshot(self) -> None:
        """Read the snapshot again in a ``cncwear monitor`` child (a running read is replaced)."""
        self.snapshot_runner.start(load_snapshot, self._files())
        self._set_snapshot_status("Loading the monitoring data (champion, statistics, triggers, history) …")
        self.snapshot_progress.setValue(0)
        self.snapshot_progress.setFormat("loading")

    def _set_snapshot_status(self, text: str, failed: bool = False) -> None:
        self.snapshot_status.setText(text)
        self.snapshot_status.setStyleSheet(FAILED_STYLE if failed else "")

    def _on_snapshot_progress(self, fraction: float, message: str) -> None:
        self.snapshot_progress.setValue(int(fraction * 1000))
        self.snapshot_progress.setFormat(f"{fraction:.0%}")
        self.snapshot_status.setText(f"Loading the monitoring data: {message}")

    def _on_snapshot_failed(self, message: str) -> None:
        self.snapshot_error = message
        self.snapshot_progress.setValue(0)
        self.snapshot_progress.setFormat("failed")
        self._set_snapshot_status(f"✖ Could not load the monitoring data: {message}. The panels show the last data "
                                  "loaded, if any; Refresh tries again.", failed=True)

    def history_changed(self) -> None:
        """A pipeline ran outside this view (the trigger watcher): read the snapshot again once it was shown."""
        if self._shown_once and not self.snapshot_runner.running:
            self.refresh_snapshot()

    def _on_model_changed(self, model) -> None:
        self._show_champion()
        if not self._shown_once or self.snapshot_runner.running:
            return
        if self.snapshot is None or self.snapshot.version != str(model.version):
            self.refresh_snapshot()

    def set_snapshot(self, snapshot: MonitoringSnapshot) -> None:
        previous = self.snapshot
        self.snapshot = snapshot
        self.snapshot_error = ""
        if previous is not None and (previous.version, previous.reference.feature_set) != (
                snapshot.version, snapshot.reference.feature_set):
            self.drift_history.clear()  # the new champion has its own training reference
        self._columns = list(snapshot.reference.columns)
        self.snapshot_progress.setValue(1000)
        self.snapshot_progress.setFormat("loaded")
        self._set_snapshot_status(f"Monitoring data of {snapshot.model.get('label', '?')} loaded "
                                  f"{snapshot.loaded_at:%Y-%m-%d %H:%M:%S} UTC (training reference: "
                                  f"{snapshot.reference.n_rows:,} rows, {len(snapshot.reference.columns)} features).")
        self._show_champion()
        self._show_statistics()
        self._show_history()
        self._show_drift()
        self.check_drift_now()

    def _show_champion(self) -> None:
        snapshot, model = self.snapshot, self.state.model
        if snapshot is not None:
            label, engine, trained = (snapshot.model.get("label", "?"), snapshot.model.get("engine", "?"),
                                      snapshot.model.get("trained_at"))
        elif model is not None:
            label, engine, trained = model.label, model.engine, model.trained_at
        else:
            self.champion_label.setText("Champion: —")
            self.champion_figures.setText("Waiting for the model …")
            return
        at = _utc(trained)
        when = "—" if at is None else (f"{at:%Y-%m-%d %H:%M} UTC, "
                                       f"{(datetime.now(timezone.utc) - at).total_seconds() / 86400:.1f} days ago")
        self.champion_label.setText(f"Champion: {label} · {engine}")
        if snapshot is None:
            self.champion_figures.setText(f"trained {when} · accuracies after the snapshot is loaded")
            return
        loeo = snapshot.figure("loeo")
        self.champion_figures.setText(
            f"trained {when} · seed accuracy {_percent(snapshot.figure('seed'))} · LOEO accuracy "
            + (_percent(loeo) if loeo is not None else "not recorded yet (the next retrain's gate measures it)"))

    def _show_statistics(self) -> None:
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

    def _show_history(self) -> None:
        snapshot = self.snapshot
        self.trigger_table.setRowCount(len(snapshot.triggers))
        for row, check in enumerate(snapshot.triggers):
            name = TRIGGER_NAMES.get(check.get("trigger"), check.get("trigger", "?"))
            state = _item("▲ FIRES" if check.get("fires") else "● quiet")
            if check.get("fires"):
                state.setBackground(LEVEL_BACKGROUND["warn"])
            self.trigger_table.setItem(row, 0, _item(name))
            self.trigger_table.setItem(row, 1, state)
            self.trigger_table.setItem(row, 2, _item(check.get("reason", ""), check.get("reason", "")))
        firings = snapshot.history[:HISTORY_LIMIT]
        self.history_table.setRowCount(max(1, len(firings)))
        if not firings:
            self.history_table.setSpan(0, 0, 1, self.history_table.columnCount())
            self.history_table.setItem(0, 0, _item("No pipeline firing recorded yet: Retrain now records the first."))
        else:
            self.history_table.clearSpans()
        for row, firing in enumerate(firings):
            fired = _utc(firing.get("fired_at"))
            detail = json.dumps(firing.get("detail") or {}, indent=1, default=str)
            tooltip = detail if len(detail) < 3000 else detail[:3000] + "\n… (select the row for all of it)"
            status = firing.get("status", "")
            status_item = _item(STATUS_TEXT.get(status, status), tooltip)
            if status == "failed":
                status_item.setBackground(LEVEL_BACKGROUND["alarm"])
            cells = (_item(str(firing.get("id", "")), tooltip, align_right=True),
                     _item("—" if fired is None else f"{fired:%Y-%m-%d %H:%M:%S}", tooltip),
                     _item(firing.get("trigger", ""), tooltip), status_item,
                     _item(firing.get("reason", ""), tooltip))
            for column, cell in enumerate(cells):
                cell.setData(Qt.UserRole, firing.get("id"))
                self.history_table.setItem(row, column, cell)
        if firings:
            self.history_table.selectRow(0)
        self._show_outcome()
        pipeline = snapshot.pipeline
        schedule = pipeline.get("schedule_hours") or 0
        self.pipeline_label.setText(
            f"Pipeline: {pipeline.get('engine', '?')}, {pipeline.get('budget_s', '?')} s budget · schedule "
            + (f"every {schedule:g} h" if schedule else "off") + " · watched folder "
            + (pipeline.get("watch_dir") or "none") + f" · {len(snapshot.history)} firing(s) shown")

    def _show_watcher(self, status: str, failed: bool) -> None:
        self.watcher_label.setText(f"{'⚠ ' if failed else ''}Trigger watcher: {status or '—'}")
        self.watcher_label.setStyleSheet(WARN_STYLE if failed else "")

    def _firing(self, firing_id) -> dict | None:
        return next((f for f in (self.snapshot.history if self.snapshot else []) if f.get("id") == firing_id), None)

    def _show_outcome(self) -> None:
        """The selected firing's outcome in words under the table (the newest one is selected)."""
        rows = self.history_table.selectionModel().selectedRows()
        item = self.history_table.item(rows[0].row(), 0) if rows else None
        firing = self._firing(item.data(Qt.UserRole)) if item is not None else None
        if firing is None:
            self.firing_outcome.setText("")
            return
        status = firing.get("status", "")
        self.firing_outcome.setText(f"#{firing.get('id')} {OUTCOME_SYMBOL.get(status, '▶')} {describe_firing(firing)}")
        self.firing_outcome.setStyleSheet(FAILED_STYLE if status == "failed" else "")

    def show_firing(self, firing_id) -> None:
        """A firing's whole record (steps, run ids, gate verdict, error) in a read-only window."""
        firing = self._firing(firing_id)
        if firing is None:
            return
        if self.firing_detail is None:
            self.firing_detail = QDialog(self)
            self.firing_detail.resize(760, 560)
            text = QPlainTextEdit()
            text.setReadOnly(True)
            QVBoxLayout(self.firing_detail).addWidget(text)
            self.firing_detail.text = text
        self.firing_detail.setWindowTitle(f"Pipeline firing #{firing_id}")
        self.firing_detail.text.setPlainText(json.dumps(firing, indent=2, default=str))
        self.firing_detail.show()

    # -- retrain --------------------------------------------------------------------------------
    def retrain(self) -> None:
        if self.pipeline_runner.running:
            return
        self._stop = threading.Event()
        self.retrain_status.setText("Retraining: validate → features → train → evaluate → gate → register → promote …")
        self.retrain_status.setStyleSheet("")
        self.retrain_progress.setValue(0)
        self.retrain_progress.setFormat("starting the pipeline")
        self.pipeline_runner.start(run_pipeline_in_worker, self._files(), self.budget.value(),
                                   self.state.settings.feature_store_url, stop=self._stop)

    def cancel_retrain(self) -> None:
        if self.pipeline_runner.running and self._stop is not None:
            self._stop.set()
            self.retrain_status.setText("Cancelling: stopping the pipeline process and recording the firing …")
            self.retrain_progress.setFormat("cancelling")
            self._update_buttons()

    def _on_retrain_progress(self, fraction: float, message: str) -> None:
        if self._stop is not None and self._stop.is_set():
            return
        self.retrain_progress.setValue(int(fraction * 1000))
        self.retrain_progress.setFormat(f"{fraction:.0%} · {message}" if message else "%p%")

    def _on_retrained(self, outcome: RetrainOutcome) -> None:
        self.last_retrain = outcome
        engine = (self.snapshot.pipeline.get("engine") if self.snapshot else None) or self.state.settings.pipeline_engine
        count_retrain(self.state.metrics, outcome, engine)
        self.refresh_metrics()
        self.retrain_status.setText(f"{OUTCOME_SYMBOL.get(outcome.status, '')} Retrain {outcome.text}")
        self.retrain_status.setStyleSheet(FAILED_STYLE if outcome.status == "failed" else "")
        self.retrain_progress.setValue(1000 if outcome.status in ("promoted", "kept") else 0)
        self.retrain_progress.setFormat(outcome.status)
        self._update_buttons()
        self.refresh_snapshot()  # the history gained the firing; after a promotion, the champion changed
        if outcome.status == "promoted":
            self.champion_changed.emit()

    def _on_retrain_failed(self, message: str) -> None:
        self.retrain_status.setText(f"✖ Retrain failed: {message}")
        self.retrain_status.setStyleSheet(FAILED_STYLE)
        self.retrain_progress.setValue(0)
        self.retrain_progress.setFormat("failed")
        self._update_buttons()
        self.refresh_snapshot()

    def _on_retrain_cancelled(self) -> None:
        self.retrain_status.setText("■ Retrain cancelled; the stopped firing is recorded as failed (Refresh to see it).")
        self.retrain_status.setStyleSheet("")
        self.retrain_progress.setValue(0)
        self.retrain_progress.setFormat("cancelled")
        self._update_buttons()

    # -- drift ----------------------------------------------------------------------------------
    def _set_drift_status(self, text: str, failed: bool = False) -> None:
        self.drift_status.setText(text)
        self.drift_status.setStyleSheet(FAILED_STYLE if failed else "")

    def check_drift_now(self) -> None:
        """Compare every machine's last window with the reference now (in a worker)."""
        if self.window_source is None:
            self._set_drift_status("No live machine windows in this window.")
            return
        if self.drift_runner.running:
            return  # the previous check is still running: this one is skipped, the next tick comes
        snapshot, model = self.snapshot, self.state.model
        if snapshot is None:
            self._set_drift_status("Waiting for the monitoring data (the champion's training reference) …")
            return
        if model is None or self.state.scores is None:
            self._set_drift_status("Waiting for the model's scores …")
            return
        if str(model.version) != snapshot.version or model.feature_set.key != snapshot.reference.feature_set:
            self._set_drift_status(f"Paused: the app predicts with v{model.version}, the training reference is of "
                                   f"v{snapshot.version} ({snapshot.reference.feature_set}); waiting for both to match.")
            return
        windows = self.window_source()
        if not windows:
            self._set_drift_status("No machine has replayed samples yet.")
            return
        self.drift_runner.start(check_drift_in_worker, snapshot.reference, model.feature_set, windows,
                                datetime.now(timezone.utc))

    def _on_drift(self, checks: list[DriftCheck]) -> None:
        for check in checks:
            self.drift_history.setdefault(check.machine, deque(maxlen=DRIFT_HISTORY)).append(check)
        known = [self.machine_box.itemText(i) for i in range(self.machine_box.count())]
        for machine in self.drift_history:
            if machine not in known:
                self.machine_box.addItem(machine)
        failed = [c for c in checks if c.error]
        drifted = [c.machine for c in checks if c.report is not None and c.report.drifted]
        when = checks[0].checked_at if checks else datetime.now(timezone.utc)
        text = (f"Last check {when:%H:%M:%S} UTC of {len(checks)} machine(s); next in {DRIFT_CHECK_S} s. "
                + (f"Drifted: {', '.join(drifted)}." if drifted else "No machine's window drifted."))
        if failed:
            text += " ✖ Not compared: " + "; ".join(f"{c.machine}: {c.error}" for c in failed)
        self._set_drift_status(text, failed=bool(failed))
        self._show_drift()

    def selected_machine(self) -> str | None:
        return self.machine_box.currentText() or None

    def _show_drift(self) -> None:
        machine = self.selected_machine()
        checks = [c for c in self.drift_history.get(machine, ()) if c.report is not None] if machine else []
        columns = self._columns
        matrix = np.column_stack([c.psi_of(columns) for c in checks]) if checks else np.zeros((len(columns), 0))
        self.heatmap.show_checks(columns, [c.checked_at for c in checks], matrix)
        self.group_plot.show_series([c.checked_at for c in checks],
                                    {g: [c.report.group_psi.get(g) for c in checks] for g in self.group_plot.curves})
        latest = checks[-1] if checks else None
        self._show_latest(machine, latest)

    def _show_latest(self, machine: str | None, check: DriftCheck | None) -> None:
        threshold = float(self.state.settings.worn_threshold)
        reference = self.snapshot.reference.prediction_fractions if self.snapshot is not None else None
        if check is None or check.report is None:
            self.drift_verdict.setText("No drift check yet.")
            self.drift_verdict.setStyleSheet("")
            self.reasons_label.setText("")
            self.drift_table.setRowCount(0)
            self.prediction_plot.show_distribution(reference, None, threshold)
            self.prediction_caption.setText("The training reference; this window's bars follow the first check.")
            return
        report = check.report
        alarms, compared = len(report.alarms), sum(1 for f in report.features if f.psi is not None)
        warnings = sum(1 for f in report.features if f.level == "warn")
        head = f"{machine} · {check.rows:,} samples · {check.checked_at:%H:%M:%S} UTC: "
        if report.drifted:
            self.drift_verdict.setText(head + f"◆ DRIFTED ({alarms} of {compared} features at alarm level)")
            self.drift_verdict.setStyleSheet(FAILED_STYLE)
        elif alarms or warnings:
            self.drift_verdict.setText(head + f"▲ some change ({alarms} alarm, {warnings} warn; not drifted as a whole)")
            self.drift_verdict.setStyleSheet(WARN_STYLE)
        else:
            self.drift_verdict.setText(head + "● no drift")
            self.drift_verdict.setStyleSheet("")
        self.reasons_label.setText("\n".join(f"• {reason}" for reason in report.reasons) or "• nothing stands out")
        top = report.top(TOP_FEATURES)
        self.drift_table.setRowCount(len(top))
        for row, feature in enumerate(top):
            level = _item(LEVEL_TEXT[feature.level])
            if LEVEL_BACKGROUND[feature.level] is not None:
                level.setBackground(LEVEL_BACKGROUND[feature.level])
            cells = (_item(feature.name), _item(feature.group),
                     _item("—" if feature.psi is None else f"{feature.psi:.3f}", align_right=True),
                     _item("—" if feature.ks is None else f"{feature.ks:.3f}", align_right=True), level)
            for column, cell in enumerate(cells):
                self.drift_table.setItem(row, column, cell)
        self.prediction_plot.show_distribution(reference, check.prediction_fractions, threshold)
        if report.prediction_mean is None:
            self.prediction_caption.setText("No P(worn) for this window.")
        else:
            before = "—" if report.reference_prediction_mean is None else f"{report.reference_prediction_mean:.2f}"
            psi = "—" if report.prediction_psi is None else f"{report.prediction_psi:.2f}"
            level = ("" if report.prediction_psi is None else
                     " ◆ shifted" if report.prediction_psi >= THRESHOLDS.prediction_psi_alarm else " ● within limits")
            self.prediction_caption.setText(f"Mean P(worn): training {before} → window {report.prediction_mean:.2f} · "
                                            f"PSI {psi}{level}. A run of one tool is mostly one class; the training "
                                            "data holds both.")

    # -- application metrics --------------------------------------------------------------------
    def refresh_metrics(self) -> None:
        metrics = self.state.metrics
        status = self.state.metrics_status or ("" if metrics is not None else "no metrics registry in this process")
        self.metrics_status.setText(f"/metrics: {status}" if status else "/metrics: —")
        off = status.startswith("metrics endpoint off") or metrics is None
        self.metrics_status.setStyleSheet(WARN_STYLE if off else "")
        rows = metric_rows(metrics) if metrics is not None else [("Metrics", "off: nothing is recorded in this window")]
        self.metrics_table.setRowCount(len(rows))
        for row, (name, value) in enumerate(rows):
            self.metrics_table.setItem(row, 0, _item(name))
            self.metrics_table.setItem(row, 1, _item(value, value))

    def metric_value(self, name: str) -> str | None:
        for row in range(self.metrics_table.rowCount()):
            if self.metrics_table.item(row, 0).text() == name:
                return self.metrics_table.item(row, 1).text()
        return None
