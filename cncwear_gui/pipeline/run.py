"""The automated pipeline (MLOps level 2): validate → features → train → evaluate → gate → register → promote.

It trains on the experiment files of its configuration plus every floor-labelled run in the
feature store (``FeatureStore.training_dataset``); each floor run is its own experiment, so
leave-one-experiment-out holds it out alone, and the run records how many there were
(``cncwear.floor_runs``).

Each firing is recorded in the pipeline history (why, when, what ran, the result) and logged as an
MLflow run in ``cncwear-pipeline`` with its lineage: the data's hash, the feature set's version and
fingerprint, and the code version; the training run it produced points back to it. Only one
pipeline runs at a time (a lock file in the user data directory); a firing that finds one running
is recorded as skipped. A failing step is recorded and leaves the champion as it was: training
writes nothing until its search and evaluation finished, and the gate alone moves the alias.
"""

from __future__ import annotations

import hashlib
import logging
import subprocess
import time
import traceback
from dataclasses import asdict, dataclass, field
from typing import Callable

from .. import __version__
from ..paths import project_root, user_data_dir
from ..store.pipeline_history import PipelineHistory
from ..tasks import Cancelled, Task, ensure_task

log = logging.getLogger(__name__)
PIPELINE_EXPERIMENT = "cncwear-pipeline"
TRIGGERS = ("manual", "schedule", "new-data", "degradation", "drift")


@dataclass
class PipelineConfig:
    data: list[str]  # folders and files to train on
    engine: str = "flaml"
    budget_s: int = 60
    feature_set: str = "signals"
    gate_protocol: str = "loeo"
    gate_metric: str = "accuracy"
    gate_margin: float = 0.0
    search_seed: int = 1
    dask_address: str | None = None  # auto-sklearn: train on this Dask cluster
    audit_url: str | None = None  # where a promotion is audited; None: the default store
    store_url: str | None = None  # the feature store whose floor-labelled runs join the data; None: the default


@dataclass
class StepRecord:
    name: str
    status: str  # ok, failed
    seconds: float
    detail: dict = field(default_factory=dict)


@dataclass
class PipelineResult:
    firing_id: int
    trigger: str
    reason: str
    status: str  # promoted, kept, failed, skipped
    steps: list[StepRecord] = field(default_factory=list)
    lineage: dict = field(default_factory=dict)
    pipeline_run_id: str | None = None
    training_run_id: str | None = None
    model_version: str | None = None
    gate: dict | None = None
    error: str | None = None

    def to_json(self) -> dict:
        return asdict(self)


class StepFailed(Exception):
    def __init__(self, message: str, detail: dict | None = None):
        super().__init__(message)
        self.detail = detail or {}


def code_version() -> str:
    """The package version, plus the git commit when running from a checkout."""
    try:
        commit = subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], cwd=project_root(), capture_output=True,
                                text=True, timeout=5).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        commit = ""
    return f"{__version__}+g{commit}" if commit else __version__


def data_hash(dataset) -> str:
    """One hash for the training data: its experiment files' SHA-256 in experiment order."""
    digest = hashlib.sha256()
    for number in sorted(dataset.experiments):
        digest.update(f"{number}:{dataset.experiments[number].sha256}\n".encode())
    return digest.hexdigest()[:16]


def count_pipeline_run(trigger: str, status: str, engine: str | None = None, training: str | None = None) -> None:
    """Record a finished firing, and the outcome of its training step if it had one, in the metrics."""
    from ..monitoring.metrics import app_metrics

    metrics = app_metrics()
    metrics.pipeline_runs.labels(trigger, status).inc()
    if status in ("promoted", "kept"):
        metrics.pipeline_last_success.set(time.time())
    if engine and training:
        metrics.training_runs.labels(engine, training).inc()


def pipeline_lock():
    from filelock import FileLock

    return FileLock(str(user_data_dir() / "pipeline.lock"))


def run_pipeline(trigger: str, reason: str, config: PipelineConfig, history: PipelineHistory,
                 task: Task | None = None, on_event: Callable | None = None, context: dict | None = None,
                 on_firing: Callable[[int, str, str], None] | None = None) -> PipelineResult:
    """Run the whole pipeline once for a trigger that fired; never raises for a failing step.

    ``on_firing(firing_id, trigger, status)`` as soon as the firing is recorded ("running", or
    "skipped" when another pipeline holds the lock), before any step runs.
    """
    from filelock import Timeout

    if trigger not in TRIGGERS:
        raise ValueError(f"unknown trigger '{trigger}'; known: {', '.join(TRIGGERS)}")
    task = ensure_task(task)
    lock = pipeline_lock()
    try:
        lock.acquire(timeout=0)
    except Timeout:
        running = next((f for f in history.firings(limit=50) if f.status == "running"), None)
        why = "another pipeline run is in progress" + (
            f" (firing #{running.id}, {running.trigger}, since {running.fired_at:%Y-%m-%d %H:%M:%S} UTC)" if running else "")
        firing_id = history.record(trigger, reason, "skipped", {"skipped_because": why, "context": context or {}})
        count_pipeline_run(trigger, "skipped")
        if on_firing is not None:
            on_firing(firing_id, trigger, "skipped")
        return PipelineResult(firing_id, trigger, reason, "skipped", error=why)
    try:
        firing_id = history.record(trigger, reason, "running", {"context": context or {}})
        if on_firing is not None:
            on_firing(firing_id, trigger, "running")
        result = PipelineResult(firing_id, trigger, reason, "running")
        _run_steps(result, config, task, on_event)
        history.finish(firing_id, result.status, {**result.to_json(), "context": context or {}})
        train_step = next((step for step in result.steps if step.name == "train"), None)
        training = None if train_step is None else "succeeded" if train_step.status == "ok" else (
            "cancelled" if result.error == "cancelled" else "failed")
        count_pipeline_run(trigger, result.status, config.engine, training)
        return result
    finally:
        lock.release()


def _run_steps(result: PipelineResult, config: PipelineConfig, task: Task, on_event) -> None:
    from ..store.tracking import ensure_experiment, mlflow_client

    mlflow = mlflow_client()
    client = mlflow.MlflowClient()
    run = client.create_run(ensure_experiment(PIPELINE_EXPERIMENT), run_name=f"{result.trigger}-#{result.firing_id}",
                            tags={"cncwear.trigger": result.trigger, "cncwear.reason": result.reason[:5000],
                                  "cncwear.firing_id": str(result.firing_id), "cncwear.code_version": code_version()})
    result.pipeline_run_id = run_id = run.info.run_id
    client.log_param(run_id, "engine", config.engine)
    client.log_param(run_id, "budget_s", config.budget_s)
    state = {}

    def step(name: str, start: float, end: float, body: Callable[[Task], dict]) -> dict:
        task.progress(start, f"pipeline: {name}")
        started = time.perf_counter()
        try:
            detail = body(task.child(start, end, f"{name}: "))
        except Cancelled:
            result.steps.append(StepRecord(name, "failed", round(time.perf_counter() - started, 3), {"error": "cancelled"}))
            raise
        except StepFailed as error:
            result.steps.append(StepRecord(name, "failed", round(time.perf_counter() - started, 3),
                                           {"error": str(error), **error.detail}))
            raise
        except Exception as error:
            log.debug("pipeline step %s failed", name, exc_info=True)
            result.steps.append(StepRecord(name, "failed", round(time.perf_counter() - started, 3),
                                           {"error": f"{type(error).__name__}: {error}",
                                            "traceback": traceback.format_exc(limit=5)}))
            raise StepFailed(f"{name} failed: {error}") from error
        seconds = round(time.perf_counter() - started, 3)
        result.steps.append(StepRecord(name, "ok", seconds, detail))
        client.log_metric(run_id, f"step_{name.replace('-', '_')}_seconds", seconds)
        return detail

    def validate(sub: Task) -> dict:
        from ..data.dataset import load_dataset
        from ..store.feature_store import FeatureStore, is_floor_run

        dataset = load_dataset(config.data, task=sub.child(0.0, 0.7))
        rejected = [r for r in dataset.reports if not r.usable]
        if rejected or not dataset.experiments:
            problems = [p.located(r.path) for r in rejected for p in r.errors][:20]
            raise StepFailed(f"{len(rejected)} file(s) rejected" if rejected else "no experiment files found",
                             {"problems": [str(p) for p in problems]})
        sub.progress(0.7, "floor-labelled runs from the feature store")
        store = FeatureStore(config.store_url)
        try:
            dataset = store.training_dataset(dataset)
        except ValueError as error:
            raise StepFailed(str(error)) from None
        finally:
            store.close()
        floor = sum(map(is_floor_run, dataset.experiments))
        state["dataset"] = dataset
        result.lineage["data_hash"] = data_hash(dataset)
        result.lineage["experiments"] = len(dataset.experiments)
        result.lineage["floor_runs"] = floor
        result.lineage["rows"] = dataset.rows
        client.set_tag(run_id, "cncwear.floor_runs", str(floor))
        return {"files": len(dataset.reports), "experiments": len(dataset.experiments), "floor_runs": floor,
                "rows": dataset.rows, "warnings": sum(len(r.warnings) for r in dataset.reports)}

    def features(sub: Task) -> dict:
        import numpy as np

        from ..features.sets import get_feature_set, training_matrix
        from ..store.feature_store import is_floor_run

        feature_set = get_feature_set(config.feature_set)
        X, y, groups = training_matrix(state["dataset"].samples(), feature_set)
        if len(np.unique(y)) < 2:
            raise StepFailed("the labelled data has only one class; training needs worn and unworn experiments")
        result.lineage["feature_set"] = feature_set.key
        result.lineage["feature_set_fingerprint"] = feature_set.fingerprint
        return {"feature_set": feature_set.key, "rows": int(len(y)), "features": int(X.shape[1]),
                "experiments": int(len(np.unique(groups))),
                "floor_runs": sorted(int(g) for g in np.unique(groups) if is_floor_run(int(g))),
                "worn_share": round(float(y.mean()), 4)}

    def train_evaluate_gate(sub: Task) -> dict:
        from ..automl.config import SearchConfig
        from ..models.training import TrainingConfig, train

        training = TrainingConfig(
            engine=config.engine, search=SearchConfig(budget_s=config.budget_s, seed=config.search_seed,
                                                      dask_address=config.dask_address if config.engine == "auto-sklearn" else None),
            feature_set=config.feature_set, register=True, promote=True, gate_protocol=config.gate_protocol,
            gate_metric=config.gate_metric, gate_margin=config.gate_margin, audit_url=config.audit_url)
        try:
            training.check()
            training.search.check(*_labels_and_groups(state["dataset"], config.feature_set), config.engine)
        except ValueError as error:
            raise StepFailed(str(error)) from None
        state["training"] = outcome = train(state["dataset"], training, sub, on_event)
        result.training_run_id = outcome.run_id
        result.model_version = outcome.model_version
        return {"training_run_id": outcome.run_id, "trials": outcome.trials,
                "search_seconds": round(outcome.search_seconds, 2)}

    try:
        client.log_dict(run_id, {"data": config.data, **asdict(config)}, "pipeline_config.json")
        step("validate", 0.0, 0.05, validate)
        step("features", 0.05, 0.1, features)
        step("train", 0.1, 0.97, train_evaluate_gate)
        outcome = state["training"]
        # train() evaluated, registered and gated in one go; each is recorded as its own step.
        result.steps.append(StepRecord("evaluate", "ok", 0.0, {
            protocol: {"accuracy": round(e.metrics["accuracy"], 6), "experiments_right": f"{e.experiments_correct}/{len(e.verdicts)}"}
            for protocol, e in outcome.evaluations.items()}))
        result.steps.append(StepRecord("register", "ok", 0.0, {"model_version": outcome.model_version, "alias": "challenger"}))
        result.gate = outcome.gate.to_json() if outcome.gate else None
        result.steps.append(StepRecord("gate", "ok", 0.0, result.gate or {}))
        result.steps.append(StepRecord("promote", "ok", 0.0, {"promoted": bool(outcome.promoted)}))
        result.status = "promoted" if outcome.promoted else "kept"
        for protocol, evaluation in outcome.evaluations.items():
            client.log_metric(run_id, f"{protocol}_accuracy", evaluation.metrics["accuracy"])
        client.set_tag(outcome.run_id, "cncwear.pipeline_run_id", run_id)
        client.set_tag(outcome.run_id, "cncwear.trigger", result.trigger)
    except (StepFailed, Cancelled) as error:
        result.status = "failed"
        result.error = "cancelled" if isinstance(error, Cancelled) else str(error)
    finally:
        for key, value in result.lineage.items():
            client.set_tag(run_id, f"cncwear.lineage.{key}", str(value))
        client.set_tag(run_id, "cncwear.outcome", result.status)
        if result.error:
            client.set_tag(run_id, "cncwear.error", result.error[:5000])
        client.log_dict(run_id, result.to_json(), "pipeline_result.json")
        client.set_terminated(run_id, "FAILED" if result.status == "failed" else "FINISHED")
    task.progress(1.0, f"pipeline {result.status}")


def _labels_and_groups(dataset, feature_set_name: str):
    from ..features.sets import get_feature_set, training_matrix
    from ..models.evaluation import seed_split

    _, y, groups = training_matrix(dataset.samples(), get_feature_set(feature_set_name))
    train_rows, _ = seed_split(y)
    return y[train_rows], groups[train_rows]
