"""The champion model in the MLflow registry: load it, or train a quick one on first start.

Registered as ``cncwear-tool-wear`` with the alias ``champion``. The quick model is the recipe of
``first_start.py`` (a Random Forest on the feature set that generalises best to unseen
experiments); its figures are logged with the run.

``resolve_champion`` talks to MLflow and returns a ``ChampionRef`` (JSON-able: where the model
file is and what the registry recorded about it); ``load_active_model`` turns that into a model
without importing mlflow. The GUI runs the first part in a subprocess (champion_process.py),
because importing mlflow stalls any other thread of the process for up to ~0.4 s.
"""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from typing import Callable

from ..data.dataset import Dataset
from ..features.sets import get_feature_set, training_matrix
from ..store.audit_trail import audit_promotion
from ..store.tracking import TrustedModelFile
from ..tasks import Task, ensure_task
from .active import FIRST_START_VERSION, ActiveModel
from .evaluation import evaluation_from_predictions, seed_split
from .first_start import (QUICK_CANDIDATES, QUICK_FEATURE_SET, QUICK_TREES, SELECTION_FOLDS, quick_forest,
                          select_feature_set)

log = logging.getLogger(__name__)
REGISTERED_NAME = "cncwear-tool-wear"
CHAMPION_ALIAS = "champion"
MODELS_EXPERIMENT = "cncwear-models"


@dataclass(frozen=True)
class ChampionRef:
    name: str
    version: str
    engine: str
    feature_set: str
    trained_at: str
    run_id: str
    model: TrustedModelFile

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> ChampionRef:
        model = data["model"]
        return cls(**{**data, "model": TrustedModelFile(**{**model, "skops_types": tuple(model["skops_types"])})})


def find_champion(task: Task | None = None, alias: str = CHAMPION_ALIAS) -> ChampionRef | None:
    """The registry's champion (or another alias), located, not loaded; None when there is none."""
    task = ensure_task(task)
    task.progress(0.0, "opening the model registry")
    from ..store.tracking import mlflow_client

    mlflow = mlflow_client()
    client = mlflow.MlflowClient()
    try:
        version = client.get_model_version_by_alias(REGISTERED_NAME, alias)
    except mlflow.exceptions.MlflowException:
        return None
    task.progress(0.5, f"locating {REGISTERED_NAME} v{version.version}")
    # The sqlite registry returns model_id=None; the source is "models:/<model id>".
    model_id = version.model_id or version.source.removeprefix("models:/")
    reference = _reference(client, version.run_id, model_id, str(version.version))
    task.progress(1.0, "model located")
    return reference


def find_run_model(run_id: str) -> ChampionRef:
    """The model a training run logged (registered or not); LookupError when it logged none."""
    from ..store.tracking import mlflow_client

    mlflow = mlflow_client()
    client = mlflow.MlflowClient()
    try:
        run = client.get_run(run_id)
    except mlflow.exceptions.MlflowException:
        raise LookupError(f"no MLflow run with id '{run_id}' in {mlflow.get_tracking_uri()}") from None
    models = mlflow.search_logged_models(experiment_ids=[run.info.experiment_id],
                                         filter_string=f"source_run_id = '{run_id}'", output_format="list")
    if not models:
        raise LookupError(f"run {run_id} logged no model")
    versions = client.search_model_versions(f"run_id = '{run_id}'")
    version = str(versions[0].version) if versions else "unregistered"
    return _reference(client, run_id, models[0].model_id, version)


def _reference(client, run_id: str, model_id: str, version: str) -> ChampionRef:
    from ..store.tracking import trusted_model_file

    tags = client.get_run(run_id).data.tags
    return ChampionRef(
        name=REGISTERED_NAME,
        version=version,
        engine=tags.get("cncwear.engine", ""),
        feature_set=tags.get("cncwear.feature_set_name", QUICK_FEATURE_SET),
        trained_at=tags.get("cncwear.trained_at", ""),
        run_id=run_id,
        model=trusted_model_file(model_id),
    )


def load_active_model(ref: ChampionRef) -> ActiveModel:
    """Deserialise the champion under the trust policy, or start its sidecar; needs no mlflow."""
    from ..store.tracking import AUTOSKLEARN_PICKLE, load_verified, verify_file

    feature_set = get_feature_set(ref.feature_set)
    if ref.model.format == AUTOSKLEARN_PICKLE:
        from .predictor import SidecarPredictor

        estimator = SidecarPredictor(verify_file(ref.model), list(feature_set.columns))
    else:
        estimator = load_verified(ref.model)
    return ActiveModel(
        name=ref.name,
        version=ref.version,
        engine=ref.engine or "scikit-learn",
        feature_set=feature_set,
        estimator=estimator,
        trained_at=ref.trained_at,
        run_id=ref.run_id,
    )


def train_quick_champion(dataset: Dataset, task: Task | None = None, seed: int = 0,
                         audit_url: str | None = None) -> ChampionRef:
    """Choose the feature set by grouped k-fold, fit a Random Forest on every labelled sample,
    evaluate it under the seed protocol, log and register it as the champion.

    The model is handed over as soon as it is fitted (``task.interim``: a ChampionRef with version
    ``FIRST_START_VERSION`` whose file is verified like a registered one), so a fresh install shows
    predictions while the evaluation, the logging and the registration go on; the MLflow store is
    opened in a thread beside the evaluation. The return value is the registered champion.
    """
    from concurrent.futures import ThreadPoolExecutor

    from ..store.tracking import write_first_start_file

    task = ensure_task(task)
    selection = select_feature_set(dataset, seed, task.child(0.0, 0.3, "choosing the feature set: "))
    feature_set = get_feature_set(selection.chosen)
    X, y, groups = training_matrix(dataset.samples(), feature_set)
    task.progress(0.3, f"training a Random Forest on {len(y):,} samples")
    model = quick_forest(seed)
    started = time.perf_counter()
    model.fit(X, y)
    fit_seconds = time.perf_counter() - started
    trained_at = datetime.now(timezone.utc).isoformat(timespec="seconds")
    if task.wants_interim:
        task.interim(ChampionRef(REGISTERED_NAME, FIRST_START_VERSION, "scikit-learn RandomForest",
                                 feature_set.key, trained_at, "", write_first_start_file(model)))
    # The store opens now, not beside the fit: importing mlflow holds the GIL the forest's threads
    # need (the fit took 2.0 s alone, 4.7 s beside it).
    with ThreadPoolExecutor(1, thread_name_prefix="open-mlflow-store") as opener:
        experiment = opener.submit(_open_models_experiment)
        # The seed protocol's figure, so monitoring and the gate have a recorded number.
        task.progress(0.5, f"evaluating a Random Forest on {feature_set.key}, seed protocol's held-out 20 %")
        train_rows, test_rows = seed_split(y, seed)
        held_out = quick_forest(seed).fit(X[train_rows], y[train_rows])
        seed_figures = evaluation_from_predictions("seed", y[test_rows], held_out.predict(X[test_rows]),
                                                   groups[test_rows])
        held_out_p_worn = held_out.predict_proba(X[test_rows])[:, list(held_out.classes_).index(1)]
        del held_out
        task.progress(0.6, "logging the model to MLflow")
        experiment_id = experiment.result()

    from ..store.tracking import log_trusted_model, mlflow_client

    mlflow = mlflow_client()
    with mlflow.start_run(experiment_id=experiment_id, run_name="quick-random-forest"):
        mlflow.set_tags(
            {
                "cncwear.engine": "scikit-learn RandomForest",
                "cncwear.feature_set": feature_set.key,
                "cncwear.feature_set_name": feature_set.name,
                "cncwear.trained_at": trained_at,
                "cncwear.purpose": "first-start champion",
                "cncwear.selected_by": f"grouped {SELECTION_FOLDS}-fold by experiment accuracy among "
                                       f"{', '.join(QUICK_CANDIDATES)}; figures {selection.source}",
            }
        )
        if selection.recorded_loeo:  # what the gate would otherwise refit 18 forests for, on these exact rows
            mlflow.set_tag("cncwear.loeo_source", selection.source)
            mlflow.log_metrics({f"loeo_{name}": value for name, value in selection.recorded_loeo.items()})
        mlflow.log_params({"n_estimators": QUICK_TREES, "min_samples_leaf": 2, "rows": len(y), "seed": seed})
        mlflow.log_metrics({f"selection_grouped_accuracy_{name}": value for name, value in selection.scores.items()})
        mlflow.log_metric("fit_seconds", fit_seconds)
        mlflow.log_metrics({f"seed_{name}": value for name, value in seed_figures.metrics.items()})
        from ..monitoring.evaluation_data import log_evaluation_predictions

        log_evaluation_predictions(mlflow, "seed", y[test_rows], held_out_p_worn)
        task.progress(0.7, "storing the training reference for drift checks")
        from ..monitoring.reference import build_model_reference, log_reference

        log_reference(mlflow, build_model_reference(
            ActiveModel(REGISTERED_NAME, "local", "scikit-learn RandomForest", feature_set, model), dataset))
        task.progress(0.8, "registering the model")
        logged = log_trusted_model(model, name="model", registered_model_name=REGISTERED_NAME)
    mlflow.MlflowClient().set_registered_model_alias(REGISTERED_NAME, CHAMPION_ALIAS, logged.registered_version)
    audit_promotion(audit_url, REGISTERED_NAME, None, logged.registered_version,
                    f"first start: no champion yet, a quick Random Forest on {feature_set.key} (best grouped k-fold)")
    task.progress(1.0, "model registered")
    return find_champion()


def _open_models_experiment() -> str:
    """Import mlflow, create (or open) the tracking store and the models experiment: seconds on a
    fresh install, so it runs beside the training."""
    from ..store.tracking import ensure_experiment

    return ensure_experiment(MODELS_EXPERIMENT)


def resolve_champion(dataset: Dataset | Callable[[], Dataset], task: Task | None = None,
                     audit_url: str | None = None) -> ChampionRef:
    """The champion, trained first when the registry has none (first start).

    ``dataset`` may be a callable, so the data is only loaded when training is needed. A first-start
    champion's promotion goes to the audit trail at ``audit_url`` (None: the default store).
    """
    from ..store.tracking import fresh_local_store

    task = ensure_task(task)
    # a fresh install has no store to look in: training starts at once, the store is created beside it
    champion = None if fresh_local_store() else find_champion(task.child(0.0, 0.3))
    if champion is None:
        data = dataset() if callable(dataset) else dataset
        champion = train_quick_champion(data, task.child(0.3, 1.0, "first start: "), audit_url=audit_url)
    task.progress(1.0, "model ready")
    return champion


def ensure_champion(dataset: Dataset, task: Task | None = None, audit_url: str | None = None) -> ActiveModel:
    """In-process: resolve (training on first start) and load the champion."""
    return load_active_model(resolve_champion(dataset, task, audit_url))
