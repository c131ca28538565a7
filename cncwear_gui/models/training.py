"""A training run: search with an AutoML engine, evaluate under both protocols, log, register.

Both engines search on the seed protocol's training rows only (the same 80/20 split as the
baselines), so the seed figure is a true held-out score. LOEO evaluates the pipeline the search
found, refitted once per left-out experiment (the search itself is not repeated per fold, which
the run's tags say). The model logged and registered is that pipeline refitted on every row.
Registered versions become the ``challenger``; the promotion gate decides about ``champion``.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Callable

import numpy as np

from ..automl.config import ENGINES, SearchConfig
from ..automl.jobs import JobEvent
from ..data.dataset import Dataset
from ..features.sets import FeatureSet, get_feature_set, training_matrix
from ..tasks import Task, ensure_task
from .active import ActiveModel
from .evaluation import PROTOCOL_LABELS, PROTOCOLS, Evaluation, evaluation_from_predictions, seed_split

log = logging.getLogger(__name__)
TRAINING_EXPERIMENT = "cncwear-training"
LOEO_NOTE = ("loeo: the found pipeline refitted per left-out experiment; the search ran once, on the seed training "
             "rows of every experiment, so the choice of pipeline is not nested (optimistic)")
GATE_METRICS = ("accuracy", "f1", "mcc", "precision", "recall")


@dataclass
class TrainingConfig:
    engine: str = "flaml"
    search: SearchConfig = field(default_factory=SearchConfig)
    feature_set: str = "signals"  # what a live machine delivers: no train.csv constants
    split_seed: int = 0  # the seed protocol's split, as in the benchmark
    protocols: tuple[str, ...] = PROTOCOLS
    register: bool = False
    promote: bool = False  # move the champion alias when the gate passes
    gate_protocol: str = "loeo"
    gate_metric: str = "accuracy"
    gate_margin: float = 0.0
    audit_url: str | None = None  # where a promotion is audited; None: the default store

    def check(self) -> None:
        if self.engine not in ENGINES:
            raise ValueError(f"engine must be one of {', '.join(ENGINES)}, not {self.engine!r}")
        unknown = [p for p in self.protocols if p not in PROTOCOLS]
        if unknown or "seed" not in self.protocols:
            raise ValueError(f"protocols must include seed and be among {', '.join(PROTOCOLS)}")
        if self.gate_protocol not in PROTOCOLS:
            raise ValueError(f"the gate's protocol must be one of {', '.join(PROTOCOLS)}")
        if self.gate_metric not in GATE_METRICS:
            raise ValueError(f"the gate's metric must be one of {', '.join(GATE_METRICS)}")
        if self.register and self.gate_protocol not in self.protocols:
            raise ValueError(f"the gate compares {self.gate_protocol}, so that protocol must be evaluated")
        if not 0.0 <= self.gate_margin < 1.0:
            raise ValueError("the gate's margin must be between 0 and 1")


@dataclass
class TrainingResult:
    engine: str
    feature_set: str
    evaluations: dict[str, Evaluation]
    leaderboard: list[dict]
    ensemble: list[dict]
    events: list[JobEvent]
    search_seconds: float
    run_id: str | None = None
    model_version: str | None = None
    gate: object | None = None  # promotion.GateDecision when registered
    promoted: bool = False

    @property
    def trials(self) -> int:
        return sum(1 for event in self.events if event.kind == "trial")

    def to_json(self) -> dict:
        return {
            "engine": self.engine,
            "feature_set": self.feature_set,
            "run_id": self.run_id,
            "model_version": self.model_version,
            "metrics": {p: {k: round(v, 6) for k, v in e.metrics.items()} for p, e in self.evaluations.items()},
            "experiments_correct": {p: f"{e.experiments_correct}/{len(e.verdicts)}" for p, e in self.evaluations.items()},
            "trials": self.trials,
            "search_seconds": round(self.search_seconds, 2),
            "leaderboard": self.leaderboard,
            "ensemble": self.ensemble,
            "gate": None if self.gate is None else self.gate.to_json(),
            "promoted": self.promoted,
            "evaluations": {p: {"fit_seconds": e.fit_seconds, "verdicts": [v.to_json() for v in e.verdicts]}
                            for p, e in self.evaluations.items()},
        }

    @classmethod
    def from_json(cls, data: dict, events: list[JobEvent]) -> TrainingResult:
        """The result a ``cncwear train --progress-json`` child printed (its models stay in MLflow)."""
        from .evaluation import ExperimentVerdict
        from .promotion import GateDecision

        evaluations = {}
        for protocol, metrics in data["metrics"].items():
            recorded = data["evaluations"][protocol]
            verdicts = [ExperimentVerdict(v["experiment"], v["true"] == "worn", v["worn_share"], v["rows"], v["row_accuracy"],
                                           v.get("confidence", 0.5))
                        for v in recorded["verdicts"]]
            evaluations[protocol] = Evaluation(protocol, metrics, recorded["fit_seconds"], None, verdicts)
        gate = data.get("gate")
        return cls(
            engine=data["engine"], feature_set=data["feature_set"], evaluations=evaluations,
            leaderboard=data["leaderboard"], ensemble=data["ensemble"], events=events,
            search_seconds=data["search_seconds"], run_id=data["run_id"], model_version=data["model_version"],
            gate=None if gate is None else GateDecision.from_json(gate),
            promoted=data["promoted"],
        )


def train(dataset: Dataset, config: TrainingConfig, task: Task | None = None,
          on_event: Callable[[JobEvent], None] | None = None) -> TrainingResult:
    """Search, evaluate, and log one run; with ``register``, add a challenger and run the gate.

    Nothing reaches MLflow unless the search and evaluation finished: a cancelled or killed
    run leaves the tracking store and the registry as they were. Once the run is being written,
    cancel no longer applies (the run, its registration and the gate's verdict complete together),
    and a failure while writing deletes the run again.
    """
    task = ensure_task(task)
    config.check()
    feature_set = get_feature_set(config.feature_set)
    X, y, groups = training_matrix(dataset.samples(), feature_set)
    train_rows, test_rows = seed_split(y, config.split_seed)
    config.search.check(y[train_rows], groups[train_rows], config.engine)
    names = list(feature_set.columns)
    search_task = task.child(0.0, 0.85)
    started = time.perf_counter()
    if config.engine == "flaml":
        fitted = _train_flaml(X, y, groups, names, train_rows, test_rows, config, search_task, on_event)
    else:
        fitted = _train_autosklearn(X, y, groups, names, test_rows, config, search_task, on_event)
    result = TrainingResult(
        engine=config.engine, feature_set=feature_set.key, evaluations=fitted.evaluations,
        leaderboard=fitted.leaderboard, ensemble=fitted.ensemble, events=fitted.events,
        search_seconds=time.perf_counter() - started,
    )
    task.progress(0.86, "logging the run to MLflow")  # the last point where cancel stops the run
    finishing = task.uncancellable(0.86, 1.0)  # the run, its registration and the gate's verdict: all or nothing
    _log_run(result, fitted, config, feature_set, dataset, X, len(y), finishing.child(0.0, 0.6))
    if config.register:
        from .promotion import mark_challenger, promote, run_gate

        mark_challenger(result.model_version)
        finishing.progress(0.6, "promotion gate")
        result.gate = run_gate(result.model_version, config.gate_protocol, config.gate_metric, config.gate_margin,
                               dataset=dataset, task=finishing.child(0.6, 0.99))
        if config.promote:
            result.promoted = promote(result.gate, config.audit_url)
    finishing.progress(1.0, "training run logged")
    return result


@dataclass
class _Fitted:
    evaluations: dict[str, Evaluation]
    leaderboard: list[dict]
    ensemble: list[dict]
    events: list[JobEvent]
    params: dict
    estimator: object = None  # FLAML: the final scikit-learn model
    model_path: object = None  # auto-sklearn: the final pickle
    runtime: dict = field(default_factory=dict)
    held_out: dict | None = None  # the seed model's P(worn) on the held-out rows, for model statistics


def _train_flaml(X, y, groups, names, train_rows, test_rows, config, task, on_event) -> _Fitted:
    from sklearn.base import clone

    from ..automl.flaml_engine import run_flaml_search
    from .evaluation import evaluate_loeo

    search = run_flaml_search(X[train_rows], y[train_rows], groups[train_rows], names, config.search,
                              task.child(0.0, 0.6), on_event)
    task.progress(0.6, f"seed protocol: refitting {search.best_model} on the training rows")
    seed_model = clone(search.estimator).fit(X[train_rows], y[train_rows])
    evaluations = {"seed": evaluation_from_predictions("seed", y[test_rows], seed_model.predict(X[test_rows]),
                                                       groups[test_rows])}
    held_out = {"y_true": y[test_rows], "p_worn": seed_model.predict_proba(X[test_rows])[:, list(seed_model.classes_).index(1)],
                "note": ""}
    if "loeo" in config.protocols:
        evaluations["loeo"] = evaluate_loeo(search.estimator, X, y, groups, task=task.child(0.65, 1.0, "LOEO: "))
        final = evaluations["loeo"].model
    else:
        task.progress(0.9, "refitting on every row")
        final = clone(search.estimator).fit(X, y)
    params = {f"best.{k}": v for k, v in search.best_config.items()}
    members = next(e.data["members"] for e in search.events if e.kind == "ensemble")
    return _Fitted(evaluations, search.leaderboard, members, search.events,
                   {"best_model": search.best_model, **params}, estimator=final, held_out=held_out)


def _train_autosklearn(X, y, groups, names, test_rows, config, task, on_event) -> _Fitted:
    import pandas as pd

    from ..automl.jobs import run_autosklearn_job

    job = run_autosklearn_job(X, y, groups, names, config.search, task, on_event, test_rows=test_rows,
                              loeo="loeo" in config.protocols)
    evaluations = {}
    for protocol in config.protocols:
        rows, predicted = job.predictions(protocol)
        evaluations[protocol] = evaluation_from_predictions(protocol, y[rows], predicted, groups[rows])
    board = pd.read_csv(job.model_dir / "leaderboard.csv")
    leaderboard = [
        {"rank": int(row["rank"]), "model": str(row["type"]), "score": round(1.0 - float(row["cost"]), 6),
         "weight": round(float(row["ensemble_weight"]), 4), "duration_s": round(float(row["duration"]), 2)}
        for _, row in board.iterrows()
    ]
    started = next(e.data for e in job.events if e.kind == "started")
    runtime = {key: started.get(key) for key in ("python", "autosklearn", "sklearn")}
    rows, predicted = job.predictions("seed")
    held_out = {"y_true": y[rows], "p_worn": predicted.astype(float),
                "note": "auto-sklearn's job returns labels only: the curves have one operating point"}
    return _Fitted(evaluations, leaderboard, job.ensemble["members"], job.events, {}, model_path=job.model_path,
                   runtime=runtime, held_out=held_out)


def _log_run(result: TrainingResult, fitted: _Fitted, config: TrainingConfig, feature_set: FeatureSet,
             dataset: Dataset, X: np.ndarray, rows: int, task: Task) -> None:
    from ..store.tracking import ensure_experiment, mlflow_client
    from .champion import REGISTERED_NAME

    mlflow = mlflow_client()
    import pandas as pd
    from mlflow.models import infer_signature

    sample = pd.DataFrame(X[:20], columns=list(feature_set.columns))
    signature = infer_signature(sample, np.zeros(len(sample), dtype=np.int64))
    registered = {"registered_model_name": REGISTERED_NAME} if config.register else {}
    experiment_id = ensure_experiment(TRAINING_EXPERIMENT)
    try:
        _write_run(mlflow, result, fitted, config, feature_set, dataset, X, rows, experiment_id, signature,
                   registered, task)
    except BaseException:
        _discard_run(mlflow, result)
        raise


def _discard_run(mlflow, result: TrainingResult) -> None:
    """A run that failed while being written is deleted, with its registered version if any."""
    from .champion import REGISTERED_NAME

    client = mlflow.MlflowClient()
    run = mlflow.last_active_run()
    try:
        if result.model_version is not None:
            client.delete_model_version(REGISTERED_NAME, result.model_version)
        if run is not None:
            client.delete_run(run.info.run_id)
    except Exception:  # the original error matters more; this one is only logged
        log.exception("could not remove the half-written training run")
    result.run_id = result.model_version = None


def _write_run(mlflow, result, fitted, config, feature_set, dataset, X, rows, experiment_id, signature,
               registered, task) -> None:
    import pandas as pd

    from ..store.feature_store import is_floor_run
    from ..store.tracking import log_autosklearn_model, log_trusted_model
    from .predictor import SIDECAR_PYFUNC

    search = config.search
    floor_runs = sum(map(is_floor_run, dataset.experiments))
    with mlflow.start_run(experiment_id=experiment_id, run_name=f"{config.engine}-{search.budget_s}s") as run:
        mlflow.set_tags({
            "cncwear.engine": config.engine,
            "cncwear.feature_set": feature_set.key,
            "cncwear.feature_set_name": feature_set.name,
            "cncwear.feature_set_fingerprint": feature_set.fingerprint,
            "cncwear.dataset_files": ",".join(sorted(e.sha256[:12] for e in dataset.experiments.values())),
            "cncwear.floor_runs": str(floor_runs),  # floor-labelled runs among the experiments (store.feature_store)
            "cncwear.trained_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "cncwear.purpose": "training run",
            "cncwear.protocol_note.seed": PROTOCOL_LABELS["seed"],
            "cncwear.protocol_note.loeo": LOEO_NOTE,
        })
        mlflow.log_params({
            "engine": config.engine, "budget_s": search.budget_s, "search_seed": search.seed,
            "search_metric": search.metric, "resampling": search.resampling, "folds": search.folds,
            "search_space": search.search_space,
            "split_seed": config.split_seed, "rows": rows, "features": X.shape[1], "floor_runs": floor_runs,
            "gate_protocol": config.gate_protocol, "gate_metric": config.gate_metric,
            "gate_margin": config.gate_margin, **fitted.params,
        })
        metrics = {"search_seconds": result.search_seconds, "trials": result.trials}
        for protocol, evaluation in result.evaluations.items():
            metrics.update({f"{protocol}_{name}": value for name, value in evaluation.metrics.items()})
            metrics[f"{protocol}_experiments_correct"] = evaluation.experiments_correct
        mlflow.log_metrics(metrics)
        _log_best_curve(mlflow, result.events)
        mlflow.log_text(pd.DataFrame(result.leaderboard).to_csv(index=False), "leaderboard.csv")
        mlflow.log_text("".join(json.dumps({"event": e.kind, **e.data}) + "\n" for e in result.events), "progress.jsonl")
        mlflow.log_dict({"members": result.ensemble}, "ensemble.json")
        mlflow.log_dict({p: [v.to_json() for v in e.verdicts] for p, e in result.evaluations.items()},
                        "per_experiment.json")
        if fitted.held_out is not None:
            from ..monitoring.evaluation_data import log_evaluation_predictions

            log_evaluation_predictions(mlflow, "seed", fitted.held_out["y_true"], fitted.held_out["p_worn"],
                                       fitted.held_out["note"])
        if fitted.estimator is not None:  # an auto-sklearn model gets its reference on first use (sidecar)
            from ..monitoring.reference import build_model_reference, log_reference

            task.progress(0.2, "storing the training reference for drift checks")
            log_reference(mlflow, build_model_reference(
                ActiveModel("training-run", "run", config.engine, feature_set, fitted.estimator), dataset))
        task.progress(0.3, "logging the model")
        if fitted.estimator is not None:
            logged = log_trusted_model(fitted.estimator, name="model", signature=signature, **registered)
        else:
            logged = log_autosklearn_model(fitted.model_path, list(feature_set.columns), fitted.runtime,
                                           name="model", pyfunc_code=SIDECAR_PYFUNC, signature=signature,
                                           **registered)
        result.run_id = run.info.run_id
        result.model_version = logged.registered_version
    task.progress(1.0, "logged")


def _log_best_curve(mlflow, events: list[JobEvent]) -> None:
    """The best-so-far score per trial, as an MLflow metric history (the Training view's curve)."""
    from mlflow.entities import Metric

    best, points, now = None, [], int(time.time() * 1000)
    for event in events:
        if event.kind == "trial" and event.data.get("score") is not None:
            best = event.data["score"] if best is None else max(best, event.data["score"])
            points.append(Metric("search_best_score", best, now, int(event.data["n"])))
    if points:
        mlflow.MlflowClient().log_batch(mlflow.active_run().info.run_id, metrics=points)
