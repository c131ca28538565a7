"""The Monitoring view's header: the champion (engine, age, recorded accuracies), **Retrain now**
with its budget, progress and Cancel, and the snapshot's loading line under them."""

from __future__ import annotations

import threading
from datetime import datetime, timezone

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFrame, QGridLayout, QHBoxLayout, QLabel, QProgressBar, QPushButton, QSizePolicy, QSpinBox, QWidget

from ....automl.config import MIN_BUDGET_S
from ...state import AppState
from ...widgets import parse_utc, percent, show_status, text_label
from ...workers import TaskRunner
from ..monitoring_jobs import MonitoringSnapshot, RetrainOutcome, count_retrain, loaded_files, run_pipeline_in_worker

MAX_BUDGET_S = 3600
OUTCOME_SYMBOL = {"promoted": "✔", "kept": "●", "failed": "✖", "skipped": "–", "cancelled": "■"}


class SnapshotStatus(QWidget):
    """How reading the monitoring snapshot goes: a progress bar and a line of text."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.status = text_label("The monitoring data is read when this tab is first shown.")
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setMaximumWidth(220)
        self.progress.setFormat("snapshot")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)  # as when the row was a layout in the header's grid
        layout.addWidget(self.progress)
        layout.addWidget(self.status, 1)

    def show_text(self, text: str, failed: bool = False) -> None:
        show_status(self.status, text, "failed" if failed else "")

    def show_loading(self) -> None:
        self.show_text("Loading the monitoring data (champion, statistics, triggers, history) …")
        self.progress.setValue(0)
        self.progress.setFormat("loading")

    def show_progress(self, fraction: float, message: str) -> None:
        self.progress.setValue(int(fraction * 1000))
        self.progress.setFormat(f"{fraction:.0%}")
        self.status.setText(f"Loading the monitoring data: {message}")

    def show_failed(self, message: str) -> None:
        self.progress.setValue(0)
        self.progress.setFormat("failed")
        self.show_text(f"✖ Could not load the monitoring data: {message}. The panels show the last data "
                       "loaded, if any; Refresh tries again.", failed=True)

    def show_loaded(self, snapshot: MonitoringSnapshot) -> None:
        self.progress.setValue(1000)
        self.progress.setFormat("loaded")
        self.show_text(f"Monitoring data of {snapshot.model.get('label', '?')} loaded "
                       f"{snapshot.loaded_at:%Y-%m-%d %H:%M:%S} UTC (training reference: "
                       f"{snapshot.reference.n_rows:,} rows, {len(snapshot.reference.columns)} features).")


class ChampionPanel(QFrame):
    """The champion and Retrain now, which runs the automated pipeline in a child process (its own
    runner); ``footer`` (the snapshot's loading line) spans the panel's last row."""

    retrain_finished = Signal()  # the history gained a firing: the view reads the snapshot again
    champion_changed = Signal()  # a retrain promoted a new champion

    def __init__(self, state: AppState, footer: QWidget, parent=None):
        super().__init__(parent)
        self.state = state
        self.snapshot: MonitoringSnapshot | None = None
        self.last_retrain: RetrainOutcome | None = None
        self._stop: threading.Event | None = None
        self.pipeline_runner = TaskRunner(self)

        self.champion_label = text_label("Champion: —")
        self.champion_label.setObjectName("viewTitle")
        self.champion_figures = text_label("")
        self.budget = QSpinBox()
        self.budget.setRange(MIN_BUDGET_S["flaml"], MAX_BUDGET_S)
        self.budget.setValue(max(MIN_BUDGET_S["flaml"], int(state.settings.pipeline_budget_s)))
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
        self.retrain_status = text_label("No retrain from this window yet. Retrain now runs the pipeline on the loaded "
                                         "data; the gate promotes the new model only when it is not worse than the champion.")

        self.setFrameShape(QFrame.StyledPanel)
        self.setSizePolicy(QSizePolicy.Preferred, QSizePolicy.Maximum)
        grid = QGridLayout(self)
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
        grid.addWidget(footer, 2, 0, 1, 2)
        grid.setColumnStretch(0, 1)
        grid.setColumnStretch(1, 1)

        self.pipeline_runner.progress.connect(self._on_retrain_progress)
        self.pipeline_runner.succeeded.connect(self._on_retrained)
        self.pipeline_runner.failed.connect(self._on_retrain_failed)
        self.pipeline_runner.cancelled.connect(self._on_retrain_cancelled)
        self.pipeline_runner.running_changed.connect(self._update_buttons)
        state.model_changed.connect(lambda _model: self.show_champion())
        self.show_champion()
        self._update_buttons()

    def set_snapshot(self, snapshot: MonitoringSnapshot) -> None:
        self.snapshot = snapshot
        self.show_champion()

    def shutdown(self) -> None:
        if self._stop is not None:
            self._stop.set()

    def show_champion(self) -> None:
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
        at = parse_utc(trained)
        when = "—" if at is None else (f"{at:%Y-%m-%d %H:%M} UTC, "
                                       f"{(datetime.now(timezone.utc) - at).total_seconds() / 86400:.1f} days ago")
        self.champion_label.setText(f"Champion: {label} · {engine}")
        if snapshot is None:
            self.champion_figures.setText(f"trained {when} · accuracies after the snapshot is loaded")
            return
        loeo = snapshot.figure("loeo")
        self.champion_figures.setText(
            f"trained {when} · seed accuracy {percent(snapshot.figure('seed'))} · LOEO accuracy "
            + (percent(loeo) if loeo is not None else "not recorded yet (the next retrain's gate measures it)"))

    def _update_buttons(self, *_args) -> None:
        running = self.pipeline_runner.running
        self.retrain_button.setEnabled(not running)
        self.budget.setEnabled(not running)
        self.cancel_button.setEnabled(running and not (self._stop is not None and self._stop.is_set()))

    # -- retrain --------------------------------------------------------------------------------
    def retrain(self) -> None:
        if self.pipeline_runner.running:
            return
        self._stop = threading.Event()
        show_status(self.retrain_status, "Retraining: validate → features → train → evaluate → gate → register → promote …")
        self.retrain_progress.setValue(0)
        self.retrain_progress.setFormat("starting the pipeline")
        self.pipeline_runner.start(run_pipeline_in_worker, loaded_files(self.state.dataset), self.budget.value(),
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
        show_status(self.retrain_status, f"{OUTCOME_SYMBOL.get(outcome.status, '')} Retrain {outcome.text}",
                    "failed" if outcome.status == "failed" else "")
        self.retrain_progress.setValue(1000 if outcome.status in ("promoted", "kept") else 0)
        self.retrain_progress.setFormat(outcome.status)
        self._update_buttons()
        self.retrain_finished.emit()  # the history gained the firing; after a promotion, the champion changed
        if outcome.status == "promoted":
            self.champion_changed.emit()

    def _on_retrain_failed(self, message: str) -> None:
        show_status(self.retrain_status, f"✖ Retrain failed: {message}", "failed")
        self.retrain_progress.setValue(0)
        self.retrain_progress.setFormat("failed")
        self._update_buttons()
        self.retrain_finished.emit()

    def _on_retrain_cancelled(self) -> None:
        show_status(self.retrain_status, "■ Retrain cancelled; the stopped firing is recorded as failed (Refresh to see it).")
        self.retrain_progress.setValue(0)
        self.retrain_progress.setFormat("cancelled")
        self._update_buttons()
