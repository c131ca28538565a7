"""Monitoring view, for maintenance staff and quality engineers: is the model still fit for the
machines, how good is it, how is the app doing, and what did the automated pipeline do.

A stack of panels (views/monitoring/), each with its own worker and state:

* the header (``ChampionPanel``): the champion (engine, age, recorded accuracies) and **Retrain
  now**, which runs the automated pipeline in a child process with progress and Cancel, then shows
  its outcome; under it, how reading the snapshot goes;
* drift over time (``drift_panels``): every ``DRIFT_CHECK_S`` the live engine compares each
  machine's last window with the champion's training runs of the same setup (PSI and KS per
  feature and phase, on the engine's thread, the checks ``cncwear serve`` runs; the snapshot hands
  the per-setup reference over with ``reference_ready``; a setup without training runs is named
  as unfamiliar, not drifted) and its passes bring the checks here (``on_pass``); a heatmap per machine,
  the largest PSI per feature group over time, the latest check's top features and reasons, and
  the window's predicted P(worn) distribution against the reference's;
* model statistics from the snapshot: confusion matrix, ROC, precision/recall vs threshold;
* application metrics (Prometheus registry of this process), refreshed every 2 s while shown;
* pipeline triggers, the history of firings and the trigger watcher.

The view reads the snapshot (a ``cncwear monitor`` child, monitoring_jobs.py: mlflow never loads
here) and hands it to the panels. Its attributes of the panels' widgets and workers keep the names
the main window, the screenshot mode and the tests use.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QPushButton, QSplitter, QVBoxLayout, QWidget

from ..export_dialog import ExportDialog, open_export_dialog
from ..state import AppState
from ..theme import FAILED_STYLE, WARN_STYLE  # noqa: F401 - the status styles, also under this module's names
from ..widgets import fit_wrapped_height, on_panel
from ..workers import TaskRunner
from .monitoring.champion_panel import ChampionPanel, SnapshotStatus
from .monitoring.drift_panels import (  # noqa: F401 - DRIFT_CHECK_S and CheckRequest also under this module's names
    DRIFT_CHECK_S,
    CheckRequest,
    DriftHeatmapPanel,
    GroupTrendPanel,
    LatestCheckPanel,
    PredictionShiftPanel,
)
from .monitoring.metrics_panel import METRICS_REFRESH_MS, MetricsPanel  # noqa: F401
from .monitoring.pipeline_panel import PipelineHistoryPanel
from .monitoring.statistics_panel import StatisticsPanel
from .monitoring_jobs import MonitoringSnapshot, load_snapshot, loaded_files


PLOT_MIN_HEIGHT = 120  # the group trend and the P(worn) distribution: axes, ticks and a readable curve
STATISTICS_PLOT_MIN_HEIGHT = 150  # ROC and precision/recall side by side
CONFUSION_MIN_HEIGHT = 96  # the confusion matrix: its header and two rows


class MonitoringView(QWidget):
    champion_changed = Signal()  # a retrain promoted a new champion: the main window reloads it
    reference_ready = Signal(object, str)  # the champion's per-setup drift reference and its version: for the live engine

    def __init__(self, state: AppState, request_check: CheckRequest | None = None, parent=None):
        """``request_check``: asks the live engine for a drift check (``LiveService.check_drift_now``);
        the engine's passes come in through :meth:`on_pass`."""
        super().__init__(parent)
        self.state = state
        self.snapshot: MonitoringSnapshot | None = None
        self.snapshot_error = ""
        self._shown_once = False
        self.snapshot_runner = TaskRunner(self)

        self.snapshot_line = SnapshotStatus()
        self.export_button = QPushButton("Export prediction log…")
        self.export_button.setToolTip("The prediction log (every live prediction kept) to CSV or Parquet, "
                                      "by machine and time.")
        self.export_button.clicked.connect(self.open_export)
        self.export_dialog: ExportDialog | None = None
        self.snapshot_line.layout().addWidget(self.export_button)
        self.champion = ChampionPanel(state, footer=self.snapshot_line)
        self.drift = DriftHeatmapPanel(state, request_check)
        self.group_trend = GroupTrendPanel()
        self.latest = LatestCheckPanel()
        fit_wrapped_height(self.latest)  # the verdict and reasons whole in a short splitter
        self.prediction = PredictionShiftPanel()
        self.statistics = StatisticsPanel(state)
        self.metrics = MetricsPanel(state)
        self.pipeline = PipelineHistoryPanel(state)
        fit_wrapped_height(self.pipeline)  # its pipeline and watcher lines whole in the narrow middle column
        # Plots keep a readable height on a short screen (1024 x 768): the view scrolls instead of
        # squeezing them to a strip; the panels' wrapped texts keep theirs.
        for plot, height in ((self.group_plot, PLOT_MIN_HEIGHT), (self.roc_plot, STATISTICS_PLOT_MIN_HEIGHT),
                             (self.pr_plot, STATISTICS_PLOT_MIN_HEIGHT), (self.prediction_plot, PLOT_MIN_HEIGHT)):
            plot.setMinimumHeight(height)
        self.confusion.setMinimumHeight(CONFUSION_MIN_HEIGHT)
        for panel in (self.champion, self.group_trend, self.statistics, self.prediction, self.metrics):
            # the champion's wrapped lines too: the view's layout gives a wrapped panel its height for its
            # width, more than its minimum, and a splitter below it then got less than its minimum (overlaps)
            fit_wrapped_height(panel)
        self.runners = (self.snapshot_runner, self.pipeline_runner)  # the drift checks run in the live engine

        middle = QSplitter(Qt.Vertical)
        middle.addWidget(self.group_trend)
        middle.addWidget(self.latest)
        middle.addWidget(self.pipeline)
        middle.setSizes([215, 310, 285])
        right = QSplitter(Qt.Vertical)
        right.addWidget(self.statistics)
        right.addWidget(self.prediction)
        right.addWidget(self.metrics)
        right.setSizes([380, 210, 220])
        body = QSplitter(Qt.Horizontal)
        body.addWidget(self.drift)
        body.addWidget(middle)
        body.addWidget(right)
        body.setSizes([440, 540, 620])
        layout = QVBoxLayout(self)
        layout.addWidget(self.champion)
        layout.addWidget(body, 1)

        self.snapshot_runner.progress.connect(self.snapshot_line.show_progress)
        self.snapshot_runner.succeeded.connect(self.set_snapshot)
        self.snapshot_runner.failed.connect(self._on_snapshot_failed)
        self.snapshot_runner.cancelled.connect(
            lambda: self.snapshot_line.show_text("Loading the monitoring data was cancelled."))
        self.champion.retrain_finished.connect(self._on_retrain_finished)
        self.champion.champion_changed.connect(self.champion_changed)
        self.drift.checks_shown.connect(self._show_checks)
        self.pipeline.refresh_requested.connect(self.refresh_snapshot)
        state.model_changed.connect(self._on_model_changed)

    # -- the panels' widgets and workers under the view's names -----------------------------------
    champion_label = on_panel("champion")
    champion_figures = on_panel("champion")
    budget = on_panel("champion")
    retrain_button = on_panel("champion")
    cancel_button = on_panel("champion")
    retrain_progress = on_panel("champion")
    retrain_status = on_panel("champion")
    pipeline_runner = on_panel("champion")
    last_retrain = on_panel("champion")
    snapshot_status = on_panel("snapshot_line", "status")
    snapshot_progress = on_panel("snapshot_line", "progress")
    request_check = on_panel("drift")
    drift_history = on_panel("drift")
    machine_box = on_panel("drift")
    check_button = on_panel("drift")
    drift_status = on_panel("drift")
    unfamiliar_label = on_panel("drift")
    heatmap = on_panel("drift")
    group_plot = on_panel("group_trend")
    drift_verdict = on_panel("latest")
    reasons_label = on_panel("latest")
    drift_table = on_panel("latest")
    prediction_plot = on_panel("prediction")
    prediction_caption = on_panel("prediction")
    confusion = on_panel("statistics")
    roc_plot = on_panel("statistics")
    pr_plot = on_panel("statistics")
    statistics_summary = on_panel("statistics")
    statistics_source = on_panel("statistics")
    metrics_status = on_panel("metrics")
    metrics_table = on_panel("metrics")
    metrics_timer = on_panel("metrics")
    trigger_table = on_panel("pipeline")
    history_table = on_panel("pipeline")
    firing_outcome = on_panel("pipeline")
    refresh_button = on_panel("pipeline")
    pipeline_label = on_panel("pipeline")
    watcher_label = on_panel("pipeline")

    def retrain(self) -> None:
        self.champion.retrain()

    def cancel_retrain(self) -> None:
        self.champion.cancel_retrain()

    def check_drift_now(self) -> None:
        """Ask the live engine to compare every machine's last window with the reference now."""
        self.drift.check_drift_now()

    def on_pass(self, views: list, _at: float = 0.0) -> None:
        """A pass of the live engine (``LiveService.updated``): the drift checks it brings."""
        self.drift.on_pass(views)

    def selected_machine(self) -> str | None:
        return self.drift.selected_machine()

    def open_export(self) -> ExportDialog:
        """The Export dialog for the prediction log (the drift panel's machine preset)."""
        self.export_dialog = open_export_dialog(self, self.state.settings.feature_store_url or None, ("predictions",),
                                                machine=self.selected_machine())
        return self.export_dialog

    def refresh_metrics(self) -> None:
        self.metrics.refresh_metrics()

    def metric_value(self, name: str) -> str | None:
        return self.metrics.metric_value(name)

    def show_firing(self, firing_id) -> None:
        self.pipeline.show_firing(firing_id)

    # -- state ----------------------------------------------------------------------------------
    @property
    def loaded(self) -> bool:
        """The snapshot is shown and, with live windows, a drift check too (screenshot mode waits)."""
        return self.snapshot is not None and self.drift.checked and not self.snapshot_runner.running

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if not self._shown_once:
            self._shown_once = True
            if self.snapshot is None and not self.snapshot_runner.running:
                self.refresh_snapshot()

    def shutdown(self) -> None:
        """Stop the timers and the background work (the main window closes)."""
        self.drift.shutdown()
        self.metrics.metrics_timer.stop()
        self.champion.shutdown()

    # -- the snapshot ---------------------------------------------------------------------------
    def refresh_snapshot(self) -> None:
        """Read the snapshot again in a ``cncwear monitor`` child (a running read is replaced)."""
        self.snapshot_runner.start(load_snapshot, loaded_files(self.state.dataset))
        self.snapshot_line.show_loading()

    def _on_snapshot_failed(self, message: str) -> None:
        self.snapshot_error = message
        self.snapshot_line.show_failed(message)

    def history_changed(self) -> None:
        """A pipeline ran outside this view (the trigger watcher): read the snapshot again once it was shown."""
        if self._shown_once and not self.snapshot_runner.running:
            self.refresh_snapshot()

    def _on_retrain_finished(self) -> None:
        self.refresh_metrics()
        self.refresh_snapshot()

    def _on_model_changed(self, model) -> None:
        if not self._shown_once or self.snapshot_runner.running:
            return
        if self.snapshot is None or self.snapshot.version != str(model.version):
            self.refresh_snapshot()

    def set_snapshot(self, snapshot: MonitoringSnapshot) -> None:
        self.snapshot = snapshot
        self.snapshot_error = ""
        self.snapshot_line.show_loaded(snapshot)
        self.champion.set_snapshot(snapshot)
        self.statistics.set_snapshot(snapshot)
        self.pipeline.set_snapshot(snapshot)
        self.drift.set_snapshot(snapshot)
        self.drift.show_drift()
        self.reference_ready.emit(snapshot.setup_reference, snapshot.version)  # the engine checks at once with it
        self.check_drift_now()

    def _show_checks(self, machine: str | None, checks: list) -> None:
        """The selected machine's checks (the drift panel's) in the trend, latest-check and P(worn) panels."""
        latest = checks[-1] if checks else None
        reference = self.snapshot.reference.prediction_fractions if self.snapshot is not None else None
        self.group_trend.show_checks(checks)
        self.latest.show_check(machine, latest)
        self.prediction.show_check(reference, latest, float(self.state.settings.worn_threshold))
