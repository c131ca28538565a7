"""The model registry: champion vs challenger on the gate's protocol, Promote (the gate runs in a
worker), and the MLflow UI for runs, metrics and registered models."""

from __future__ import annotations

from typing import Callable

from PySide6.QtCore import QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QGroupBox, QPushButton, QVBoxLayout, QWidget

from ...state import AppState
from ...widgets import text_label
from ...workers import TaskRunner
from ..training_jobs import GATE_METRIC, PromotionOutcome, RegistryStatus, promote_in_worker, registry_status, start_mlflow_ui


class RegistryPanel(QGroupBox):
    champion_promoted = Signal(str)  # the new champion's version

    def __init__(self, state: AppState, gate: Callable[[], tuple[str, float]], parent=None):
        """``gate`` gives the gate's protocol and margin (the search panel's choice)."""
        super().__init__("Champion vs challenger", parent)
        self.state = state
        self.gate = gate
        self.registry: RegistryStatus | None = None
        self.registry_runner = TaskRunner(self)

        self.champion_label = text_label("Champion: —")
        self.challenger_label = text_label("Challenger: —")
        self.verdict = text_label("The registry is read when this tab is first shown.")
        self.promote_button = QPushButton("Promote challenger")
        self.promote_button.setToolTip("Run the gate; the challenger becomes champion only when it is not worse.")
        self.promote_button.clicked.connect(self.promote)
        layout = QVBoxLayout(self)
        layout.addWidget(self.champion_label)
        layout.addWidget(self.challenger_label)
        layout.addWidget(self.promote_button)
        layout.addWidget(self.verdict)

        self.registry_runner.progress.connect(lambda _fraction, message: self.verdict.setText(message))
        self.registry_runner.succeeded.connect(self._on_registry_result)
        self.registry_runner.failed.connect(lambda message: self.verdict.setText(f"✖ {message}"))
        self.registry_runner.cancelled.connect(lambda: self.verdict.setText("Cancelled."))

    def read_once(self) -> None:
        """Read the registry in a worker unless it was read (or is being read) already."""
        if self.registry is None and not self.registry_runner.running:
            self.verdict.setText("Reading the registry …")
            self.registry_runner.start(registry_status)

    def update_buttons(self, ready: bool) -> None:
        self.promote_button.setEnabled(self.registry is not None and self.registry.challenger is not None and ready)

    def promote(self) -> None:
        if self.state.dataset is None or self.registry is None or self.registry.challenger is None:
            return
        self.verdict.setText("Running the gate …")
        protocol, margin = self.gate()
        self.registry_runner.start(promote_in_worker, self.state.dataset, protocol, margin)

    def show_gate(self, gate) -> None:
        """The gate's verdict at training time (a run registered as challenger)."""
        if gate is None:
            return
        advice = (f"Press Promote to make v{gate.challenger_version} the champion." if gate.promote
                  else "Promote would keep the champion.")
        self.verdict.setText(f"Gate at training time: {'would promote' if gate.promote else 'would keep the champion'} — "
                             f"{gate.reason}. {advice}")

    def _on_registry_result(self, result) -> None:
        if isinstance(result, PromotionOutcome):
            decision = result.decision
            if result.promoted:
                self.verdict.setText(f"✔ Promoted: v{decision.challenger_version} is the champion now — {decision.reason}.")
                self.champion_promoted.emit(decision.challenger_version)
            else:
                self.verdict.setText(f"✖ Not promoted: the champion stays — {decision.reason}.")
            self.show_status(result.registry)
        else:
            self.verdict.setText("")
            self.show_status(result)

    def show_status(self, status: RegistryStatus) -> None:
        self.registry = status
        self.show_registry()

    def show_registry(self) -> None:
        if self.registry is None:
            return
        protocol, _margin = self.gate()

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


class MlflowPanel(QWidget):
    """Open MLflow UI: the store's UI served on 127.0.0.1 (in a worker), opened in the browser."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.browser = TaskRunner(self)
        self.mlflow_button = QPushButton("Open MLflow UI")
        self.mlflow_button.setToolTip("Runs, metrics and registered models in the browser (served on 127.0.0.1 only).")
        self.mlflow_button.clicked.connect(self.open_mlflow_ui)
        self.mlflow_status = text_label("")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.mlflow_button)
        layout.addWidget(self.mlflow_status)
        self.browser.succeeded.connect(self._open_url)
        self.browser.failed.connect(lambda message: self.mlflow_status.setText(f"✖ {message}"))
        self.browser.running_changed.connect(lambda running: self.mlflow_button.setEnabled(not running))

    def open_mlflow_ui(self) -> None:
        self.mlflow_status.setText("Starting the MLflow UI …")
        self.browser.start(start_mlflow_ui)

    def _open_url(self, url: str) -> None:
        self.mlflow_status.setText(f"MLflow UI: {url}")
        QDesktopServices.openUrl(QUrl(url))
