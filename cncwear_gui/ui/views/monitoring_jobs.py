"""The Monitoring view's work, run in its TaskRunners (worker threads), never on the GUI thread.

* The snapshot (champion, model statistics, training reference, triggers, pipeline history)
  comes from a ``cncwear monitor --progress-json`` child: it reads MLflow, and importing mlflow
  would stall the GUI process.
* **Retrain now** is a ``cncwear pipeline run --trigger manual --progress-json`` child. The view's
  Cancel stops it (SIGTERM, then a kill after ``CANCEL_GRACE_S``) and the worker returns a
  "cancelled" outcome once the child is gone; a firing the stopped child left "running" in the
  history is then recorded as failed ("cancelled") by a short helper child.
* Drift is checked by the live engine (``live.machine_monitor``), not here: the view shows its checks.

Everything here is Qt-free; results are plain dataclasses the view only reads.
"""

from __future__ import annotations

import math
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from ...tasks import Cancelled, Task
from .training_jobs import CANCEL_GRACE_S, dataset_files

if TYPE_CHECKING:
    from ...monitoring.drift import ReferenceProfile
    from ...monitoring.model_stats import ModelStatistics
    from ...monitoring.setup_drift import SetupDriftReference

HISTORY_LIMIT = 50  # pipeline firings shown
CLEANUP_TIMEOUT_S = 60.0


# -- the snapshot ---------------------------------------------------------------------------------
def loaded_files(dataset) -> list[str] | None:
    """The loaded dataset's files for a child process; None (its default data) when nothing is loaded."""
    return dataset_files(dataset) if dataset is not None else None


@dataclass
class MonitoringSnapshot:
    """``cncwear monitor``'s snapshot, with the statistics and the references parsed: the pooled
    training profile (its P(worn) distribution and size, shown) and the per-setup reference the
    live engine checks drift against (``setup_reference``)."""

    model: dict
    statistics: ModelStatistics | None
    statistics_source: str
    reference: ReferenceProfile
    setup_reference: SetupDriftReference
    triggers: list[dict]
    history: list[dict]
    pipeline: dict
    loaded_at: datetime = field(default_factory=lambda: datetime.now(timezone.utc))

    @classmethod
    def from_json(cls, data: dict) -> MonitoringSnapshot:
        from ...monitoring.drift import ReferenceProfile
        from ...monitoring.model_stats import ModelStatistics
        from ...monitoring.setup_drift import SetupDriftReference

        statistics = data.get("statistics")
        return cls(
            model=dict(data["model"]),
            statistics=None if statistics is None else ModelStatistics.from_json(statistics),
            statistics_source=str(data.get("statistics_source") or ""),
            reference=ReferenceProfile.from_json(data["reference"]),
            setup_reference=SetupDriftReference.from_json(data["setup_reference"]),
            triggers=list(data.get("triggers") or []),
            history=list(data.get("history") or []),
            pipeline=dict(data.get("pipeline") or {}),
        )

    @property
    def version(self) -> str:
        return str(self.model.get("version", ""))

    def figure(self, protocol: str, metric: str = "accuracy") -> float | None:
        value = (self.model.get("evaluation") or {}).get(protocol, {}).get(metric)
        return None if value is None else float(value)


def load_snapshot(files: list[str] | None, task: Task) -> MonitoringSnapshot:
    """The snapshot from a ``cncwear monitor`` child (``files``: the data for a first-start champion)."""
    from ...child_process import CliProcessError, run_cli_process

    found: list[dict] = []
    arguments = ["monitor", "--progress-json"] + (["--data", *files] if files else [])
    run_cli_process(arguments, lambda message: "snapshot" in message and found.append(message["snapshot"]), task)
    if not found:
        raise CliProcessError("cncwear monitor exited without a snapshot")
    return MonitoringSnapshot.from_json(found[-1])


# -- the pipeline ---------------------------------------------------------------------------------
@dataclass
class RetrainOutcome:
    status: str  # promoted, kept, failed, skipped, cancelled
    text: str  # one line for the view: "promoted v5", "kept v4: …", "failed at step train: …"
    firing_id: int | None = None
    result: dict | None = None  # the pipeline's result JSON (None when cancelled)


def describe_pipeline_result(result: dict) -> str:
    """The outcome in one line: promoted v5 / kept v4: <gate reason> / failed at step train: <error>."""
    status = result.get("status", "")
    gate = result.get("gate") or {}
    if status == "promoted":
        version = result.get("model_version") or gate.get("challenger_version") or "?"
        reason = gate.get("reason")
        return f"promoted v{version}" + (f": {reason}" if reason else "")
    if status == "kept":
        version = gate.get("champion_version") or "?"
        return f"kept v{version}: {gate.get('reason') or 'the gate kept the champion'}"
    if status == "failed":
        step = next((s for s in result.get("steps", []) if s.get("status") == "failed"), None)
        error = (step or {}).get("detail", {}).get("error") or result.get("error") or "unknown error"
        return f"failed at step {step['name']}: {error}" if step else f"failed: {error}"
    if status == "skipped":
        return f"skipped: {result.get('error') or result.get('reason') or 'the trigger did not fire'}"
    return status or "no result"


def describe_firing(firing: dict) -> str:
    """A recorded firing's outcome in one line (its detail holds the pipeline's result once it ended)."""
    detail = dict(firing.get("detail") or {})
    status = firing.get("status", "")
    if status == "running":
        return "running"
    if status == "skipped":
        return f"skipped: {detail.get('skipped_because') or detail.get('error') or 'the trigger did not fire'}"
    return describe_pipeline_result({**detail, "status": status})


class _StoppableTask(Task):
    """The child's task: cancelled by the view's Cancel (``stop``) or by the runner's own cancel;
    progress goes to the runner's task, which never raises here (the child is stopped cleanly)."""

    def __init__(self, outer: Task, stop: threading.Event | None):
        super().__init__(on_progress=self._forward)
        self._outer = outer
        self._stop = stop

    @property
    def cancelled(self) -> bool:
        return self._outer.cancelled or (self._stop is not None and self._stop.is_set())

    def check(self) -> None:
        if self.cancelled:
            raise Cancelled()

    def _forward(self, fraction: float, message: str) -> None:
        try:
            self._outer.progress(fraction, message)
        except Cancelled:
            pass  # the loop in run_cli_process sees `cancelled` next and stops the child


def run_pipeline_in_worker(files: list[str] | None, budget_s: int | None, store_url: str, task: Task,
                           stop: threading.Event | None = None) -> RetrainOutcome:
    """One manual pipeline firing in a ``cncwear pipeline run`` child; ``stop`` cancels it.

    A failing pipeline (exit 1 with its result printed) is an outcome, not an error. Cancel stops
    the child; the firing it leaves is recorded as failed ("cancelled") and the outcome says so.
    """
    from ...child_process import CliProcessError, run_cli_process

    arguments = ["pipeline", "run", "--trigger", "manual", "--progress-json"]
    if files:
        arguments += ["--data", *files]
    if budget_s:
        arguments += ["--budget", str(int(budget_s))]
    from ...events import firing_of

    found: list[dict] = []
    firings: list[dict] = []  # {"id", "trigger", "status"}: the firing the child recorded, its first line

    def on_message(message: dict) -> None:
        if "fired" in message:
            found.append(message)
        elif firing_of(message) is not None:
            firings.append(firing_of(message))

    child_task = _StoppableTask(task, stop)
    try:
        run_cli_process(arguments, on_message, child_task, grace_s=CANCEL_GRACE_S)
    except Cancelled:
        firing = close_cancelled_firing(firings[-1]["id"], store_url) if firings else None
        if task.cancelled:
            raise  # the runner itself was cancelled (window Cancel or close): nobody reads an outcome
        if firing is None:
            return RetrainOutcome("cancelled", "cancelled before the pipeline recorded a firing")
        return RetrainOutcome("cancelled", f"cancelled: firing #{firing['id']} recorded as {firing['status']}"
                              + (f" ({firing['error']})" if firing.get("error") else ""), firing["id"])
    except CliProcessError:
        if not found:
            raise
    result = found[-1]
    if not result.get("fired", True):
        return RetrainOutcome("skipped", f"not fired: {result.get('reason', '')}", None, result)
    return RetrainOutcome(result.get("status", "failed"), describe_pipeline_result(result), result.get("firing_id"), result)


def count_retrain(metrics, outcome: RetrainOutcome, engine: str) -> None:
    """A retrain from the GUI in this process's metrics (its child's own registry dies with it):
    the pipeline firing by outcome (a cancel counts as failed) and its training step's outcome."""
    import time

    from ...monitoring.metrics import PIPELINE_OUTCOMES

    if metrics is None:
        return
    status = "failed" if outcome.status == "cancelled" else outcome.status
    if status in PIPELINE_OUTCOMES:
        metrics.pipeline_runs.labels("manual", status).inc()
    if status in ("promoted", "kept"):
        metrics.pipeline_last_success.set(time.time())
    steps = (outcome.result or {}).get("steps", [])
    train = next((step for step in steps if step.get("name") == "train"), None)
    if train is not None:
        training = "succeeded" if train.get("status") == "ok" else (
            "cancelled" if (train.get("detail") or {}).get("error") == "cancelled" else "failed")
        metrics.training_runs.labels(engine, training).inc()


def close_cancelled_firings(firing_id: int, store_url: str = "") -> dict | None:
    """Record the firing a stopped pipeline process left "running" as failed ("cancelled"); return
    it (id, status, error), or None when the history has no such firing.

    Runs in a helper child (see :func:`close_cancelled_firing`); it imports SQLAlchemy only.
    """
    from ...store.pipeline_history import PipelineHistory

    history = PipelineHistory(store_url or None)
    try:
        firing = history.get(int(firing_id))
        if firing is not None and firing.status == "running":
            history.finish(firing.id, "failed", {**firing.detail, "error": "cancelled",
                                                 "cancelled_by": "the Monitoring view (the pipeline process was stopped)"})
        latest = None if firing is None else history.get(firing.id)
    finally:
        history.close()
    if latest is None:
        return None
    return {"id": latest.id, "status": latest.status, "error": (latest.detail or {}).get("error")}


_CLOSE_CODE = ("import json, sys; from cncwear_gui.ui.views.monitoring_jobs import close_cancelled_firings; "
               "print(json.dumps(close_cancelled_firings(sys.argv[1], sys.argv[2])))")


def close_cancelled_firing(firing_id: int, store_url: str) -> dict | None:
    """:func:`close_cancelled_firings` in a short child process (the history database is the
    pipeline's; a failure here is logged, never raised: the cancel itself succeeded)."""
    import logging

    from ...events import parse_last

    try:
        done = subprocess.run([sys.executable, "-c", _CLOSE_CODE, str(firing_id), store_url or ""],
                              capture_output=True, text=True, timeout=CLEANUP_TIMEOUT_S)
        if done.returncode == 0:
            return parse_last(done.stdout)
        logging.getLogger(__name__).warning("closing the cancelled firing failed: %s", done.stderr[-500:])
    except (OSError, subprocess.SubprocessError):
        logging.getLogger(__name__).warning("closing the cancelled firing failed", exc_info=True)
    return None


# -- application metrics (read on the GUI thread: a registry walk, a few milliseconds) --------------
def histogram_quantile(q: float, buckets: list[tuple[float, float]]) -> float | None:
    """The q-quantile estimated from cumulative histogram buckets [(upper bound, count)], as
    Prometheus' histogram_quantile does: linear within the bucket; in the +Inf bucket, the largest
    finite bound. None without observations."""
    buckets = sorted(buckets)
    if not buckets or buckets[-1][1] <= 0:
        return None
    rank = q * buckets[-1][1]
    lower, below = 0.0, 0.0
    for upper, count in buckets:
        if count >= rank:
            if math.isinf(upper):
                return lower
            if count == below:
                return upper
            return lower + (upper - lower) * (rank - below) / (count - below)
        lower, below = upper, count
    return lower


def _families(registry) -> dict:
    return {family.name: family for family in registry.collect()}


def _counter_totals(family, label: str) -> dict[str, float]:
    totals: dict[str, float] = {}
    if family is not None:
        for sample in family.samples:
            if sample.name.endswith("_total"):
                key = sample.labels.get(label, "")
                totals[key] = totals.get(key, 0.0) + sample.value
    return totals


def _histogram(family, by: str | None = None) -> dict[str, list[tuple[float, float]]]:
    """Cumulative buckets summed over all label values except ``by`` (which keys the result)."""
    merged: dict[str, dict[float, float]] = {}
    if family is not None:
        for sample in family.samples:
            if sample.name.endswith("_bucket"):
                key = sample.labels.get(by, "") if by else ""
                upper = float(sample.labels["le"])
                merged.setdefault(key, {})
                merged[key][upper] = merged[key].get(upper, 0.0) + sample.value
    return {key: sorted(values.items()) for key, values in merged.items()}


def format_seconds(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value * 1000:.1f} ms" if value < 1 else f"{value:.2f} s"


def _counts(totals: dict[str, float], order: tuple[str, ...], names: dict[str, str] | None = None) -> str:
    keys = list(order) + sorted(k for k in totals if k not in order)
    return " · ".join(f"{(names or {}).get(key, key)} {int(totals.get(key, 0)):,}" for key in keys)


def metric_rows(metrics) -> list[tuple[str, str]]:
    """The Monitoring view's compact table: (what, value) pairs from an AppMetrics registry."""
    from ...monitoring.metrics import EXPLANATION_METHODS, PIPELINE_OUTCOMES, PREDICTED_CLASSES, TRAINING_OUTCOMES

    families = _families(metrics.registry)
    rows = []
    predictions = _counter_totals(families.get("cncwear_predictions"), "predicted_class")
    rows.append(("Predictions (samples)", _counts(predictions, PREDICTED_CLASSES, {"ok": "OK", "worn": "WORN"})))
    errors = _counter_totals(families.get("cncwear_scoring_errors"), "machine")
    rows.append(("Scoring errors (batches)", f"{int(sum(errors.values())):,}"))
    latency = _histogram(families.get("cncwear_prediction_latency_seconds")).get("", [])
    batches = latency[-1][1] if latency else 0
    rows.append(("Prediction latency", "no batch scored yet" if not batches else
                 f"p50 {format_seconds(histogram_quantile(0.5, latency))} · "
                 f"p95 {format_seconds(histogram_quantile(0.95, latency))} ({int(batches):,} batches)"))
    explained = _histogram(families.get("cncwear_explanation_latency_seconds"), by="method")
    methods = [m for m in list(EXPLANATION_METHODS) + sorted(set(explained) - set(EXPLANATION_METHODS))
               if explained.get(m) and explained[m][-1][1] > 0]
    for method in methods:
        buckets = explained[method]
        rows.append((f"Explanation latency: {method}",
                     f"p95 {format_seconds(histogram_quantile(0.95, buckets))} ({int(buckets[-1][1]):,} explanations)"))
    if not methods:
        rows.append(("Explanation latency", "no explanation computed yet"))
    rows.append(("Training runs", _counts(_counter_totals(families.get("cncwear_training_runs"), "outcome"), TRAINING_OUTCOMES)))
    rows.append(("Pipeline runs", _counts(_counter_totals(families.get("cncwear_pipeline_runs"), "outcome"), PIPELINE_OUTCOMES)))
    rows.append(("Store and disk", storage_text(families)))
    return rows


def _gauge(families, name: str) -> float:
    family = families.get(name)
    return family.samples[0].value if family is not None and family.samples else math.nan


def _size(value: float) -> str:
    return f"{value / 2**30:.1f} GB" if value >= 2**30 else f"{value / 2**20:.1f} MB"


def storage_text(families) -> str:
    """The prediction log's store size, the free disk and its floor (``AppMetrics.set_storage``)."""
    size, free = _gauge(families, "cncwear_store_size_bytes"), _gauge(families, "cncwear_disk_free_bytes")
    floor = _gauge(families, "cncwear_disk_free_floor_bytes")
    if math.isnan(size) and math.isnan(free):
        return "not measured (no prediction log in this window yet)"
    floor_text = f"floor {_size(floor)}" if floor > 0 else "no floor"
    free_text = "free disk unknown (database server)" if math.isnan(free) else f"{_size(free)} free"
    if _gauge(families, "cncwear_prediction_log_raw_paused") == 1:
        return f"RAW PREDICTION ROWS NOT WRITTEN: only {_size(free)} free, under the {floor_text}; roll-ups, alarms and the audit trail go on"
    size_text = "size unknown" if math.isnan(size) else _size(size)
    return f"store {size_text} · {free_text} ({floor_text})"

