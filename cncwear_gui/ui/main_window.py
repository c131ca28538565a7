"""The main window: views in tabs, the load → model → score pipeline in workers, settings.

Pipeline: load the dataset (bundled by default) → the registry's champion, or on first start a
quick Random Forest trained and registered → score every experiment. Each step is a TaskRunner
(one task per kind; a new load cancels the running one). The Training view brings its own
runners (search, baselines, registry); they share the status bar, Cancel and the error path, and
after a promotion the window reloads the champion. The Explanations view explains the sample
selected in the Predictions view. The Monitoring view shows the live engine's drift checks of the
Operator view's machines (its snapshot hands the engine the training reference) and retrains
through the automated pipeline; after a promotion there, the window reloads the champion.

The PC's role (settings.role, roles.py) decides which views and menus the window shows; kiosk mode
(ui/kiosk.py) shows the operator's two views full screen with the operator's actions only. Leaving
kiosk mode and taking a role other than operator need the PIN where IT set one; role changes, PIN
changes, refused PINs and leaving kiosk mode go to the audit trail.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QByteArray, Qt, QTimer, QUrl
from PySide6.QtGui import QAction, QDesktopServices, QGuiApplication, QKeySequence
from PySide6.QtWidgets import QFileDialog, QLabel, QMainWindow, QMessageBox, QProgressBar, QPushButton

from .. import __version__
from ..paths import bundled_dataset_dir, log_dir, project_root
from ..pipeline.watcher import PipelineWatcher
from ..roles import KIOSK_EXIT_ROLE, ROLE_NAMES, ROLES, PinGate, has_settings, needs_pin, views_of
from ..settings import Settings, save_settings
from .kiosk import KIOSK_VIEWS, PinDialog, apply_kiosk_to_alarms, kiosk_style_sheet, touch_target_px
from .live_service import LiveService
from .metrics_service import MetricsService
from .promotion_follower import PromotionFollower
from .role_dialog import RoleDialog
from .settings_dialog import SettingsDialog
from .state import AppState
from .views.alarms_view import AlarmsView
from .views.data_view import DataView
from .views.explanations_view import ExplanationsView
from .views.monitoring_view import MonitoringView
from .views.operator_view import OperatorView
from .views.predictions_view import PredictionsView
from .views.training_view import TrainingView
from .widgets import ViewTabs
from .workers import TaskRunner

if TYPE_CHECKING:  # pandas, scikit-learn and the model code load in the workers, not at start-up
    from ..data.dataset import Dataset
    from ..models.active import ActiveModel
    from ..models.scoring import ScoredDataset

log = logging.getLogger(__name__)
WATCHER_CHECK_MS = 10_000  # how soon a retraining watcher that died, or a promotion made elsewhere, is noticed


def _os_user() -> str:
    from ..store.database import os_user

    return os_user()


def _write_settings_audit(url: str | None, changes: list[tuple[str, str, str]], task) -> int:
    """In a worker: one audit row per changed setting, in one transaction."""
    from ..store.audit_trail import AuditTrail

    trail = AuditTrail(url)
    try:
        trail.record_many([{"action": "settings.changed", "subject": name, "old_value": old, "new_value": new}
                           for name, old, new in changes])
    finally:
        trail.close()
    return len(changes)


def _write_audit(url: str | None, entries: list[dict], task) -> int:
    """In a worker: audit entries (AuditTrail.record's arguments) in one transaction."""
    from ..store.audit_trail import AuditTrail

    trail = AuditTrail(url)
    try:
        trail.record_many(entries)
    finally:
        trail.close()
    return len(entries)


def _load_and_prepare(paths: list[Path], task) -> Dataset:
    """In the worker: load, and build the combined samples frame the views read (cached)."""
    from ..data.dataset import load_dataset

    dataset = load_dataset(paths, task=task)
    dataset.samples()
    return dataset


def _champion(paths: list[Path], task) -> ActiveModel:
    """In the worker: the registry work in a child process (mlflow stays out of the GUI process),
    then the model file is verified and loaded here.

    On a first start the child hands over the fitted model before it registers it: that one is
    loaded (verified the same way) and passed on as ``task.interim``, and once the child has
    registered it, the same estimator comes back under its registered version."""
    from ..models.champion import load_active_model
    from ..models.champion_process import resolve_champion_in_subprocess
    from ..store.tracking import discard_first_start_file

    first: list[ActiveModel] = []

    def fitted_first(reference) -> None:
        try:
            model = load_active_model(reference)
        except Exception as error:  # e.g. the file is gone: the registered model follows anyway
            log.warning("the first-start model could not be loaded before its registration: %s", error)
            return
        finally:
            discard_first_start_file(reference.model)
        first.append(model)
        task.interim(model)

    reference = resolve_champion_in_subprocess(paths, task.child(0.0, 0.9, on_interim=fitted_first))
    if first:  # the model already loaded is the one the child just registered
        return replace(first[0], version=reference.version, trained_at=reference.trained_at, run_id=reference.run_id)
    task.progress(0.9, f"loading {reference.name} v{reference.version}")
    return load_active_model(reference)


def _score_in_worker(model: ActiveModel, dataset: Dataset, threshold: float, task) -> ScoredDataset:
    import time

    from ..models.scoring import score_dataset
    from ..monitoring.metrics import app_metrics

    started = time.perf_counter()
    scores = score_dataset(model, dataset, threshold, task)
    # The loaded files are scored as one batch; live machines report per machine.
    app_metrics().prediction_latency.labels("loaded-files").observe(time.perf_counter() - started)
    return scores


class MainWindow(QMainWindow):
    def __init__(self, settings: Settings | None = None, initial_paths: list[Path] | None = None, persist_settings: bool = False,
                 machines: list[str] | None = None, kiosk: bool = False):
        super().__init__()
        self.setWindowTitle(f"cncwear {__version__} — milling-tool wear")
        self.setAcceptDrops(True)
        self.persist_settings = persist_settings
        self.state = AppState(settings or Settings())
        self.last_error: str | None = None

        self.loader = TaskRunner(self)
        self.modeller = TaskRunner(self)
        self.scorer = TaskRunner(self)
        self.settings_audit = TaskRunner(self)
        self.access_audit = TaskRunner(self)  # role and PIN changes, refused PINs, leaving kiosk mode
        self.role = self.state.settings.role  # the views shown now: the PC's role, or more after the PIN
        self.kiosk = False
        self.pin_gate = PinGate()
        self.guard_kiosk_close = False  # the interactive app: closing kiosk mode needs the PIN too (app.py)

        self.machines_override = machines  # cncwear gui --machine: these instead of the settings' machines
        self.live = LiveService(self)
        self.operator_view = OperatorView(self.state)
        self.alarms_view = AlarmsView(self.state)
        self.data_view = DataView(self.state)
        self.predictions_view = PredictionsView(self.state)
        self.explanations_view = ExplanationsView(self.state)
        self.training_view = TrainingView(self.state)
        self.monitoring_view = MonitoringView(self.state, self.live.check_drift_now)
        self.runners = (self.loader, self.modeller, self.scorer, self.settings_audit, self.access_audit,
                        *self.explanations_view.runners, *self.alarms_view.runners,
                        *self.training_view.runners, *self.monitoring_view.runners)
        self.tabs = ViewTabs()  # each view scrolls when the screen is smaller than it needs (1024 × 768)
        for view, title in ((self.operator_view, "Operator"), (self.alarms_view, "Alarms"), (self.data_view, "Data"),
                            (self.predictions_view, "Predictions"), (self.explanations_view, "Explanations"),
                            (self.training_view, "Training"), (self.monitoring_view, "Monitoring")):
            self.tabs.add_view(view, title)
        self.exit_kiosk_button = QPushButton("Exit kiosk…")
        self.exit_kiosk_button.setObjectName("exitKiosk")
        self.exit_kiosk_button.setToolTip("Leave kiosk mode (needs the maintenance PIN where IT set one)")
        self.exit_kiosk_button.clicked.connect(self.leave_kiosk)
        self.exit_kiosk_button.setVisible(False)
        self.tabs.setCornerWidget(self.exit_kiosk_button, Qt.TopRightCorner)
        self.setCentralWidget(self.tabs)
        self.data_view.open_files_requested.connect(self.choose_files)
        self.data_view.open_folder_requested.connect(self.choose_folder)
        self.data_view.reload_requested.connect(lambda: self.load(self._default_paths()))
        self.predictions_view.explain_requested.connect(lambda: self.tabs.setCurrentWidget(self.explanations_view))
        self.training_view.champion_promoted.connect(lambda _version: self.reload_champion())
        self.monitoring_view.champion_changed.connect(self.reload_champion)
        self.live.updated.connect(self.operator_view.show_views)
        self.live.updated.connect(self.alarms_view.on_pass)
        self.live.updated.connect(self.monitoring_view.on_pass)
        self.monitoring_view.reference_ready.connect(self.live.set_reference)
        self.live.started.connect(self.alarms_view.set_node)
        self.live.failed.connect(self._on_failed)
        self.live.action_done.connect(self._on_operator_action)
        self.live.action_failed.connect(self._on_operator_action_failed)
        self.operator_view.acknowledge_requested.connect(self.alarms_view.ask_acknowledge)
        self.operator_view.tool_change_requested.connect(self.alarms_view.ask_tool_change)
        self.operator_view.teach_requested.connect(self._teach)
        self.alarms_view.tool_change_requested.connect(
            lambda machine, reason, comment: self.live.tool_change(machine, reason, _os_user(), comment))
        self.alarms_view.acknowledge_requested.connect(
            lambda machine, comment, false_alarm: self.live.acknowledge(machine, _os_user(), comment, false_alarm))
        self.alarms_view.shelve_requested.connect(
            lambda machine, minutes, comment: self.live.shelve(machine, minutes, _os_user(), comment))
        self.alarms_view.unshelve_requested.connect(lambda machine: self.live.unshelve(machine, _os_user()))

        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setMinimumWidth(260)  # the status bar fits 1024 px beside the model's name
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel_all)
        self.model_label = QLabel("model: —")
        self.model_label.setWordWrap(True)  # two lines in the bar's 40 px on a narrow window (150 % scaling)
        status = self.statusBar()
        status.addWidget(self.model_label, 1)
        status.addPermanentWidget(self.progress)
        status.addPermanentWidget(self.cancel_button)
        self._build_menu()
        self.set_kiosk(kiosk)  # applies the role too

        for runner in self.runners:
            runner.progress.connect(self._on_progress)
            runner.failed.connect(self._on_failed)
            runner.running_changed.connect(self._on_running)
        self.loader.succeeded.connect(self._on_loaded)
        self.modeller.succeeded.connect(self._on_model)
        self.modeller.interim.connect(self._on_first_start_model)
        self.modeller.failed.connect(self._first_start_not_registered)
        self.modeller.cancelled.connect(self._first_start_not_registered)
        self._relabel: tuple[str, str] | None = None  # scores of a first-start model: its label once registered
        self.scorer.succeeded.connect(self._on_scored)
        self.state.model_changed.connect(lambda m: self.model_label.setText(f"model: {m.label} · {m.engine} · trained {m.trained_at or '—'}"))

        self.metrics_service = MetricsService(self)
        self.metrics_service.metrics_ready.connect(self._on_metrics_ready)
        self.metrics_service.status_changed.connect(self._on_metrics_status)
        self.pipeline_watcher = PipelineWatcher(log_dir())
        self._watcher_check = QTimer(self)  # a watcher that died is reported and started again
        self._watcher_check.setInterval(WATCHER_CHECK_MS)
        self._watcher_check.timeout.connect(self._apply_pipeline_watcher)
        self.promotion_follower = PromotionFollower(
            lambda: self.state.model.version if self.state.model is not None else None, lambda: self.modeller.running, self)
        self.promotion_follower.promoted.connect(self._on_outside_promotion)
        self._watcher_check.timeout.connect(lambda: self.promotion_follower.check(self.state.settings.feature_store_url))
        self._watcher_check.start()
        self.state.model_changed.connect(self._describe_model)

        self.resize(1600, 1000)
        self._restore_geometry()
        self._paths = initial_paths or self._default_paths()
        # Start loading once the event loop runs, so the first paint does not wait for imports.
        self._first_load = QTimer(self)
        self._first_load.setSingleShot(True)
        self._first_load.timeout.connect(lambda: self.load(self._paths))
        self._first_load.timeout.connect(lambda: self.metrics_service.apply(self.state.settings))
        self._first_load.timeout.connect(self._apply_pipeline_watcher)
        self._first_load.start(0)

    # -- monitoring ----------------------------------------------------------------------------
    def _apply_pipeline_watcher(self) -> None:
        self.pipeline_watcher.apply(self.state.settings)
        status, missing = self.pipeline_watcher.status, self.state.settings.watch_dir_problem()
        if missing:  # a share not mounted: the trigger waits, nothing is reset
            status += f" — {missing}; the new-data trigger waits for it"
        self.state.set_pipeline_watcher_status(status, self.pipeline_watcher.failed or bool(missing))
        for firing in self.pipeline_watcher.new_firings():
            self._on_automatic_firing(firing)

    def _on_automatic_firing(self, firing: dict) -> None:
        """A pipeline the watcher ran: say so, and serve a champion it promoted."""
        what = f"Automatic retraining ({firing.get('trigger', '?')}, #{firing.get('firing_id', '?')}): {firing.get('status', '?')}"
        if firing.get("error"):
            what += f": {firing['error']}"
        log.info("%s", what)
        self.statusBar().showMessage(what + " (details in Monitoring)", 30_000)
        if firing.get("status") == "promoted" and not self.modeller.running:  # running: the follower was quicker
            self.reload_champion()
        self.monitoring_view.history_changed()

    def _on_outside_promotion(self, entry) -> None:
        """A champion promoted by someone else (``cncwear promote``, a pipeline, another PC): serve it."""
        what = f"Champion v{entry.new_value} promoted by {entry.os_user} on {entry.host}"
        self.statusBar().showMessage(f"{what}: loading it ({entry.comment})" if entry.comment else f"{what}: loading it",
                                     30_000)
        self.reload_champion()
        self.monitoring_view.history_changed()

    def _on_metrics_ready(self, metrics) -> None:
        self.state.metrics = metrics
        if self.state.model is not None:
            self._describe_model(self.state.model)

    def _on_metrics_status(self, status: str) -> None:
        self.state.metrics_status = status
        if status.startswith("metrics endpoint off"):
            self.statusBar().showMessage(f"{status} — the app keeps running; pick another port in Edit → Settings", 30_000)

    def _describe_model(self, model: ActiveModel) -> None:
        if self.state.metrics is not None:
            from ..monitoring.model_info import describe_model

            describe_model(self.state.metrics, model, {})

    # -- pipeline ------------------------------------------------------------------------------
    def _default_paths(self) -> list[Path]:
        data_dir = self.state.settings.data_dir
        return [Path(data_dir).expanduser()] if data_dir else [bundled_dataset_dir()]

    def load(self, paths: list[Path]) -> None:
        self._paths = paths
        self.loader.start(_load_and_prepare, paths)
        if self.state.model is None and not self.modeller.running:  # the champion's child runs beside the load
            self.modeller.start(_champion, paths)

    def _on_loaded(self, dataset: Dataset) -> None:
        self.state.set_dataset(dataset)
        if self.state.model is None:
            if not self.modeller.running:
                self.modeller.start(_champion, self._paths)
        else:
            self._score()
            if not self.machine_specs():  # the demo replays the loaded dataset
                self.start_live()

    def _on_first_start_model(self, model: ActiveModel) -> None:
        """A first start's model, fitted and verified, still being registered: predict with it now
        (the live machines start once it is registered)."""
        self.state.set_model(model)
        self._score()

    def _on_model(self, model: ActiveModel) -> None:
        previous = self.state.model
        self.state.set_model(model)
        if previous is not None and previous.first_start_unregistered and previous.estimator is model.estimator:
            self._relabel_scores(previous.label, model.label)  # the same model, now registered: no rescoring
        else:
            self._score()
        if self.live.node is None:
            self.start_live()
        else:
            self.live.set_model(model)
        close = getattr(previous.estimator, "close", None) if previous is not None else None
        if close is not None:  # an auto-sklearn sidecar: stop it off the GUI thread (it may be mid-call)
            threading.Thread(target=close, name="close-previous-sidecar", daemon=True).start()

    def _score(self) -> None:
        if self.state.dataset is not None and self.state.model is not None:
            self.scorer.start(_score_in_worker, self.state.model, self.state.dataset, self.state.settings.worn_threshold)

    def _relabel_scores(self, old: str, new: str) -> None:
        self._relabel = (old, new)
        if not self.scorer.running and self.state.scores is not None:
            self._on_scored(self.state.scores)

    def _on_scored(self, scores: ScoredDataset) -> None:
        if self._relabel is not None and scores.model_label == self._relabel[0]:
            scores = replace(scores, model_label=self._relabel[1])
        self.state.set_scores(scores)

    def _first_start_not_registered(self, *_reason) -> None:
        """The child failed or was cancelled after handing over a first-start model: say what it is."""
        model = self.state.model
        if model is not None and model.first_start_unregistered and not self.modeller.running:
            failed = model.registration_failed()
            self.state.set_model(failed)
            self._relabel_scores(model.label, failed.label)
            self.statusBar().showMessage("The first-start model was not registered: its predictions are shown, "
                                         "it is trained and registered again on the next start", 60_000)

    # -- live machines ---------------------------------------------------------------------------
    def machine_specs(self) -> list[str]:
        return self.machines_override if self.machines_override is not None else list(self.state.settings.machines)

    def start_live(self) -> None:
        """(Re)start the live engine: the configured machines, or the demo on the loaded dataset.
        Not with a first start's model the registry does not have: every logged row names a version."""
        if self.state.model is None or self.state.model.first_start_unregistered:
            return
        self.live.start(self.state.settings, self.state.model, self.state.dataset, self.machine_specs())

    def _on_operator_action(self, what: str, _transitions) -> None:
        self.statusBar().showMessage(what, 10_000)
        self.alarms_view.show_message(what)

    def _on_operator_action_failed(self, message: str) -> None:
        self.alarms_view.show_message(message)
        self._on_failed(message)

    def reload_champion(self) -> None:
        """Load the registry's champion again (after a promotion) and rescore with it."""
        self.modeller.start(_champion, self._paths)

    def cancel_all(self) -> None:
        for runner in self.runners:
            runner.cancel()

    def _on_progress(self, fraction: float, message: str) -> None:
        self.progress.setValue(int(fraction * 1000))
        self.progress.setFormat(message or "%p%")

    def _on_running(self, _running: bool) -> None:
        busy = self.busy
        self.cancel_button.setEnabled(busy)
        if not busy:
            self.progress.setValue(1000 if self.state.scores is not None else 0)
            self.progress.setFormat("ready" if self.state.scores is not None else "stopped")

    def _teach(self, machine: str, how: str) -> None:
        """The tile's Teach menu: the next run, the last run, or relearn from the next run."""
        if how == "last_run":
            self.live.teach_last_run(machine, _os_user())
        else:
            self.live.start_teach_in(machine, _os_user(), relearn=how == "relearn")

    def _on_failed(self, message: str) -> None:
        self.last_error = message
        self.progress.setFormat("failed — see the message")
        box = QMessageBox(QMessageBox.Critical, "cncwear", message, QMessageBox.Ok, self)
        box.setAttribute(Qt.WA_DeleteOnClose)
        box.open()  # not exec(): the app keeps running behind the message

    # -- files, menu, settings ------------------------------------------------------------------
    def show_settings_notices(self, notices: list[str], message_box: bool = True) -> None:
        """What loading the settings file could not use as it was (settings.load_settings_report), said once:
        in the status bar, and in a message box that does not block (none in screenshot mode)."""
        if not notices:
            return
        self.statusBar().showMessage(f"Settings: {notices[0]}" + (f" (and {len(notices) - 1} more)" if len(notices) > 1 else ""),
                                     60_000)
        if message_box:
            box = QMessageBox(QMessageBox.Warning, "cncwear settings",
                              "Some settings could not be used as they were saved:\n\n" + "\n\n".join(notices),
                              QMessageBox.Ok, self)
            box.setAttribute(Qt.WA_DeleteOnClose)
            box.open()  # not exec(): the app keeps running behind the message
            self.settings_notice_box = box

    def _build_menu(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        self.data_actions: list[QAction] = []  # the roles with the Data view
        for text, shortcut, slot in (
            ("Open files…", QKeySequence.Open, self.choose_files),
            ("Open folder…", None, self.choose_folder),
            ("Reload bundled dataset", None, lambda: self.load([bundled_dataset_dir()])),
            ("Quit", QKeySequence.Quit, self.close),
        ):
            action = QAction(text, self)
            if shortcut is not None:
                action.setShortcut(shortcut)
            action.triggered.connect(slot)
            file_menu.addAction(action)
            if text != "Quit":
                self.data_actions.append(action)
        edit_menu = self.menuBar().addMenu("&Edit")
        self.settings_action = QAction("Settings…", self)
        self.settings_action.triggered.connect(self.edit_settings)
        self.role_action = QAction("Role of this PC…", self)
        self.role_action.triggered.connect(self.change_role)
        self.kiosk_action = QAction("Kiosk mode (operator, full screen)", self)
        self.kiosk_action.triggered.connect(lambda: self.enter_kiosk())
        for action in (self.settings_action, self.role_action, self.kiosk_action):
            edit_menu.addAction(action)
        help_menu = self.menuBar().addMenu("&Help")
        help_menu.addAction("User guide", self.open_user_guide)
        help_menu.addAction("About cncwear", self.show_about)
        self.menu_actions = [action for menu in (file_menu, edit_menu, help_menu) for action in menu.actions()]

    # -- roles and kiosk mode -------------------------------------------------------------------
    def visible_views(self) -> tuple[str, ...]:
        return KIOSK_VIEWS if self.kiosk else views_of(self.role)

    def apply_role(self, role: str) -> None:
        """Show the views and menus of ``role`` (kiosk mode: its two views and no menus)."""
        self.role = role
        shown = self.visible_views()
        # Shown first, then the current tab moved, then the rest hidden: the current tab never passes over a
        # view that starts work when shown (Monitoring's snapshot, Training's leakage check).
        indexes = range(self.tabs.count())
        for index in indexes:
            if self.tabs.tabText(index) in shown:
                self.tabs.setTabVisible(index, True)
        if self.tabs.tabText(self.tabs.currentIndex()) not in shown:
            self.tabs.setCurrentIndex(next(i for i in indexes if self.tabs.tabText(i) in shown))
        for index in indexes:
            if self.tabs.tabText(index) not in shown:
                self.tabs.setTabVisible(index, False)
        for action in self.menu_actions:  # hidden menus keep their shortcuts: disabled, Ctrl+O opens nothing
            action.setEnabled(not self.kiosk)
        for action in self.data_actions:
            action.setEnabled(not self.kiosk and "Data" in shown)
        self.settings_action.setEnabled(not self.kiosk and has_settings(role))
        self.setWindowTitle(f"cncwear {__version__} — milling-tool wear — {ROLE_NAMES.get(role, role)}"
                            + (" (kiosk)" if self.kiosk else ""))

    def set_kiosk(self, on: bool) -> None:
        """Kiosk mode on or off for the widgets (app.py and enter/leave_kiosk show it full screen)."""
        self.kiosk = on
        px = touch_target_px(self.screen())
        self.touch_target = px
        self.setStyleSheet(kiosk_style_sheet(px) if on else "")
        self.menuBar().setVisible(not on)
        self.statusBar().setVisible(not on)
        self.exit_kiosk_button.setVisible(on)
        self.operator_view.set_kiosk(on)
        apply_kiosk_to_alarms(self.alarms_view, on, px)
        self.apply_role(self.role)
        if on:
            self.tabs.setCurrentWidget(self.operator_view)

    def enter_kiosk(self, full_screen: bool = True) -> None:
        self.set_kiosk(True)
        if full_screen:
            self.showFullScreen()

    def leave_kiosk(self) -> bool:
        """Leave kiosk mode with the maintenance PIN (where one is set): the window then shows at least
        the maintenance views for this session (an operator PC stays an operator PC when restarted)."""
        if not self.ask_pin("leave kiosk mode", KIOSK_EXIT_ROLE):
            return False
        role = self.state.settings.role if self.state.settings.role != "operator" else KIOSK_EXIT_ROLE
        self.set_kiosk(False)
        self.apply_role(role)
        if self.isFullScreen():
            self.showNormal()
        self._audit([{"action": "kiosk.left", "subject": "kiosk", "old_value": "kiosk", "new_value": role,
                      "comment": "with the PIN" if self.state.settings.role_pin_hash else "no PIN set on this PC"}])
        return True

    def ask_pin(self, purpose: str, role: str) -> bool:
        """Whether the PIN was given (True when ``role`` needs none). A refused PIN is audited."""
        settings = self.state.settings
        if not needs_pin(role, settings.role_pin_hash):
            if purpose != "leave kiosk mode":
                return True
            answer = QMessageBox.question(self, "Exit kiosk", "Leave kiosk mode? No PIN is set on this PC, so "
                                          "anyone can (IT sets one under Edit → Role of this PC…).")
            return answer == QMessageBox.Yes
        dialog = PinDialog("PIN", f"The {ROLE_NAMES.get(role, role)} PIN, to {purpose}:", self)
        self.pin_dialog = dialog  # tests type into it
        if not dialog.exec():
            return False
        accepted, why = self.pin_gate.check(dialog.text(), settings.role_pin_hash)
        if not accepted:
            self._audit([{"action": "access.pin_refused", "subject": purpose, "comment": why}])
            box = QMessageBox(QMessageBox.Warning, "PIN", f"{why[0].upper()}{why[1:]}: not allowed to {purpose}.",
                              QMessageBox.Ok, self)
            box.setAttribute(Qt.WA_DeleteOnClose)
            box.open()  # not exec(): the machines stay on screen behind it
            self.pin_message = box
        return accepted

    def change_role(self) -> None:
        """Edit → Role of this PC…: the role (with the PIN where it needs one) and, for IT, the PIN."""
        settings = self.state.settings
        dialog = RoleDialog(settings, self.role, self)
        if not dialog.exec():
            return
        role, pin_hash = dialog.chosen_role(), dialog.new_pin_hash()
        self.set_role(role, pin_hash)

    def set_role(self, role: str, pin_hash: str | None = None) -> bool:
        """Make ``role`` this PC's role (asking for the PIN where it needs one) and, when ``pin_hash``
        is not None, store that PIN hash ("" removes the PIN); saved and audited."""
        if role not in ROLES:
            raise ValueError(f"unknown role {role!r}")
        old = self.state.settings
        if role != self.role and not self.ask_pin(f"make this PC a {ROLE_NAMES[role]} PC", role):
            return False
        from dataclasses import replace

        new = replace(old, role=role, role_pin_hash=old.role_pin_hash if pin_hash is None else pin_hash)
        entries = []
        if new.role != old.role:
            entries.append({"action": "settings.role_changed", "subject": "role", "old_value": old.role,
                            "new_value": new.role})
        if new.role_pin_hash != old.role_pin_hash:  # what happened to the PIN, never the hash
            what = "removed" if not new.role_pin_hash else ("changed" if old.role_pin_hash else "set")
            entries.append({"action": "settings.pin_changed", "subject": "role_pin", "new_value": what})
        self.state.set_settings(new)
        if self.persist_settings:
            save_settings(new)
        self.apply_role(role)
        if entries:
            self._audit(entries)
        return True

    def _audit(self, entries: list[dict]) -> None:
        self.access_audit.start(_write_audit, self.state.settings.feature_store_url or None, entries)

    def open_user_guide(self) -> None:
        guide = project_root() / "docs" / "guide" / "index.md"
        if not guide.is_file() or not QDesktopServices.openUrl(QUrl.fromLocalFile(str(guide))):
            QMessageBox.warning(self, "cncwear", f"The user guide could not be opened: {guide}")

    def show_about(self) -> None:
        from ..automl.runtime import automl_python

        engines = "auto-sklearn (AutoML runtime found) and FLAML" if automl_python() else (
            "FLAML only: the auto-sklearn runtime is not installed here (it needs Linux and Python 3.9)")
        QMessageBox.about(self, "About cncwear", (
            f"<b>cncwear {__version__}</b> — milling-tool wear prediction for CNC shop floors."
            f"<p>Training engines: {engines}.</p>"
            "<p>Licensed under the Apache License 2.0. Bundled data: the CNC Milling Dataset of the "
            "University of Michigan SMART lab (2018), CC0 1.0. Third-party licences: NOTICE.md.</p>"
        ))

    def choose_files(self) -> None:
        files, _ = QFileDialog.getOpenFileNames(self, "Open data files", "", "Data files (*.csv *.tsv *.txt *.gz *.zip *.parquet);;All files (*)")
        if files:
            self.load([Path(f) for f in files])

    def choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Open a folder of experiment files")
        if folder:
            self.load([Path(folder)])

    def dragEnterEvent(self, event) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:
        paths = [Path(url.toLocalFile()) for url in event.mimeData().urls() if url.isLocalFile()]
        if paths and "Data" in self.visible_views():
            self.tabs.setCurrentWidget(self.data_view)
            self.load(paths)

    def edit_settings(self) -> None:
        if self.kiosk or not has_settings(self.role):
            return
        dialog = SettingsDialog(self.state.settings, self)
        if dialog.exec():
            old = self.state.settings
            new = dialog.edited()
            self.state.set_settings(new)
            if self.persist_settings:
                save_settings(new)
            if new.theme != old.theme:
                from PySide6.QtWidgets import QApplication

                from .theme import apply_theme

                apply_theme(QApplication.instance(), new.theme)  # plots take it fully after a restart
            self._audit_settings(old, new)
            if new.worn_threshold != old.worn_threshold:
                self._score()
            live_fields = ("worn_threshold", "smoothing_window", "alarm_delay_samples", "machines", "demo_replay_speed",
                           "feature_store_url", "teach_runs", "relearn_after_tool_change", "taught_warn_pct",
                           "taught_alarm_pct", "taught_delay_windows")
            if any(getattr(new, name) != getattr(old, name) for name in live_fields):
                self.start_live()
            if new.data_dir != old.data_dir:
                self.load(self._default_paths())
            self.metrics_service.apply(new)  # restarts only when the address or TLS files changed
            self._apply_pipeline_watcher()

    def _audit_settings(self, old: Settings, new: Settings) -> None:
        """Every changed setting to the audit trail, written in a worker."""
        from ..settings import settings_changes

        changes = settings_changes(old, new)
        if changes:
            self.settings_audit.start(_write_settings_audit, new.feature_store_url or None, changes)

    def _restore_geometry(self) -> None:
        if self.state.settings.window_geometry:
            self.restoreGeometry(QByteArray.fromBase64(self.state.settings.window_geometry.encode()))

    @property
    def busy(self) -> bool:
        return self._first_load.isActive() or any(r.running for r in self.runners)

    def closeEvent(self, event) -> None:
        logging_off = QGuiApplication.instance().isSavingSession()  # the PC shuts down: never in the way
        if self.kiosk and self.guard_kiosk_close and not logging_off and not self.ask_pin("close the app", KIOSK_EXIT_ROLE):
            event.ignore()  # kiosk mode: closing stops the watching of every machine
            return
        self._first_load.stop()
        self.live.shutdown()
        self.monitoring_view.shutdown()
        for runner in self.runners:
            runner.shutdown()
        self.alarms_view.shared.close()
        self.metrics_service.stop()
        self._watcher_check.stop()
        self.promotion_follower.close()
        self.pipeline_watcher.stop()
        if self.persist_settings:
            self.state.settings.window_geometry = bytes(self.saveGeometry().toBase64()).decode()
            save_settings(self.state.settings)
        super().closeEvent(event)
