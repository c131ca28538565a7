"""The app's Prometheus metrics, in one registry of their own.

Naming follows Prometheus practice: one prefix (``cncwear_``), base units (seconds, ratios),
``_total`` counters, ``_info`` metrics for descriptive labels, histograms for latencies. Labels
are bounded: a machine id and small fixed sets (class, state, feature group, flag, protocol,
method). Sample, experiment and tool-serial ids are never labels.

Every label combination a dashboard or alert rule reads is created at zero up front, so a query
returns 0 rather than nothing before the first event.
"""

from __future__ import annotations

import platform
from collections.abc import Iterable, Mapping

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, Info, disable_created_metrics
from prometheus_client import GCCollector, PlatformCollector, ProcessCollector

from .. import __version__
from ..data.schema import QUALITY_FLAGS
from .teach_in import TAUGHT_STATES

PREFIX = "cncwear"
PREDICTED_CLASSES = ("ok", "worn")
WEAR_STATES = ("unknown", "ok", "worn")
FEATURE_GROUPS = ("X1", "Y1", "Z1", "S1", "M1", "process")
EVALUATION_PROTOCOLS = ("seed", "loeo")
EVALUATION_METRICS = ("accuracy", "f1", "mcc")
TRAINING_OUTCOMES = ("succeeded", "failed", "cancelled")
PIPELINE_TRIGGERS = ("manual", "schedule", "new-data", "degradation", "drift")
PIPELINE_OUTCOMES = ("promoted", "kept", "failed", "skipped")
EXPLANATION_METHODS = ("lime", "shap", "anchor", "dependence", "surrogate", "shap_global")
_EXPLANATION_LABEL = {"ice": "dependence", "pdp": "dependence"}
TOOL_CHANGE_REASONS = ("worn", "broken", "scheduled", "precaution")
ALARM_STATES = ("normal", "unacknowledged", "acknowledged", "rtn_unacknowledged", "shelved")
REJECT_REASONS = ("missing", "not_a_number", "non_finite")  # live.samples.REJECT_REASONS
FLAG_NAMES = tuple(name for _, name, _ in QUALITY_FLAGS)

# Scoring one 100 ms batch in-process takes milliseconds; through the AutoML sidecar, tens.
PREDICTION_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
# Explanations range from a 20 ms TreeSHAP to several seconds of Anchor search.
EXPLANATION_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)


class AppMetrics:
    """Every metric the app exposes. One instance per process; pass it to whatever records."""

    def __init__(self, engines: Iterable[str] = ("flaml", "auto-sklearn"), process_metrics: bool = True):
        disable_created_metrics()  # no *_created series: they double the series count for nothing here
        self.registry = registry = CollectorRegistry(auto_describe=True)
        self._setups: dict[str, str] = {}  # machine → the setup label set now
        if process_metrics:
            ProcessCollector(registry=registry)
            PlatformCollector(registry=registry)
            GCCollector(registry=registry)

        def name(rest: str) -> str:
            return f"{PREFIX}_{rest}"

        self.app_info = Info(name("app"), "The cncwear application serving these metrics.", registry=registry)
        self.app_info.info({"version": __version__, "python": platform.python_version()})

        # Scoring.
        self.prediction_latency = Histogram(
            name("prediction_latency_seconds"), "Time to score one batch of samples of a machine.",
            ["machine"], buckets=PREDICTION_BUCKETS, registry=registry)
        self.predictions = Counter(
            name("predictions"), "Samples scored, by the class the model predicted.",
            ["machine", "predicted_class"], registry=registry)
        self.scoring_errors = Counter(
            name("scoring_errors"), "Batches that could not be scored (model or data errors).",
            ["machine"], registry=registry)
        self.worn_probability = Gauge(
            name("worn_probability"), "Smoothed probability that the machine's tool is worn (0-1).",
            ["machine"], registry=registry)
        self.wear_state = Gauge(
            name("wear_state"), "1 for the machine's current smoothed wear state, 0 for the others.",
            ["machine", "state"], registry=registry)
        self.alarms_active = Gauge(
            name("alarms_active"), "Wear alarms raised and not yet returned to normal.",
            ["machine"], registry=registry)

        # The taught monitor (teach-in per machine and setup).
        self.taught_state = Gauge(
            name("taught_state"), "1 for the taught monitor's state of the machine (not_taught, teaching, ok, "
            "warning, alarm), 0 for the others.", ["machine", "state"], registry=registry)
        self.taught_load = Gauge(
            name("taught_load_percent"), "The last cutting window's load as a percentage of the taught value "
            "(NaN while not taught).", ["machine"], registry=registry)
        self.setup_info = Gauge(
            name("setup"), "1 for the setup (feed rate, clamp pressure, program) the machine runs now.",
            ["machine", "setup"], registry=registry)
        self.tool_changes = Counter(
            name("tool_changes"), "Tool changes recorded, by reason.", ["machine", "reason"], registry=registry)

        # Live sources.
        self.source_up = Gauge(
            name("source_up"), "1 when the machine's data source is connected and delivering.",
            ["machine", "kind"], registry=registry)
        self.source_lag = Gauge(
            name("source_lag_seconds"), "How far scoring is behind the newest sample of the source.",
            ["machine"], registry=registry)
        self.source_reconnects = Counter(
            name("source_reconnects"), "Times the machine's source was connected again after losing it.",
            ["machine"], registry=registry)
        self.samples_rejected = Counter(
            name("samples_rejected"), "Live samples skipped as malformed (a missing, non-numeric or non-finite signal).",
            ["machine", "reason"], registry=registry)
        self.alarm_state = Gauge(
            name("alarm_state"), "1 for the machine's current ISA-18.2 wear-alarm state, 0 for the others.",
            ["machine", "state"], registry=registry)

        # The active model.
        self.model_info = Info(
            name("model"), "The model the app predicts with.", registry=registry)
        self.model_trained = Gauge(
            name("model_trained_timestamp_seconds"), "When the active model was trained (Unix time).",
            registry=registry)
        self.model_evaluation = Gauge(
            name("model_evaluation_ratio"), "The active model's recorded evaluation figure (0-1).",
            ["protocol", "metric"], registry=registry)

        # Training and the automated pipeline.
        self.training_runs = Counter(
            name("training_runs"), "Training runs finished, by engine and outcome.",
            ["engine", "outcome"], registry=registry)
        self.pipeline_runs = Counter(
            name("pipeline_runs"), "Pipeline firings, by trigger and outcome.",
            ["trigger", "outcome"], registry=registry)
        self.pipeline_last_success = Gauge(
            name("pipeline_last_success_timestamp_seconds"), "When a pipeline run last finished without error.",
            registry=registry)

        # Drift and data quality.
        self.drift_psi = Gauge(
            name("drift_psi"), "Largest population stability index in the feature group, last window vs the "
            "training runs of its setup (NaN: not judged, e.g. an unfamiliar setup).",
            ["machine", "group"], registry=registry)
        self.drift_features = Gauge(
            name("drift_features_drifted"), "Features at alarm-level drift in the last window.",
            ["machine"], registry=registry)
        self.prediction_drift_psi = Gauge(
            name("prediction_drift_psi"), "PSI of the predicted P(worn) distribution, last window vs training data "
            "(NaN: not judged; the per-setup check has no P(worn) reference).",
            ["machine"], registry=registry)
        self.drift_unfamiliar_setup = Gauge(
            name("drift_unfamiliar_setup"), "1 when the machine's setup has no training run in the model's "
            "reference: its window is not judged for drift.", ["machine"], registry=registry)
        self.drift_checks = Counter(
            name("drift_checks"), "Drift evaluations of a live window.", ["machine"], registry=registry)
        self.data_quality_flags = Counter(
            name("data_quality_flags"), "Scored samples carrying a data-quality flag.",
            ["machine", "flag"], registry=registry)

        # The store (the prediction log's database) and its disk.
        self.store_size = Gauge(
            name("store_size_bytes"), "Size of the database the prediction log writes to (SQLite: file and WAL; "
            "NaN: not measured).", registry=registry)
        self.disk_free = Gauge(
            name("disk_free_bytes"), "Free space on the disk of the SQLite store (NaN: not known, e.g. a "
            "database server).", registry=registry)
        self.disk_floor = Gauge(
            name("disk_free_floor_bytes"), "The free-disk floor under which raw prediction rows are not written "
            "(0: no floor).", registry=registry)
        self.raw_log_paused = Gauge(
            name("prediction_log_raw_paused"), "1 while the disk is under its floor: raw prediction rows are not "
            "written, only their roll-ups (alarms and the audit trail are).", registry=registry)
        self.store_up = Gauge(
            name("store_up"), "1 while the prediction log's last write to its database succeeded, 0 while "
            "writing fails (server down or restarting: the rows wait in memory and are written when it is back); "
            "NaN: no prediction log.", registry=registry)
        self.store_up.set(float("nan"))
        self.log_pending = Gauge(
            name("prediction_log_pending_rows"), "Prediction rows queued and not yet committed to the store.",
            registry=registry)

        # Explanations.
        self.explanation_latency = Histogram(
            name("explanation_latency_seconds"), "Time to compute one explanation.",
            ["method"], buckets=EXPLANATION_BUCKETS, registry=registry)

        self.model_trained.set(0)
        self.pipeline_last_success.set(0)
        self.store_size.set(float("nan"))
        self.disk_free.set(float("nan"))
        for engine in engines:
            for outcome in TRAINING_OUTCOMES:
                self.training_runs.labels(engine, outcome)
        for trigger in PIPELINE_TRIGGERS:
            for outcome in PIPELINE_OUTCOMES:
                self.pipeline_runs.labels(trigger, outcome)
        for method in EXPLANATION_METHODS:
            self.explanation_latency.labels(method)

    def add_machine(self, machine: str, kind: str) -> None:
        """Create the machine's series at zero, so dashboards show it before its first sample."""
        self.prediction_latency.labels(machine)
        self.scoring_errors.labels(machine)
        for predicted in PREDICTED_CLASSES:
            self.predictions.labels(machine, predicted)
        for state in WEAR_STATES:
            self.wear_state.labels(machine, state).set(1 if state == "unknown" else 0)
        self.worn_probability.labels(machine).set(0)
        self.alarms_active.labels(machine).set(0)
        self.source_up.labels(machine, kind).set(0)
        self.source_lag.labels(machine).set(0)
        self.source_reconnects.labels(machine)
        for reason in REJECT_REASONS:
            self.samples_rejected.labels(machine, reason)
        self.set_alarm_state(machine, "normal")
        for state in TAUGHT_STATES:
            self.taught_state.labels(machine, state).set(1 if state == "not_taught" else 0)
        self.taught_load.labels(machine).set(float("nan"))
        for reason in TOOL_CHANGE_REASONS:
            self.tool_changes.labels(machine, reason)
        for group in FEATURE_GROUPS:
            self.drift_psi.labels(machine, group).set(0)
        self.drift_features.labels(machine).set(0)
        self.prediction_drift_psi.labels(machine).set(0)
        self.drift_unfamiliar_setup.labels(machine).set(0)
        self.drift_checks.labels(machine)
        for flag in FLAG_NAMES:
            self.data_quality_flags.labels(machine, flag)

    def set_wear_state(self, machine: str, state: str) -> None:
        for known in WEAR_STATES:
            self.wear_state.labels(machine, known).set(1 if known == state else 0)

    def set_taught_state(self, machine: str, state: str, load_pct: float, setup: str) -> None:
        for known in TAUGHT_STATES:
            self.taught_state.labels(machine, known).set(1 if known == state else 0)
        self.taught_load.labels(machine).set(load_pct if state not in ("not_taught", "teaching") else float("nan"))
        current = self._setups.get(machine)
        if current != setup:
            if current is not None:
                self.setup_info.remove(machine, current)
            self._setups[machine] = setup
            self.setup_info.labels(machine, setup).set(1)

    def set_drift(self, machine: str, report) -> None:
        """One drift check of the machine's window (``monitoring.drift.DriftReport``): the group
        PSIs (NaN for a group not compared), the features at alarm level, the prediction PSI (NaN
        without one), whether the setup is unfamiliar, and the check counted."""
        nan = float("nan")
        for group in FEATURE_GROUPS:
            self.drift_psi.labels(machine, group).set(report.group_psi.get(group, nan))
        self.drift_features.labels(machine).set(len(report.alarms))
        self.prediction_drift_psi.labels(machine).set(nan if report.prediction_psi is None else report.prediction_psi)
        self.drift_unfamiliar_setup.labels(machine).set(1 if report.unfamiliar else 0)
        self.drift_checks.labels(machine).inc()

    def set_storage(self, status) -> None:
        """The store's size and free disk (``store.retention.StoreStatus``; None: not known)."""
        nan = float("nan")
        self.store_size.set(nan if status.store_bytes is None else status.store_bytes)
        self.disk_free.set(nan if status.free_bytes is None else status.free_bytes)
        self.disk_floor.set(status.floor_bytes)
        self.raw_log_paused.set(1 if status.raw_paused else 0)

    def set_log_state(self, up: bool, pending: int) -> None:
        """Whether the prediction log writes to its database, and how many rows wait."""
        self.store_up.set(1 if up else 0)
        self.log_pending.set(pending)

    def set_alarm_state(self, machine: str, state: str) -> None:
        for known in ALARM_STATES:
            self.alarm_state.labels(machine, known).set(1 if known == state else 0)

    def set_model(self, name: str, version: str, engine: str, feature_set: str, trained_at: str,
                  trained_timestamp: float | None, evaluation: Mapping[tuple[str, str], float]) -> None:
        """Describe the active model; evaluation maps (protocol, metric) to its recorded figure."""
        self.model_info.info({"name": name, "version": str(version), "engine": engine,
                              "feature_set": feature_set, "trained_at": trained_at})
        if trained_timestamp is not None:
            self.model_trained.set(trained_timestamp)
        self.model_evaluation.clear()
        for (protocol, metric), value in evaluation.items():
            if protocol in EVALUATION_PROTOCOLS and metric in EVALUATION_METRICS and value is not None:
                self.model_evaluation.labels(protocol, metric).set(value)

    def count_flags(self, machine: str, flags) -> None:
        """Add a batch's per-row flag bitmasks (data/schema.QUALITY_FLAGS) to the flag counters."""
        import numpy as np

        flags = np.asarray(flags)
        if not flags.size or not flags.any():
            return
        for bit, flag, _ in QUALITY_FLAGS:
            hits = int(np.count_nonzero(flags & bit))
            if hits:
                self.data_quality_flags.labels(machine, flag).inc(hits)

    def observe_explanation(self, method: str, seconds: float) -> None:
        label = _EXPLANATION_LABEL.get(method, method)
        if label in EXPLANATION_METHODS:
            self.explanation_latency.labels(label).observe(seconds)

    def exposition(self) -> bytes:
        """The text a scrape returns (for tests and the benchmark)."""
        from prometheus_client import generate_latest

        return generate_latest(self.registry)


_PROCESS_METRICS: AppMetrics | None = None


def app_metrics() -> AppMetrics:
    """This process's metrics: whatever records (scoring, explanations, training) and the endpoint share it."""
    global _PROCESS_METRICS
    if _PROCESS_METRICS is None:
        _PROCESS_METRICS = AppMetrics()
    return _PROCESS_METRICS
