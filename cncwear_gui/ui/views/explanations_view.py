"""Explanations view: why the model called the selected sample worn or not.

The sample comes from the Predictions view (a click on the curve) or is chosen here by
experiment and row. LIME, the SHAP waterfall and the anchor run in one task, the taught
monitor's judgement of the sample (taught_card.py, no model needed) in another; ICE/PDP, the
surrogate tree and the global SHAP summary run in their own, when their tab is shown. All run in
workers (explanation_jobs.py) with progress and Cancel in the status bar, and the core caches
each result per model version and sample.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from ..state import AppState
from ..theme import WORN_BACKGROUND
from ..widgets import fit_wrapped_height, scroll_area
from ..workers import TaskRunner
from ...explain.engine import DEFAULT_SURROGATE_DEPTH
from . import explanation_jobs as jobs
from .explanation_plots import AnchorCard, DependencePanel, LimePanel, ShapSummaryPanel, WaterfallPanel
from .surrogate_tree import SurrogateTreeView
from .taught_card import TaughtCard

if TYPE_CHECKING:
    from .explanation_jobs import LocalOutcome

SUMMARY_STYLE = "font-size: 14pt; padding: 6px;"
TAUGHT_BARS_MAX_HEIGHT = 190  # the taught strip's seven bars, ~24 px each
LOCAL_MIN_HEIGHT = 300  # LIME, SHAP and the anchor: their headers and the top conditions' labels apart (~14 px)
GLOBAL_MIN_HEIGHT = 300  # the global tabs: their controls and a plot, the global SHAP's 15 labels apart
WORN_STYLE = SUMMARY_STYLE + f"background: {WORN_BACKGROUND};"  # colour only beside the word WORN


class ExplanationsView(QWidget):
    def __init__(self, state: AppState, parent=None):
        super().__init__(parent)
        self.state = state
        self.slot: jobs.ServiceSlot | None = None
        self.outcome: LocalOutcome | None = None
        self.surrogate_result = None
        self.dependence_result = None
        self.summary_result = None
        self.taught_result = None  # the taught monitor's judgement of the sample (or the reason it failed)
        self.taught_runner = TaskRunner(self)
        self.local_runner = TaskRunner(self)
        self.dependence_runner = TaskRunner(self)
        self.surrogate_runner = TaskRunner(self)
        self.summary_runner = TaskRunner(self)
        self.export_runner = TaskRunner(self)
        self.runners = (self.local_runner, self.dependence_runner, self.surrogate_runner, self.summary_runner,
                        self.export_runner, self.taught_runner)

        self._build_header()
        self.lime = LimePanel()
        self.waterfall = WaterfallPanel()
        self.anchor = AnchorCard()
        self.anchor.setMinimumWidth(200)  # with its scroll bar, LIME and SHAP: the view within 1024 px
        fit_wrapped_height(self.anchor)  # the rule whole: a short splitter pane scrolls it instead of cutting it
        local = QSplitter(Qt.Horizontal)
        anchor_area = scroll_area(self.anchor)  # as wide as the card and its scroll bar: a splitter would give
        anchor_area.setMinimumWidth(  # a scroll area less, cutting the rule at the pane's edge (1024 × 768)
            self.anchor.minimumWidth() + anchor_area.verticalScrollBar().sizeHint().width())
        for panel in (self.lime, self.waterfall, anchor_area):
            local.addWidget(panel)
        local.setSizes([780, 520, 300])
        self.taught = TaughtCard()  # the taught monitor's sentence under the model's

        self.dependence = DependencePanel()
        self.tree = SurrogateTreeView()
        self.summary_panel = ShapSummaryPanel()
        self.global_tabs = QTabWidget()
        self.global_tabs.addTab(self.dependence, "ICE / PDP")
        self.global_tabs.addTab(self._build_tree_tab(), "Surrogate tree")
        self.global_tabs.addTab(self.summary_panel, "Global SHAP")
        self.global_tabs.currentChanged.connect(lambda _index: self._fill_global_tab())

        # The taught strip as tall as its wrapped texts need, above the splitter, not a pane of it: a
        # pane shorter than its content's minimum lets the content overlap the next pane. LIME, SHAP
        # and the anchor, and the global tabs, share the rest; a short screen scrolls the view.
        for panel in (self.lime, self.waterfall):
            fit_wrapped_height(panel)  # their wrapped headers whole at any width
        self.taught.bars.setMaximumHeight(TAUGHT_BARS_MAX_HEIGHT)  # its preferred height pushed LIME off a 768 px screen
        local.setMinimumHeight(LOCAL_MIN_HEIGHT)
        self.global_tabs.setMinimumHeight(GLOBAL_MIN_HEIGHT)
        split = QSplitter(Qt.Vertical)
        self.split = split
        split.setChildrenCollapsible(False)
        split.addWidget(local)
        split.addWidget(self.global_tabs)
        split.setSizes([400, 330])
        top = QWidget()  # the header and the model's sentence, as tall as their wrapped lines need
        top_layout = QVBoxLayout(top)
        top_layout.setContentsMargins(0, 0, 0, 0)
        top_layout.addLayout(self._header)
        top_layout.addWidget(self.summary)
        fit_wrapped_height(top)  # (else the view's layout gives them their height for the width, more than
        layout = QVBoxLayout(self)  # their minimum, and the splitter below less than its minimum)
        layout.addWidget(top)
        layout.addWidget(self.taught)
        layout.addWidget(split, 1)

        self.local_runner.succeeded.connect(self._on_local)
        self.local_runner.failed.connect(lambda message: self._set_status(f"✖ {message}"))
        self.taught_runner.succeeded.connect(self._on_taught)
        self.taught_runner.failed.connect(self._on_taught_failed)
        self.dependence_runner.succeeded.connect(self._on_dependence)
        self.surrogate_runner.succeeded.connect(self._on_surrogate)
        self.summary_runner.succeeded.connect(self._on_summary)
        self.export_runner.succeeded.connect(self._set_status)
        self.export_runner.failed.connect(lambda message: self._set_status(f"✖ {message}"))
        self.dependence.feature.currentTextChanged.connect(lambda _name: self._request_dependence())
        self.dependence.centred.toggled.connect(lambda _on: self._request_dependence())
        state.dataset_changed.connect(lambda _dataset: self._reset())
        state.model_changed.connect(lambda _model: self._reset())
        state.sample_selected.connect(self._on_selected)

    # -- layout -----------------------------------------------------------------------------------
    def _build_header(self) -> None:
        self.title = QLabel("Explanations — select a sample in the Predictions view, or choose one here")
        self.title.setObjectName("viewTitle")
        self.experiment = QComboBox()
        self.experiment.setMinimumWidth(130)
        self.experiment.currentIndexChanged.connect(lambda _index: self._update_row_range())
        self.row = QSpinBox()
        self.row.setMinimumWidth(90)
        self.explain_button = QPushButton("Explain")
        self.explain_button.clicked.connect(self.explain_chosen)
        self.export_html = QPushButton("Export HTML…")
        self.export_pdf = QPushButton("Export PDF…")
        self.log_button = QPushButton("Log to MLflow")
        self.export_html.clicked.connect(lambda: self._export(".html"))
        self.export_pdf.clicked.connect(lambda: self._export(".pdf"))
        self.log_button.clicked.connect(lambda: self._export(None))
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.status.setMinimumWidth(160)  # it wraps: the header row fits 1024 px
        self.summary = QLabel("No sample explained yet.")
        self.summary.setTextFormat(Qt.PlainText)  # the rule's "<=" must not be read as markup
        self.summary.setWordWrap(True)
        self.summary.setStyleSheet(SUMMARY_STYLE)
        self.summary.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self._header = QVBoxLayout()
        self._header.addWidget(self.title)
        controls = QHBoxLayout()
        for widget in (QLabel("Experiment:"), self.experiment, QLabel("Row:"), self.row, self.explain_button):
            controls.addWidget(widget)
        controls.addWidget(self.status, 1)
        for widget in (self.export_html, self.export_pdf, self.log_button):
            controls.addWidget(widget)
        self._header.addLayout(controls)
        self._set_exports_enabled(False)

    def _build_tree_tab(self) -> QWidget:
        self.depth = QSpinBox()
        self.depth.setRange(1, 6)
        self.depth.setValue(DEFAULT_SURROGATE_DEPTH)
        self.depth.valueChanged.connect(lambda _depth: self._request_surrogate())
        self.fidelity = QLabel("")
        self.fidelity.setWordWrap(True)
        fit = QPushButton("Fit to view")
        fit.clicked.connect(self.tree.fit)
        save_text = QPushButton("Save as text…")
        save_text.clicked.connect(self._save_tree_text)
        controls = QHBoxLayout()
        for widget in (QLabel("Depth:"), self.depth, self.fidelity):
            controls.addWidget(widget)
        controls.setStretch(2, 1)
        controls.addWidget(fit)
        controls.addWidget(save_text)
        tab = QWidget()
        layout = QVBoxLayout(tab)
        layout.addLayout(controls)
        layout.addWidget(self.tree, 1)
        return tab

    @property
    def loaded(self) -> bool:
        """The sample is explained and the visible global tab has its result (screenshot mode waits)."""
        current = self.global_tabs.currentWidget()
        shown = {self.dependence: self.dependence_result, self.summary_panel: self.summary_result}.get(
            current, self.surrogate_result)
        return self.outcome is not None and shown is not None and self.taught_result is not None

    # -- the sample -----------------------------------------------------------------------------
    def _reset(self) -> None:
        for runner in self.runners:
            runner.cancel()
        dataset, model = self.state.dataset, self.state.model
        self.slot = jobs.ServiceSlot(model, dataset) if dataset is not None and model is not None else None
        self.outcome = self.surrogate_result = self.dependence_result = self.summary_result = None
        self.taught_result = None
        self._set_exports_enabled(False)
        self.summary.setText("No sample explained yet.")
        self.anchor.show_message("waiting for a sample")
        self.taught.show_message("waiting for a sample")
        self.tree.clear_tree("The surrogate tree is fitted when this tab is shown.")
        if dataset is not None:
            self.experiment.blockSignals(True)
            self.experiment.clear()
            for number in sorted(dataset.experiments):
                self.experiment.addItem(f"experiment {number}", number)
            self.experiment.blockSignals(False)
            self._update_row_range()
        if model is not None:
            names = list(model.feature_set.columns)
            self.dependence.set_features(names, preferred="X1_OutputCurrent")
            self.title.setText(f"Explanations — {model.label} ({model.engine})")

    def _update_row_range(self) -> None:
        number = self.experiment.currentData()
        if number is not None and self.state.dataset is not None:
            self.row.setRange(0, self.state.dataset.experiments[number].rows - 1)

    def _on_selected(self, experiment: int, row: int) -> None:
        index = self.experiment.findData(experiment)
        if index >= 0:
            self.experiment.setCurrentIndex(index)
            self.row.setValue(row)
        if self.isVisible():
            self.explain_chosen()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        chosen = (self.experiment.currentData(), self.row.value())
        if self.slot is not None and (self.outcome is None or (self.outcome.sample.experiment, self.outcome.sample.row) != chosen):
            self.explain_chosen()
        self._fill_global_tab()

    def explain_chosen(self) -> None:
        if self.state.dataset is not None and self.experiment.currentData() is not None:
            self._request_taught(self.experiment.currentData(), self.row.value())
        if self.slot is None or self.experiment.currentData() is None:
            self._set_status("Waiting for the data and the model …")
            return
        experiment, row = self.experiment.currentData(), self.row.value()
        self._set_status(f"Explaining experiment {experiment}, sample {row} …")
        self.local_runner.start(jobs.explain_sample, self.slot, experiment, row)

    def _on_local(self, outcome: LocalOutcome) -> None:
        self.outcome = outcome
        self.lime.show_result(outcome.lime)
        self.waterfall.show_result(outcome.shap)
        self.anchor.show_result(outcome.anchor)
        worn = outcome.probability >= self.state.settings.worn_threshold
        self.summary.setText(outcome.summary)
        self.summary.setStyleSheet(WORN_STYLE if worn else SUMMARY_STYLE)
        known = {1: "known label: WORN", 0: "known label: UNWORN"}.get(outcome.sample.worn, "label unknown")
        self._set_status(f"{outcome.sample.label} · P(worn) = {outcome.probability:.2f} · {known}")
        self._set_exports_enabled(True)

    # -- the taught monitor ---------------------------------------------------------------------
    def _taught_store(self) -> tuple[str | None, object]:
        """The taught references' database (the settings' store, as the live engine opens it) and
        the default limits."""
        from ...live.teach_state import taught_limits  # the store's modules stay off the start-up path

        settings = self.state.settings
        return settings.feature_store_url or None, taught_limits(settings)

    def _request_taught(self, experiment: int, row: int) -> None:
        self.taught_result = None
        self.taught.show_message("judging against the taught reference …")
        url, limits = self._taught_store()
        self.taught_runner.start(jobs.taught_judgement, self.state.dataset, experiment, row, url, limits)

    def _on_taught(self, result) -> None:
        self.taught_result = result
        self.taught.show_result(result)

    def _on_taught_failed(self, message: str) -> None:
        self.taught_result = message
        self.taught.show_message(f"✖ the taught monitor could not judge the sample: {message}")

    # -- the global tabs ------------------------------------------------------------------------
    def _fill_global_tab(self) -> None:
        if self.slot is None or not self.isVisible():
            return
        current = self.global_tabs.currentWidget()
        if current is self.dependence and self.dependence_result is None:
            self._request_dependence()
        elif current is self.summary_panel and self.summary_result is None:
            self.summary_runner.start(jobs.shap_summary, self.slot)
        elif current is not self.dependence and current is not self.summary_panel and self.surrogate_result is None:
            self._request_surrogate()

    def _request_dependence(self) -> None:
        feature = self.dependence.feature.currentText()
        if self.slot is not None and feature:
            self.dependence_runner.start(jobs.dependence, self.slot, feature, self.dependence.centred.isChecked())

    def _request_surrogate(self) -> None:
        if self.slot is not None:
            self.fidelity.setText(f"fitting a depth-{self.depth.value()} tree to the model's predictions …")
            self.surrogate_runner.start(jobs.surrogate, self.slot, self.depth.value())

    def _on_dependence(self, result) -> None:
        self.dependence_result = result
        self.dependence.show_result(result)

    def _on_surrogate(self, result) -> None:
        self.surrogate_result = result
        self.tree.set_tree(result.nodes)  # it opens fitted, or at a readable zoom for deep trees
        verdict = "faithful" if result.fidelity >= 0.95 else "NOT faithful enough to stand in for the model"
        self.fidelity.setText(
            f"Depth {result.max_depth} ({result.n_leaves} leaves): agrees with the model on {result.fidelity:.2%} of held-out samples "
            f"({result.train_fidelity:.2%} on the rows it was fitted to) — {verdict}.")

    def _on_summary(self, result) -> None:
        self.summary_result = result
        self.summary_panel.show_result(result)

    # -- export -----------------------------------------------------------------------------------
    def _set_exports_enabled(self, enabled: bool) -> None:
        for button in (self.export_html, self.export_pdf, self.log_button):
            button.setEnabled(enabled)

    def _export(self, suffix: str | None) -> None:
        if self.outcome is None:
            return
        sample = self.outcome.sample
        path = None
        if suffix is not None:
            default = f"explanation-exp{sample.experiment:02d}-row{sample.row}{suffix}"
            name, _ = QFileDialog.getSaveFileName(self, "Export the explanation report", default,
                                                  "PDF (*.pdf)" if suffix == ".pdf" else "HTML (*.html)")
            if not name:
                return
            path = Path(name) if Path(name).suffix else Path(name + suffix)
        self.export_report(path, log_to_mlflow=suffix is None)

    def export_report(self, path: Path | None, log_to_mlflow: bool = False) -> None:
        sample = self.outcome.sample
        self._set_status("Writing the report …")
        url, limits = self._taught_store()
        self.export_runner.start(jobs.export_report, self.slot, sample.experiment, sample.row,
                                 self.dependence.feature.currentText(), self.depth.value(), path, log_to_mlflow,
                                 url, limits)

    def _save_tree_text(self) -> None:
        if self.surrogate_result is None:
            return
        name, _ = QFileDialog.getSaveFileName(self, "Save the surrogate tree as text", "surrogate-tree.txt", "Text (*.txt)")
        if name:
            Path(name).write_text(self.surrogate_result.text, encoding="utf-8")  # a few kB: instant

    def _set_status(self, text: str) -> None:
        self.status.setText(text)
