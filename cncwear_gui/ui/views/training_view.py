"""Training view: an AutoML search (FLAML or auto-sklearn) on a chosen feature set with live
progress, its results next to the baselines, and the champion/challenger promotion.

Generalisation to unseen tools comes first: LOEO (leave one experiment out) is the default gate
protocol and the first figure of the summary and the comparison table; seed (a random row split)
is labelled optimistic. The chosen feature set's leakage check (can it identify the experiment?)
runs in a worker and is cached per dataset and feature set.

All work runs in TaskRunners (training_jobs.py). The search reports each candidate from its
worker thread through ``on_event``; the view re-emits it as a Qt signal (queued to the GUI
thread) tagged with the run's number, so a cancelled run's late events are ignored. Redraws are
throttled by a timer. mlflow loads only when this tab is first shown or work starts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QElapsedTimer, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from ...automl.config import MIN_BUDGET_S
from ...automl.runtime import automl_python
from ...features.sets import FEATURE_SETS
from ..state import AppState
from ..table_models import ComparisonTableModel, LeaderboardTableModel, fit_columns_on_reset, row_table
from ..workers import TaskRunner
from .score_curve import ScoreCurve
from .training_jobs import (
    BASELINE_LABELS,
    BASELINES,
    GATE_METRIC,
    PromotionOutcome,
    RegistryStatus,
    TrainingOutcome,
    baselines_in_worker,
    leakage_in_worker,
    probe_automl_runtime,
    promote_in_worker,
    registry_status,
    start_mlflow_ui,
    train_in_worker,
)

if TYPE_CHECKING:
    from ...automl.jobs import JobEvent
    from ...features.leakage import LeakageReport

ENGINE_NAMES = {"flaml": "FLAML", "auto-sklearn": "auto-sklearn"}
DEFAULT_BUDGET_S = 60
MAX_BUDGET_S = 3600
REDRAW_MS = 250
GATE_PROTOCOLS = {
    "loeo": "LOEO — leave one experiment out (honest)",
    "seed": "seed — random 80/20 rows (optimistic)",
}
FAILED_STYLE = "background: #efc0c0;"  # colour only for the abnormal state, always with text
WARNING_STYLE = "background: #f3e6b3; color: #202020;"  # with "▲ Warning" text; readable in the dark theme too
DEFAULT_FEATURE_SET = "signals"  # models.training.TrainingConfig's default: what a live machine delivers
LEAKAGE_SYMBOL = {"warning": "▲ Warning", "note": "ℹ Note", "ok": "✔"}
PROTOCOL_SHORT = {"loeo": "LOEO (unseen tools)", "seed": "seed (random rows, optimistic)"}


def automl_unavailable_reason() -> str | None:
    """Why auto-sklearn cannot run here, or None when its runtime is installed (a cheap check)."""
    if automl_python() is None:
        return "auto-sklearn is not installed here (needs Linux + Python 3.9); use FLAML"
    return None


def setup_caveats(name: str) -> str:
    """What a feature set's columns let a model recognise besides the tool (no computation)."""
    feature_set = FEATURE_SETS[name]
    lines = []
    setup = feature_set.setup_dependent_columns
    if setup:
        lines.append(f"▲ Setup-dependent: {len(setup)} columns ({', '.join(setup[:3])}, …) place samples in machine "
                     f"coordinates and the NC program, so LOEO cannot tell wear from setup when they move together.")
    if feature_set.uses_experiment_constants:
        lines.append("▲ Uses train.csv's per-experiment constants (feedrate, clamp_pressure): its seed figures "
                     "measure recognising the run, not the tool.")
    return "\n".join(lines)


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


def search_time(result) -> float:
    """Seconds the search itself took (the run's search_seconds also counts the evaluation)."""
    return float(next((e.data["elapsed_s"] for e in result.events if e.kind == "done" and "elapsed_s" in e.data),
                      result.search_seconds))


class TrainingView(QWidget):
    champion_promoted = Signal(str)  # the new champion's version: the main window reloads it
    _job_event = Signal(int, object)  # (run number, JobEvent), emitted from the worker thread

    def __init__(self, state: AppState, parent=None):
        super().__init__(parent)
        self.state = state
        self.outcome: TrainingOutcome | None = None
        self.registry: RegistryStatus | None = None
        self.baselines: list = []
        self._baselines_for: tuple | None = None  # (dataset, feature set) the baselines were computed on
        self._run = 0
        self._budget_s = DEFAULT_BUDGET_S
        self._engine = "flaml"
        self._search_done = False
        self.trial_count = 0
        self.best_score: float | None = None
        self.best_model = ""
        self._clock = QElapsedTimer()
        self._search_elapsed = 0.0
        self._leakage_dataset = None  # the dataset the cached leakage reports belong to
        self._leakage_cache: dict[str, LeakageReport] = {}  # feature set -> its report on that dataset
        self._leakage_pending: str | None = None  # the feature set being checked

        self.trainer = TaskRunner(self)
        self.baseliner = TaskRunner(self)
        self.registry_runner = TaskRunner(self)
        self.browser = TaskRunner(self)
        self.prober = TaskRunner(self)  # a quiet background check, left out of the status bar's runners
        self.leakage_runner = TaskRunner(self)
        self.runners = (self.trainer, self.baseliner, self.registry_runner, self.browser, self.leakage_runner)

        self._build_controls()
        self._build_results()
        layout = QHBoxLayout(self)
        layout.addWidget(self._left, 0)
        layout.addWidget(self._right, 1)

        self._timer = QTimer(self)
        self._timer.setInterval(REDRAW_MS)
        self._timer.timeout.connect(self._redraw)
        self._job_event.connect(self._on_job_event, Qt.QueuedConnection)
        self.trainer.progress.connect(self._on_train_progress)
        self.trainer.succeeded.connect(self._on_trained)
        self.trainer.failed.connect(lambda message: self._finish(f"✖ Training failed: {message}", failed=True))
        self.trainer.cancelled.connect(lambda: self._finish("■ Training cancelled — the view is idle again."))
        self.baseliner.progress.connect(lambda fraction, message: self.baseline_status.setText(
            f"Computing the baselines: {message} ({fraction:.0%})"))
        self.baseliner.succeeded.connect(self._on_baselines)
        self.baseliner.failed.connect(lambda message: self.baseline_status.setText(f"✖ Baselines failed: {message}"))
        self.baseliner.cancelled.connect(lambda: self.baseline_status.setText("Baselines cancelled."))
        self.registry_runner.progress.connect(lambda _fraction, message: self.verdict.setText(message))
        self.registry_runner.succeeded.connect(self._on_registry_result)
        self.registry_runner.failed.connect(lambda message: self.verdict.setText(f"✖ {message}"))
        self.registry_runner.cancelled.connect(lambda: self.verdict.setText("Cancelled."))
        self.browser.succeeded.connect(self._open_url)
        self.browser.failed.connect(lambda message: self.mlflow_status.setText(f"✖ {message}"))
        self.prober.succeeded.connect(self._on_probe)
        self.leakage_runner.progress.connect(self._on_leakage_progress)
        self.leakage_runner.succeeded.connect(self._on_leakage)
        self.leakage_runner.failed.connect(self._on_leakage_failed)
        self.leakage_runner.cancelled.connect(self._on_leakage_cancelled)
        for runner in self.runners:
            runner.running_changed.connect(self._update_buttons)
        state.dataset_changed.connect(self._on_dataset_changed)
        self._feature_set_changed()
        self._update_buttons()

    # -- layout ---------------------------------------------------------------------------------
    def _build_controls(self) -> None:
        self.engine = QComboBox()
        for engine in ("flaml", "auto-sklearn"):
            self.engine.addItem(ENGINE_NAMES[engine], engine)
        self.engine_note = QLabel("")
        self.engine_note.setWordWrap(True)
        self.automl_reason: str | None = None  # why auto-sklearn cannot run here
        self.automl_runtime = ""  # its versions, once probed
        self.budget = QSpinBox()
        self.budget.setRange(MIN_BUDGET_S["flaml"], MAX_BUDGET_S)
        self.budget.setValue(DEFAULT_BUDGET_S)
        self.budget.setSuffix(" s")
        self._disable_automl(automl_unavailable_reason())
        self.engine.currentIndexChanged.connect(self._engine_changed)
        self.gate_protocol = QComboBox()
        for protocol, text in GATE_PROTOCOLS.items():
            self.gate_protocol.addItem(text, protocol)
        self.gate_protocol.currentIndexChanged.connect(lambda _index: self._show_registry())
        self.gate_protocol.setToolTip("LOEO is the honest figure for an unseen tool; seed (a random row split) "
                                      "is optimistic.")
        self.feature_set = QComboBox()
        for name, feature_set in FEATURE_SETS.items():
            self.feature_set.addItem(name, name)
            self.feature_set.setItemData(self.feature_set.count() - 1, feature_set.description, Qt.ToolTipRole)
        self.feature_set.setCurrentIndex(self.feature_set.findData(DEFAULT_FEATURE_SET))
        self.feature_set.currentIndexChanged.connect(lambda _index: self._feature_set_changed())
        self.leakage_label = QLabel("")  # the leakage check of the chosen feature set: text, and colour for a warning
        self.feature_caveats = QLabel("")  # setup-dependent columns, per-experiment constants
        for label in (self.leakage_label, self.feature_caveats):
            label.setWordWrap(True)
            label.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.gate_margin = QDoubleSpinBox()
        self.gate_margin.setRange(0.0, 0.2)
        self.gate_margin.setDecimals(3)
        self.gate_margin.setSingleStep(0.005)
        self.gate_margin.setToolTip("Promote when challenger ≥ champion − margin (on the gate's protocol, accuracy).")
        self.register = QCheckBox("Register as challenger")
        self.register.setChecked(True)
        self.register.setToolTip("Add the trained model to the registry as 'challenger'; Promote then decides.")
        self.start_button = QPushButton("Start training")
        self.start_button.clicked.connect(self.start_training)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.trainer.cancel)
        buttons = QHBoxLayout()
        buttons.addWidget(self.start_button)
        buttons.addWidget(self.cancel_button)
        form = QFormLayout()
        form.addRow("Engine", self.engine)
        form.addRow("", self.engine_note)
        form.addRow("Time budget", self.budget)
        form.addRow("Feature set", self.feature_set)
        form.addRow("Gate protocol", self.gate_protocol)
        form.addRow("Gate margin", self.gate_margin)
        form.addRow("", self.register)
        search_box = QGroupBox("AutoML search")
        search_layout = QVBoxLayout(search_box)
        search_layout.addLayout(form)
        search_layout.addWidget(self.leakage_label)
        search_layout.addWidget(self.feature_caveats)
        search_layout.addLayout(buttons)

        self.champion_label = QLabel("Champion: —")
        self.challenger_label = QLabel("Challenger: —")
        self.verdict = QLabel("The registry is read when this tab is first shown.")
        for label in (self.champion_label, self.challenger_label, self.verdict):
            label.setWordWrap(True)
            label.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.promote_button = QPushButton("Promote challenger")
        self.promote_button.setToolTip("Run the gate; the challenger becomes champion only when it is not worse.")
        self.promote_button.clicked.connect(self.promote)
        registry_box = QGroupBox("Champion vs challenger")
        registry_layout = QVBoxLayout(registry_box)
        registry_layout.addWidget(self.champion_label)
        registry_layout.addWidget(self.challenger_label)
        registry_layout.addWidget(self.promote_button)
        registry_layout.addWidget(self.verdict)

        self.mlflow_button = QPushButton("Open MLflow UI")
        self.mlflow_button.setToolTip("Runs, metrics and registered models in the browser (served on 127.0.0.1 only).")
        self.mlflow_button.clicked.connect(self.open_mlflow_ui)
        self.mlflow_status = QLabel("")
        self.mlflow_status.setWordWrap(True)
        self.mlflow_status.setTextInteractionFlags(Qt.TextSelectableByMouse)

        self._left = QWidget()
        self._left.setFixedWidth(400)
        left = QVBoxLayout(self._left)
        left.setContentsMargins(0, 0, 0, 0)
        left.addWidget(search_box)
        left.addWidget(registry_box)
        left.addWidget(self.mlflow_button)
        left.addWidget(self.mlflow_status)
        left.addStretch(1)

    def _build_results(self) -> None:
        self.status = QLabel("Choose an engine and a time budget, then Start training.")
        self.status.setObjectName("viewTitle")
        self.status.setWordWrap(True)
        self.status.ensurePolished()  # its font comes from the style sheet
        # two lines from the start: the run's summary then fits without shrinking (and re-laying out
        # and re-drawing) the plot and the tables in the frame that shows the results
        self.status.setMinimumHeight(2 * self.status.fontMetrics().lineSpacing())
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setFormat("idle")
        self.live = QLabel("elapsed — · 0 candidates · best —")
        self.curve = ScoreCurve()

        self.leaderboard = LeaderboardTableModel()
        self.leaderboard_table = row_table(self.leaderboard)
        fit_columns_on_reset(self.leaderboard_table)
        self.leaderboard_table.horizontalHeader().setStretchLastSection(True)
        self.leaderboard_caption = QLabel("Leaderboard: after the search.")
        self.leaderboard_caption.setWordWrap(True)
        leaderboard_panel = QWidget()
        leaderboard_layout = QVBoxLayout(leaderboard_panel)
        leaderboard_layout.setContentsMargins(0, 0, 0, 0)
        leaderboard_layout.addWidget(self.leaderboard_caption)
        leaderboard_layout.addWidget(self.leaderboard_table)

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
        self.baseline_status = QLabel(f"{self._baseline_names()}: after a training run.")
        self.baseline_status.setWordWrap(True)
        self.baseline_button = QPushButton("Compute baselines")
        self.baseline_button.setToolTip(f"{self._baseline_names()} under LOEO and seed, on the run's feature set.")
        self.baseline_button.clicked.connect(self._baselines_clicked)
        baseline_row = QHBoxLayout()
        baseline_row.addWidget(self.baseline_status, 1)
        baseline_row.addWidget(self.baseline_button)
        comparison_panel = QWidget()
        comparison_layout = QVBoxLayout(comparison_panel)
        comparison_layout.setContentsMargins(0, 0, 0, 0)
        comparison_layout.addWidget(caption)
        comparison_layout.addWidget(self.comparison_table)
        comparison_layout.addLayout(baseline_row)

        splitter = QSplitter(Qt.Vertical)
        splitter.addWidget(self.curve)
        splitter.addWidget(leaderboard_panel)
        splitter.addWidget(comparison_panel)
        splitter.setSizes([350, 180, 270])  # the talk's table whole: its four rows and two-line header
        progress_row = QHBoxLayout()
        progress_row.addWidget(self.progress, 1)
        progress_row.addWidget(self.live, 1)
        self._right = QWidget()
        right = QVBoxLayout(self._right)
        right.setContentsMargins(0, 0, 0, 0)
        right.addWidget(self.status)
        right.addLayout(progress_row)
        right.addWidget(splitter, 1)

    # -- state ----------------------------------------------------------------------------------
    @property
    def loaded(self) -> bool:
        """A training result is shown and nothing is running (the screenshot mode waits for it)."""
        return self.outcome is not None and not any(r.running for r in self.runners)

    def choices(self) -> dict:
        return {
            "engine": self.engine.currentData(),
            "budget_s": self.budget.value(),
            "feature_set": self.feature_set.currentData(),
            "register": self.register.isChecked(),
            "gate_protocol": self.gate_protocol.currentData(),
            "gate_margin": self.gate_margin.value(),
        }

    def set_choices(self, engine: str | None = None, budget_s: int | None = None, register: bool | None = None,
                    gate_protocol: str | None = None, gate_margin: float | None = None,
                    feature_set: str | None = None) -> None:
        if engine is not None:
            self.engine.setCurrentIndex(self.engine.findData(engine))
        if feature_set is not None:
            self.feature_set.setCurrentIndex(self.feature_set.findData(feature_set))
        if budget_s is not None:
            self.budget.setValue(budget_s)
        if register is not None:
            self.register.setChecked(register)
        if gate_protocol is not None:
            self.gate_protocol.setCurrentIndex(self.gate_protocol.findData(gate_protocol))
        if gate_margin is not None:
            self.gate_margin.setValue(gate_margin)

    def _update_buttons(self, *_args) -> None:
        training = self.trainer.running
        registry_busy = self.registry_runner.running  # one mlflow writer at a time on a fresh store
        ready = self.state.dataset is not None and not training and not registry_busy
        self.start_button.setEnabled(ready)
        self.cancel_button.setEnabled(training)
        for control in (self.engine, self.budget, self.feature_set, self.gate_protocol, self.gate_margin, self.register):
            control.setEnabled(not training)
        challenger = self.registry is not None and self.registry.challenger is not None
        self.promote_button.setEnabled(challenger and ready)
        self.mlflow_button.setEnabled(not self.browser.running)
        if self.baseliner.running:
            self.baseline_button.setText("Cancel baselines")
            self.baseline_button.setEnabled(True)
        else:
            self.baseline_button.setText("Compute baselines")
            self.baseline_button.setEnabled(self.outcome is not None and not training)

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self.registry is None and not self.registry_runner.running and not self.trainer.running:
            self.verdict.setText("Reading the registry …")
            self.registry_runner.start(registry_status)
        if self.automl_reason is None and not self.automl_runtime and not self.prober.running:
            self.prober.start(probe_automl_runtime)
        self._check_leakage()

    def _disable_automl(self, reason: str | None) -> None:
        """Grey out the auto-sklearn entry and say why (text, tooltip); FLAML stays."""
        if reason:
            index = self.engine.findData("auto-sklearn")
            self.engine.model().item(index).setEnabled(False)
            self.engine.setItemText(index, "auto-sklearn (not installed)")
            self.engine.setItemData(index, reason, Qt.ToolTipRole)
            self.automl_reason = reason
            if self.engine.currentData() == "auto-sklearn":
                self.engine.setCurrentIndex(self.engine.findData("flaml"))
        self._engine_changed()

    def _engine_changed(self) -> None:
        engine = self.engine.currentData()
        self.budget.setMinimum(MIN_BUDGET_S[engine])
        if engine == "flaml":
            note = "FLAML runs in this process and searches scikit-learn models."
            if self.automl_reason:
                note += f" {self.automl_reason[0].upper()}{self.automl_reason[1:]}."
        else:
            note = f"auto-sklearn runs in its own runtime{f' ({self.automl_runtime})' if self.automl_runtime else ''}; " \
                   f"minimum budget {MIN_BUDGET_S[engine]} s."
        self.engine_note.setText(note)

    def _on_probe(self, status) -> None:
        if status.available:
            self.automl_runtime = status.message
            self._engine_changed()
        else:
            self._disable_automl(status.message)

    # -- training -------------------------------------------------------------------------------
    def start_training(self) -> None:
        if self.state.dataset is None or self.trainer.running:
            return
        choices = self.choices()
        self.baseliner.cancel()  # CPU for the search: a time-budgeted search tries fewer candidates otherwise
        self._run += 1
        run = self._run
        self._budget_s = choices["budget_s"]
        self._engine = choices["engine"]
        self._search_done = False
        self._search_elapsed = 0.0
        self._clock.invalidate()
        self.trial_count, self.best_score, self.best_model = 0, None, ""
        self.curve.reset(self._budget_s, GATE_METRIC)
        self.status.setStyleSheet("")
        self.status.setText(f"Training with {ENGINE_NAMES[choices['engine']]} on {choices['feature_set']}: "
                            f"preparing the training table …")
        self.progress.setValue(0)
        self.progress.setFormat("preparing")
        self.live.setText(f"elapsed 0 s of {self._budget_s} s · 0 candidates · best —")
        self._timer.start()
        self.trainer.start(train_in_worker, self.state.dataset, choices,
                           on_event=lambda event, run=run: self._job_event.emit(run, event))

    def _on_job_event(self, run: int, event: JobEvent) -> None:
        if run != self._run or not self.trainer.running:
            return  # a cancelled run finishing late
        data = event.data
        if event.kind == "started":
            self._clock.start()
            self.status.setText(f"Searching with {ENGINE_NAMES[self._engine]} on "
                                f"{data.get('rows', 0):,} rows × {data.get('features', '?')} features …")
        elif event.kind == "trial":
            self.trial_count = int(data.get("n", self.trial_count + 1))
            self.curve.add_trial(data.get("elapsed_s", 0.0), data.get("score"))
        elif event.kind == "best":
            self.best_score, self.best_model = data.get("score"), str(data.get("model", ""))
        elif event.kind == "done":
            self._search_done = True
            self._search_elapsed = float(data.get("elapsed_s", self._elapsed()))
            self.status.setText("Search finished; evaluating the found model (seed split, then leave one experiment out) …")

    def _elapsed(self) -> float:
        if self._search_done:
            return self._search_elapsed
        return self._clock.elapsed() / 1000 if self._clock.isValid() else 0.0

    def _on_train_progress(self, fraction: float, message: str) -> None:
        if self._search_done:  # evaluation and logging: the task's own progress
            self.progress.setValue(int(fraction * 1000))
            self.progress.setFormat(message or "%p%")

    def _redraw(self) -> None:
        elapsed = self._elapsed()
        if not self._search_done:
            self.progress.setValue(int(min(1.0, elapsed / max(1, self._budget_s)) * 1000))
            self.progress.setFormat(f"search: {elapsed:.0f} s of {self._budget_s} s" if self._clock.isValid() else "preparing")
        best = "—" if self.best_score is None else f"{self.best_score:.4f} ({self.best_model})"
        clock = (f"search took {elapsed:.0f} s (budget {self._budget_s} s)" if self._search_done
                 else f"elapsed {elapsed:.0f} s of {self._budget_s} s")
        self.live.setText(f"{clock} · {self.trial_count} candidates · best {best}")
        self.curve.refresh(None if self._search_done else elapsed)

    def cancel(self) -> None:
        self.trainer.cancel()

    def _finish(self, text: str, failed: bool = False) -> None:
        self._timer.stop()
        self._redraw()
        self.status.setText(text)
        self.status.setStyleSheet(FAILED_STYLE if failed else "")
        self.progress.setValue(0)
        self.progress.setFormat("failed" if failed else "cancelled" if text.startswith("■") else "done")
        self._update_buttons()

    def _on_trained(self, outcome: TrainingOutcome) -> None:
        self.outcome = outcome
        result = outcome.result
        self._search_done = True
        self._search_elapsed = search_time(result)
        self._finish(self._summary(result))
        self.progress.setValue(1000)
        self.leaderboard.set_rows(result.leaderboard)
        self.leaderboard_caption.setText(
            "Leaderboard: best candidate per model family, with its configuration (FLAML)."
            if result.engine == "flaml" else "Leaderboard: the models auto-sklearn kept, with their ensemble weights."
        )
        self._show_comparison()
        self._on_registry_status(outcome.registry)
        gate = result.gate
        if gate is not None:
            advice = (f"Press Promote to make v{gate.challenger_version} the champion." if gate.promote
                      else "Promote would keep the champion.")
            self.verdict.setText(f"Gate at training time: {'would promote' if gate.promote else 'would keep the champion'} — "
                                 f"{gate.reason}. {advice}")

    def _summary(self, result) -> str:
        parts = [f"✔ {ENGINE_NAMES[result.engine]} tried {result.trials} candidates in {search_time(result):.0f} s "
                 f"on {result.feature_set}"]
        if result.ensemble:
            parts[0] += f"; best: {result.ensemble[0]['model']}" + (f" (+{len(result.ensemble) - 1} in the ensemble)" if len(result.ensemble) > 1 else "")
        for protocol in sorted(result.evaluations, key=lambda p: p != "loeo"):  # the honest figure first
            evaluation = result.evaluations[protocol]
            text = f"{PROTOCOL_SHORT.get(protocol, protocol)} accuracy {evaluation.metrics['accuracy']:.1%}"
            if protocol == "loeo":
                text += f" ({evaluation.experiments_correct}/{len(evaluation.verdicts)} experiments right)"
            parts.append(text)
        parts.append(f"registered as v{result.model_version} (challenger)" if result.model_version else "logged, not registered")
        return " · ".join(parts)

    # -- feature set and its leakage check -------------------------------------------------------
    @property
    def leakage_shown(self) -> bool:
        """The chosen feature set's leakage check is on screen (it runs while the view is shown)."""
        return self.feature_set.currentData() in self._leakage_cache

    def _feature_set_changed(self) -> None:
        name = self.feature_set.currentData()
        self.feature_set.setToolTip(FEATURE_SETS[name].description)
        caveats = setup_caveats(name)
        self.feature_caveats.setText(caveats)
        self.feature_caveats.setVisible(bool(caveats))
        self._check_leakage()

    def _on_dataset_changed(self, _dataset) -> None:
        self._update_buttons()
        self._check_leakage()

    def _check_leakage(self) -> None:
        """Show the chosen feature set's leakage report: cached, or computed in a worker (only while
        the tab is shown; a few seconds of forest fits)."""
        dataset, name = self.state.dataset, self.feature_set.currentData()
        if dataset is not self._leakage_dataset:
            self._leakage_dataset, self._leakage_cache = dataset, {}
            if self.leakage_runner.running:
                self.leakage_runner.cancel()  # it was checking the previous dataset
        if dataset is None:
            self._show_leakage_text("Leakage check: after data are loaded.")
        elif name in self._leakage_cache:
            self._show_leakage(self._leakage_cache[name])  # a check of another set may go on: it fills the cache
        elif self.leakage_runner.running and self._leakage_pending == name:
            self._show_leakage_text(f"Checking whether {name} identifies the experiment …")
        elif not self.isVisible():
            self._show_leakage_text("Leakage check: when this tab is shown.")
        else:
            self.leakage_runner.start(leakage_in_worker, dataset, name)
            self._leakage_pending = name
            self._show_leakage_text(f"Checking whether {name} identifies the experiment …")

    def _on_leakage_progress(self, fraction: float, message: str) -> None:
        name = self._leakage_pending
        if name is not None and name == self.feature_set.currentData():
            self._show_leakage_text(f"Checking whether {name} identifies the experiment: {message} ({fraction:.0%})")

    def _on_leakage(self, result: tuple) -> None:
        dataset, name, report = result
        self._leakage_pending = None
        if dataset is not self._leakage_dataset:
            return
        self._leakage_cache[name] = report
        if name == self.feature_set.currentData():
            self._show_leakage(report)

    def _on_leakage_failed(self, message: str) -> None:
        self._leakage_pending = None
        self._show_leakage_text(f"✖ Leakage check failed: {message}", FAILED_STYLE)

    def _on_leakage_cancelled(self) -> None:
        self._leakage_pending = None
        name = self.feature_set.currentData()
        if name not in self._leakage_cache:
            self._show_leakage_text("Leakage check cancelled; it runs again when this tab is shown or the feature set changes.")

    def _show_leakage(self, report: LeakageReport) -> None:
        self._show_leakage_text(f"{LEAKAGE_SYMBOL[report.level]} {report.message}",
                                WARNING_STYLE if report.level == "warning" else "")
        top = "\n".join(f"{feature}: {score:.2f}" for feature, score in report.per_feature[:10])
        self.leakage_label.setToolTip(
            f"Experiment identified from the features on held-out 5 s blocks: score {report.score:.2f} "
            f"(0 = chance, 1 = always right; {report.experiments} experiments)."
            + (f"\nMost identifying features alone:\n{top}" if top else ""))

    def _show_leakage_text(self, text: str, style: str = "") -> None:
        self.leakage_label.setText(text)
        self.leakage_label.setStyleSheet(style)
        self.leakage_label.setToolTip("")

    @property
    def leakage_report(self) -> LeakageReport | None:
        """The shown feature set's report on the loaded dataset, once checked."""
        if self.state.dataset is None or self.state.dataset is not self._leakage_dataset:
            return None
        return self._leakage_cache.get(self.feature_set.currentData())

    # -- baselines ------------------------------------------------------------------------------
    @staticmethod
    def _baseline_names() -> str:
        names = [BASELINE_LABELS[code] for code in BASELINES]
        return ", ".join(names[:-1]) + f" and {names[-1]}"

    def _baselines_clicked(self) -> None:
        if self.baseliner.running:
            self.baseliner.cancel()
        elif self.outcome is not None and self.state.dataset is not None:
            feature_set = self.outcome.result.feature_set
            self._baselines_for = (self.state.dataset, feature_set)
            self.baseline_status.setText(f"Computing {self._baseline_names()} …")
            self.baseliner.start(baselines_in_worker, self.state.dataset, feature_set)

    def _on_baselines(self, rows: list) -> None:
        self.baselines = rows
        self.baseline_status.setText("Baselines computed on the same rows and features (not logged to MLflow).")
        self._show_comparison()

    def _show_comparison(self) -> None:
        if self.outcome is None:
            return
        current = (self.state.dataset, self.outcome.result.feature_set)
        baselines = self.baselines if self._baselines_for == current else []
        if not baselines and not self.baseliner.running:
            self.baseline_status.setText(f"{self._baseline_names()}: not computed yet — Compute baselines "
                                         f"(a few minutes: {len(BASELINES)} models, one fit per experiment under LOEO).")
        automl = self.outcome.rows
        self.comparison.set_rows(baselines + automl, highlight=automl[0].label if automl else None)

    # -- champion and challenger ----------------------------------------------------------------
    def promote(self) -> None:
        if self.state.dataset is None or self.registry is None or self.registry.challenger is None:
            return
        self.verdict.setText("Running the gate …")
        self.registry_runner.start(promote_in_worker, self.state.dataset, self.gate_protocol.currentData(),
                                   self.gate_margin.value())

    def _on_registry_result(self, result) -> None:
        if isinstance(result, PromotionOutcome):
            decision = result.decision
            if result.promoted:
                self.verdict.setText(f"✔ Promoted: v{decision.challenger_version} is the champion now — {decision.reason}.")
                self.champion_promoted.emit(decision.challenger_version)
            else:
                self.verdict.setText(f"✖ Not promoted: the champion stays — {decision.reason}.")
            self._on_registry_status(result.registry)
        else:
            self.verdict.setText("")
            self._on_registry_status(result)

    def _on_registry_status(self, status: RegistryStatus) -> None:
        self.registry = status
        self._show_registry()
        self._update_buttons()

    def _show_registry(self) -> None:
        if self.registry is None:
            return
        protocol = self.gate_protocol.currentData()

        def describe(role: str, model) -> str:
            if model is None:
                return f"{role}: none registered"
            value = model.value(protocol)
            figure = ("not recorded yet (the gate evaluates it)" if value is None else f"{value:.4f}")
            trained = model.trained_at.replace("T", " ").replace("+00:00", " UTC") or "—"
            return f"{role}: v{model.version} · {model.engine} · trained {trained}\n{protocol} {GATE_METRIC}: {figure}"

        self.champion_label.setText(describe("Champion", self.registry.champion))
        self.challenger_label.setText(describe("Challenger", self.registry.challenger)
                                      + ("" if self.registry.challenger else " (train with 'Register as challenger')"))

    def open_mlflow_ui(self) -> None:
        self.mlflow_status.setText("Starting the MLflow UI …")
        self.browser.start(start_mlflow_ui)

    def _open_url(self, url: str) -> None:
        self.mlflow_status.setText(f"MLflow UI: {url}")
        QDesktopServices.openUrl(QUrl(url))
