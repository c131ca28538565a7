"""Training view: an AutoML search (FLAML or auto-sklearn) on a chosen feature set with live
progress, its results next to the baselines, and the champion/challenger promotion.

Generalisation to unseen tools comes first: LOEO (leave one experiment out) is the default gate
protocol and the first figure of the summary and the comparison table; seed (a random row split)
is labelled optimistic. The chosen feature set's leakage check (can it identify the experiment?)
runs in a worker and is cached per dataset and feature set.

A stack of panels (views/training/), each with its own worker and state: the search's settings
and leakage check, the run with its progress and score curve, the leaderboard, the comparison with
the baselines, the paired protocol (the taught monitor on matched unworn/worn runs), the registry
with Promote, and the MLflow UI. All work runs in TaskRunners
(training_jobs.py); mlflow loads only when this tab is first shown or work starts. The view starts
the run with the search panel's choices and hands its outcome on; its attributes of the panels'
widgets and workers keep the names the main window, the screenshot mode and the tests use.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QSplitter, QTabWidget, QVBoxLayout, QWidget

from ..state import AppState
from ..theme import CAUTION_STYLE, FAILED_STYLE  # noqa: F401 - the status styles, also under this module's names
from ..widgets import fit_wrapped_height, on_panel
from .training.paired_panel import PairedPanel
from .training.registry_panel import MlflowPanel, RegistryPanel
from .training.results_panels import ComparisonPanel, LeaderboardPanel, LoeoFirstComparisonModel  # noqa: F401
from .training.run_panel import RunPanel, search_time  # noqa: F401
from .training.search_panel import SearchPanel, automl_unavailable_reason, setup_caveats  # noqa: F401
from .training_jobs import TrainingOutcome

WARNING_STYLE = CAUTION_STYLE  # the leakage warning's style: with "▲ Warning" text


class TrainingView(QWidget):
    champion_promoted = Signal(str)  # the new champion's version: the main window reloads it

    def __init__(self, state: AppState, parent=None):
        super().__init__(parent)
        self.state = state
        self.search = SearchPanel(state)
        self.registry_panel = RegistryPanel(state, gate=self.search.gate)
        self.mlflow = MlflowPanel()
        self.run = RunPanel()
        self.leaderboard_panel = LeaderboardPanel()
        self.comparison_panel = ComparisonPanel(state)
        self.paired_panel = PairedPanel(state)
        self.runners = (self.trainer, self.baseliner, self.registry_runner, self.browser, self.leakage_runner)

        self._left = QWidget()
        self._left.setFixedWidth(400)
        left = QVBoxLayout(self._left)
        left.setContentsMargins(0, 0, 0, 0)
        left.addWidget(self.search)
        left.addWidget(self.registry_panel)
        left.addWidget(self.mlflow)
        left.addStretch(1)
        fit_wrapped_height(self._left)  # the engine's note and the leakage check whole on a short screen
        splitter = QSplitter(Qt.Vertical)
        splitter.addWidget(self.run.curve)
        splitter.addWidget(self.leaderboard_panel)
        self.results_tabs = QTabWidget()
        self.results_tabs.setDocumentMode(True)
        self.results_tabs.addTab(self.comparison_panel, "Comparison with the baselines")
        self.results_tabs.addTab(self.paired_panel, "Paired protocol (taught monitor)")
        for panel in (self.comparison_panel, self.paired_panel):  # their captions and notes whole: at 200 %
            fit_wrapped_height(panel)  # scaling a short splitter pane would squeeze them into the table
        splitter.addWidget(self.results_tabs)
        splitter.setSizes([330, 170, 300])  # the talk's table whole: its four rows and two-line header
        self._right = QWidget()
        right = QVBoxLayout(self._right)
        right.setContentsMargins(0, 0, 0, 0)
        right.addWidget(self.run)
        right.addWidget(splitter, 1)
        layout = QHBoxLayout(self)
        layout.addWidget(self._left, 0)
        layout.addWidget(self._right, 1)

        self.search.start_button.clicked.connect(self.start_training)
        self.search.cancel_button.clicked.connect(self.run.cancel)
        self.search.gate_protocol.currentIndexChanged.connect(lambda _index: self.registry_panel.show_registry())
        self.run.trained.connect(self._on_trained)
        self.registry_panel.champion_promoted.connect(self.champion_promoted)
        for runner in self.runners:
            runner.running_changed.connect(self._update_buttons)
        state.dataset_changed.connect(lambda _dataset: self._update_buttons())
        self._update_buttons()

    # -- the panels' widgets and workers under the view's names -----------------------------------
    engine = on_panel("search")
    engine_note = on_panel("search")
    budget = on_panel("search")
    feature_set = on_panel("search")
    gate_protocol = on_panel("search")
    gate_margin = on_panel("search")
    register = on_panel("search")
    start_button = on_panel("search")
    cancel_button = on_panel("search")
    leakage_label = on_panel("search")
    feature_caveats = on_panel("search")
    leakage_runner = on_panel("search")
    leakage_shown = on_panel("search")
    leakage_report = on_panel("search")
    prober = on_panel("search")
    automl_reason = on_panel("search")
    automl_runtime = on_panel("search")
    status = on_panel("run")
    progress = on_panel("run")
    live = on_panel("run")
    curve = on_panel("run")
    trainer = on_panel("run")
    outcome = on_panel("run")
    trial_count = on_panel("run")
    best_score = on_panel("run")
    best_model = on_panel("run")
    _job_event = on_panel("run")
    leaderboard = on_panel("leaderboard_panel")
    leaderboard_table = on_panel("leaderboard_panel")
    leaderboard_caption = on_panel("leaderboard_panel")
    comparison = on_panel("comparison_panel")
    comparison_table = on_panel("comparison_panel")
    baseline_status = on_panel("comparison_panel")
    baseline_button = on_panel("comparison_panel")
    baseliner = on_panel("comparison_panel")
    baselines = on_panel("comparison_panel")
    champion_label = on_panel("registry_panel")
    challenger_label = on_panel("registry_panel")
    verdict = on_panel("registry_panel")
    promote_button = on_panel("registry_panel")
    registry = on_panel("registry_panel")
    registry_runner = on_panel("registry_panel")
    mlflow_button = on_panel("mlflow")
    mlflow_status = on_panel("mlflow")
    browser = on_panel("mlflow")

    # -- state ----------------------------------------------------------------------------------
    @property
    def loaded(self) -> bool:
        """A training result is shown and nothing is running (the screenshot mode waits for it)."""
        return self.outcome is not None and not any(r.running for r in self.runners)

    def choices(self) -> dict:
        return self.search.choices()

    def set_choices(self, engine: str | None = None, budget_s: int | None = None, register: bool | None = None,
                    gate_protocol: str | None = None, gate_margin: float | None = None,
                    feature_set: str | None = None) -> None:
        self.search.set_choices(engine=engine, budget_s=budget_s, register=register, gate_protocol=gate_protocol,
                                gate_margin=gate_margin, feature_set=feature_set)

    def _update_buttons(self, *_args) -> None:
        training = self.trainer.running
        registry_busy = self.registry_runner.running  # one mlflow writer at a time on a fresh store
        ready = self.state.dataset is not None and not training and not registry_busy
        self.search.update_buttons(training, ready)
        self.registry_panel.update_buttons(ready)
        self.comparison_panel.update_button(training)

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if not self.trainer.running:
            self.registry_panel.read_once()
        self.search.shown()

    # -- training -------------------------------------------------------------------------------
    def start_training(self) -> None:
        if self.state.dataset is None or self.trainer.running:
            return
        choices = self.choices()
        self.baseliner.cancel()  # CPU for the search: a time-budgeted search tries fewer candidates otherwise
        self.run.start(self.state.dataset, choices)

    def cancel(self) -> None:
        self.run.cancel()

    def _on_trained(self, outcome: TrainingOutcome) -> None:
        result = outcome.result
        self.leaderboard_panel.show_result(result)
        self.comparison_panel.show_outcome(outcome)
        self.registry_panel.show_status(outcome.registry)
        self.registry_panel.show_gate(result.gate)
        self._update_buttons()

    # -- champion and challenger ----------------------------------------------------------------
    def promote(self) -> None:
        self.registry_panel.promote()

    def open_mlflow_ui(self) -> None:
        self.mlflow.open_mlflow_ui()

