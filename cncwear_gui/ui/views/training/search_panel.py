"""The AutoML search's settings (engine, budget, feature set, gate protocol and margin, register)
with Start and Cancel, and the chosen feature set's leakage check, run in a worker and cached per
dataset and feature set. A quiet probe of the auto-sklearn runtime runs when first shown."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QComboBox, QDoubleSpinBox, QFormLayout, QGroupBox, QHBoxLayout, QPushButton, QSpinBox, QVBoxLayout

from ....automl.config import MIN_BUDGET_S
from ....automl.runtime import automl_python
from ....features.sets import FEATURE_SETS
from ...state import AppState
from ...widgets import show_status, text_label
from ...workers import TaskRunner
from ..training_jobs import leakage_in_worker, probe_automl_runtime

if TYPE_CHECKING:
    from ....features.leakage import LeakageReport

ENGINE_NAMES = {"flaml": "FLAML", "auto-sklearn": "auto-sklearn"}
DEFAULT_BUDGET_S = 60
MAX_BUDGET_S = 3600
GATE_PROTOCOLS = {
    "loeo": "LOEO — leave one experiment out (honest)",
    "seed": "seed — random 80/20 rows (optimistic)",
}
DEFAULT_FEATURE_SET = "signals"  # models.training.TrainingConfig's default: what a live machine delivers
LEAKAGE_SYMBOL = {"warning": "▲ Warning", "note": "ℹ Note", "ok": "✔"}


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


class SearchPanel(QGroupBox):
    def __init__(self, state: AppState, parent=None):
        super().__init__("AutoML search", parent)
        self.state = state
        self._leakage_dataset = None  # the dataset the cached leakage reports belong to
        self._leakage_cache: dict[str, LeakageReport] = {}  # feature set -> its report on that dataset
        self._leakage_pending: str | None = None  # the feature set being checked
        self.prober = TaskRunner(self)  # a quiet background check, left out of the status bar's runners
        self.leakage_runner = TaskRunner(self)

        self.engine = QComboBox()
        for engine in ("flaml", "auto-sklearn"):
            self.engine.addItem(ENGINE_NAMES[engine], engine)
        self.engine_note = text_label("", selectable=False)
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
        self.gate_protocol.setToolTip("LOEO is the honest figure for an unseen tool; seed (a random row split) "
                                      "is optimistic.")
        self.feature_set = QComboBox()
        for name, feature_set in FEATURE_SETS.items():
            self.feature_set.addItem(name, name)
            self.feature_set.setItemData(self.feature_set.count() - 1, feature_set.description, Qt.ToolTipRole)
        self.feature_set.setCurrentIndex(self.feature_set.findData(DEFAULT_FEATURE_SET))
        self.feature_set.currentIndexChanged.connect(lambda _index: self._feature_set_changed())
        self.leakage_label = text_label("")  # the leakage check of the chosen feature set: text, and colour for a warning
        self.feature_caveats = text_label("")  # setup-dependent columns, per-experiment constants
        self.gate_margin = QDoubleSpinBox()
        self.gate_margin.setRange(0.0, 0.2)
        self.gate_margin.setDecimals(3)
        self.gate_margin.setSingleStep(0.005)
        self.gate_margin.setToolTip("Promote when challenger ≥ champion − margin (on the gate's protocol, accuracy).")
        self.register = QCheckBox("Register as challenger")
        self.register.setChecked(True)
        self.register.setToolTip("Add the trained model to the registry as 'challenger'; Promote then decides.")
        self.start_button = QPushButton("Start training")
        self.cancel_button = QPushButton("Cancel")
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
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.leakage_label)
        layout.addWidget(self.feature_caveats)
        layout.addLayout(buttons)

        self.prober.succeeded.connect(self._on_probe)
        self.leakage_runner.progress.connect(self._on_leakage_progress)
        self.leakage_runner.succeeded.connect(self._on_leakage)
        self.leakage_runner.failed.connect(self._on_leakage_failed)
        self.leakage_runner.cancelled.connect(self._on_leakage_cancelled)
        state.dataset_changed.connect(lambda _dataset: self._check_leakage())
        self._feature_set_changed()

    def shown(self) -> None:
        """The view is shown: probe the auto-sklearn runtime once, check the chosen feature set."""
        if self.automl_reason is None and not self.automl_runtime and not self.prober.running:
            self.prober.start(probe_automl_runtime)
        self._check_leakage()

    # -- the choices ----------------------------------------------------------------------------
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

    def gate(self) -> tuple[str, float]:
        """The gate's protocol and margin, for Promote."""
        return self.gate_protocol.currentData(), self.gate_margin.value()

    def update_buttons(self, training: bool, ready: bool) -> None:
        self.start_button.setEnabled(ready)
        self.cancel_button.setEnabled(training)
        for control in (self.engine, self.budget, self.feature_set, self.gate_protocol, self.gate_margin, self.register):
            control.setEnabled(not training)

    # -- the engine -----------------------------------------------------------------------------
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

    # -- the feature set and its leakage check --------------------------------------------------
    @property
    def leakage_shown(self) -> bool:
        """The chosen feature set's leakage check is on screen (it runs while the view is shown)."""
        return self.feature_set.currentData() in self._leakage_cache

    @property
    def leakage_report(self) -> LeakageReport | None:
        """The shown feature set's report on the loaded dataset, once checked."""
        if self.state.dataset is None or self.state.dataset is not self._leakage_dataset:
            return None
        return self._leakage_cache.get(self.feature_set.currentData())

    def _feature_set_changed(self) -> None:
        name = self.feature_set.currentData()
        self.feature_set.setToolTip(FEATURE_SETS[name].description)
        caveats = setup_caveats(name)
        self.feature_caveats.setText(caveats)
        self.feature_caveats.setVisible(bool(caveats))
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
        self._show_leakage_text(f"✖ Leakage check failed: {message}", "failed")

    def _on_leakage_cancelled(self) -> None:
        self._leakage_pending = None
        name = self.feature_set.currentData()
        if name not in self._leakage_cache:
            self._show_leakage_text("Leakage check cancelled; it runs again when this tab is shown or the feature set changes.")

    def _show_leakage(self, report: LeakageReport) -> None:
        self._show_leakage_text(f"{LEAKAGE_SYMBOL[report.level]} {report.message}",
                                "caution" if report.level == "warning" else "")
        top = "\n".join(f"{feature}: {score:.2f}" for feature, score in report.per_feature[:10])
        self.leakage_label.setToolTip(
            f"Experiment identified from the features on held-out 5 s blocks: score {report.score:.2f} "
            f"(0 = chance, 1 = always right; {report.experiments} experiments)."
            + (f"\nMost identifying features alone:\n{top}" if top else ""))

    def _show_leakage_text(self, text: str, level: str = "") -> None:
        show_status(self.leakage_label, text, level)
        self.leakage_label.setToolTip("")
