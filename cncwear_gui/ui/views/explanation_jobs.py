"""The Explanations view's work, run in its TaskRunners (worker threads), never on the GUI thread.

``ServiceSlot`` builds the core ExplanationService for the current model and data on first use
in a worker (it holds the fitted explainers and the result cache) and hands the same one to every
later request; the view replaces the slot when the model or the data change.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ...data.dataset import Dataset
    from ...explain.service import ExplanationService, SampleRef
    from ...models.active import ActiveModel
    from ...monitoring.taught_lookup import TaughtExplanation
    from ...monitoring.teach_in import Limits
    from ...tasks import Task


class ServiceSlot:
    def __init__(self, model: ActiveModel, dataset: Dataset):
        self.model, self.dataset = model, dataset
        self._service: ExplanationService | None = None
        self._lock = threading.Lock()

    def get(self) -> ExplanationService:
        with self._lock:
            if self._service is None:
                from ...explain.service import ExplanationService

                self._service = ExplanationService(self.model, self.dataset)
            return self._service


@dataclass
class LocalOutcome:
    sample: SampleRef
    probability: float  # the model's P(worn) for the sample
    lime: object
    shap: object
    anchor: object
    summary: str


def explain_sample(slot: ServiceSlot, experiment: int, row: int, task: Task) -> LocalOutcome:
    """LIME, SHAP and the anchor for one sample, then the operator's sentence from them."""
    service = slot.get()
    sample = service.sample(experiment, row)
    task.progress(0.0, f"explaining {sample.label}")
    shap_result = service.explain("shap", experiment, row, task=task.child(0.0, 0.2, "SHAP: "))
    lime_result = service.explain("lime", experiment, row, task=task.child(0.2, 0.4, "LIME: "))
    anchor_result = service.explain("anchor", experiment, row, task=task.child(0.4, 1.0, "Anchor: "))
    return LocalOutcome(sample, float(shap_result.model_output), lime_result, shap_result, anchor_result,
                        service.summary(experiment, row))


def dependence(slot: ServiceSlot, feature: str, centred: bool, task: Task):
    return slot.get().explain("ice", feature=feature, centred=centred, task=task)


def surrogate(slot: ServiceSlot, depth: int, task: Task):
    return slot.get().explain("surrogate", depth=depth, task=task)


def shap_summary(slot: ServiceSlot, task: Task):
    return slot.get().explain("shap_global", task=task)


def taught_judgement(dataset: Dataset, experiment: int, row: int, store_url: str | None, limits: Limits,
                     task: Task) -> TaughtExplanation:
    """The taught monitor's judgement of the sample (no model needed): read from the store each
    time, so a teach-in since the last sample shows."""
    from ...explain.taught import taught_explanation

    task.progress(0.0, "the taught monitor")
    return taught_explanation(dataset, experiment, row, store_url, None, limits)


def export_report(slot: ServiceSlot, experiment: int, row: int, feature: str, depth: int, path: Path | None,
                  log_to_mlflow: bool, store_url: str | None, limits: Limits, task: Task) -> str:
    """Write the sample's report as HTML or PDF (by the file's suffix) and/or log it to MLflow."""
    from ...explain.report import build_report
    from ...explain.taught import taught_explanation

    taught = taught_explanation(slot.dataset, experiment, row, store_url, None, limits)
    report = build_report(slot.get(), experiment, row, feature=feature, depth=depth, task=task.child(0.0, 0.8),
                          taught=taught)
    task.check()
    done = []
    if path is not None:
        if path.suffix.lower() == ".pdf":
            from ..report_pdf import write_pdf

            write_pdf(report.html, path)
        else:
            report.write_html(path)
        done.append(f"report written to {path}")
    if log_to_mlflow:
        task.progress(0.85, "logging the report to MLflow")
        done.append(f"report logged to MLflow run {report.log_to_mlflow()}")
    return "; ".join(done)
