"""The champion model in the MLflow registry: load it, or train a quick one on first start.

Registered as ``cncwear-tool-wear`` with the alias ``champion``. The quick model is a Random
Forest on the feature set that generalises best to unseen experiments: the candidates (sets a
live machine delivers, without train.csv constants) are compared by grouped k-fold by
experiment, never by a random row split, and the figures are logged with the run.

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
from .active import ActiveModel
from .evaluation import evaluation_from_predictions, seed_split

log = logging.getLogger(__name__)
REGISTERED_NAME = "cncwear-tool-wear"
CHAMPION_ALIAS = "champion"
MODELS_EXPERIMENT = "cncwear-models"
QUICK_FEATURE_SET = "signals"  # what an older run without the tag used
QUICK_CANDIDATES = ("signals", "process")
QUICK_TREES = 100
SELECTION_FOLDS = 3  # grouped by experiment: six experiments held out per fold
SELECTION_TREES = 30


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


def select_feature_set(dataset: Dataset, seed: int = 0, task: Task | None = None) -> tuple[str, dict[str, float]]:
    """The candidate feature set with the best grouped k-fold accuracy (experiments held out
    whole), and every candidate's figure."""
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.model_selection import GroupKFold, cross_val_predict

    task = ensure_task(task)
    samples = dataset.samples()
    scores = {}
    for index, name in enumerate(QUICK_CANDIDATES):
        task.progress(index / len(QUICK_CANDIDATES), f"{name}: grouped {SELECTION_FOLDS}-fold by experiment")
        X, y, groups = training_matrix(samples, get_feature_set(name))
        folds = min(SELECTION_FOLDS, len(set(groups)))
        if folds < 2:
            return QUICK_FEATURE_SET, {}
        forest = RandomForestClassifier(n_estimators=SELECTION_TREES, n_jobs=-1, random_state=seed, min_samples_leaf=2)
        predicted = cross_val_predict(forest, X, y, groups=groups, cv=GroupKFold(folds))
        scores[name] = float((predicted == y).mean())
    task.progress(1.0, "feature set chosen")
    return max(scores, key=lambda name: (scores[name], name == QUICK_FEATURE_SET)), scores


def train_quick_champion(dataset: Dataset, task: Task | None = None, seed: int = 0,
                         audit_url: str | None = None) -> ChampionRef:
    """Choose the feature set by grouped k-fold, fit a Random Forest on every labelled sample,
    log and register it as the champion."""
    from sklearn.ensemble import RandomForestClassifier

    task = ensure_task(task)
    chosen, selection = select_feature_set(dataset, seed, task.child(0.0, 0.2, "choosing the feature set: "))
    feature_set = get_feature_set(chosen)
    X, y, groups = training_matrix(dataset.samples(), feature_set)

    def forest():
        return RandomForestClassifier(n_estimators=QUICK_TREES, n_jobs=-1, random_state=seed, min_samples_leaf=2)

    # The seed protocol's figure first, so monitoring and the gate have a recorded number.
    task.progress(0.2, f"evaluating a Random Forest on {feature_set.key}, seed protocol's held-out 20 %")
    train_rows, test_rows = seed_split(y, seed)
    held_out = forest().fit(X[train_rows], y[train_rows])
    seed_figures = evaluation_from_predictions("seed", y[test_rows], held_out.predict(X[test_rows]), groups[test_rows])
    held_out_p_worn = held_out.predict_proba(X[test_rows])[:, list(held_out.classes_).index(1)]
    del held_out
    task.progress(0.3, f"training a Random Forest on {len(y):,} samples")
    model = forest()
    started = time.perf_counter()
    model.fit(X, y)
    fit_seconds = time.perf_counter() - started
    task.progress(0.5, "logging the model to MLflow")

    from ..store.tracking import ensure_experiment, log_trusted_model, mlflow_client

    mlflow = mlflow_client()
    trained_at = datetime.now(timezone.utc).isoformat(timespec="seconds")
    with mlflow.start_run(experiment_id=ensure_experiment(MODELS_EXPERIMENT), run_name="quick-random-forest"):
        mlflow.set_tags(
            {
                "cncwear.engine": "scikit-learn RandomForest",
                "cncwear.feature_set": feature_set.key,
                "cncwear.feature_set_name": feature_set.name,
                "cncwear.trained_at": trained_at,
                "cncwear.purpose": "first-start champion",
                "cncwear.selected_by": f"grouped {SELECTION_FOLDS}-fold by experiment accuracy among "
                                       f"{', '.join(QUICK_CANDIDATES)}",
            }
        )
        mlflow.log_params({"n_estimators": QUICK_TREES, "min_samples_leaf": 2, "rows": len(y), "seed": seed})
        mlflow.log_metrics({f"selection_grouped_accuracy_{name}": value for name, value in selection.items()})
        mlflow.log_metric("fit_seconds", fit_seconds)
        mlflow.log_metrics({f"seed_{name}": value for name, value in seed_figures.metrics.items()})
        from ..monitoring.evaluation_data import log_evaluation_predictions

        log_evaluation_predictions(mlflow, "seed", y[test_rows], held_out_p_worn)
        task.progress(0.6, "storing the training reference for drift checks")
        from ..monitoring.reference import build_model_reference, log_reference

        log_reference(mlflow, build_model_reference(
            ActiveModel(REGISTERED_NAME, "local", "scikit-learn RandomForest", feature_set, model), dataset))
        task.progress(0.7, "registering the model")
        logged = log_trusted_model(model, name="model", registered_model_name=REGISTERED_NAME)
    mlflow.MlflowClient().set_registered_model_alias(REGISTERED_NAME, CHAMPION_ALIAS, logged.registered_version)
    audit_promotion(audit_url, REGISTERED_NAME, None, logged.registered_version,
                    f"first start: no champion yet, a quick Random Forest on {feature_set.key} (best grouped k-fold)")
    task.progress(1.0, "model registered")
    return find_champion()


def resolve_champion(dataset: Dataset | Callable[[], Dataset], task: Task | None = None,
                     audit_url: str | None = None) -> ChampionRef:
    """The champion, trained first when the registry has none (first start).

    ``dataset`` may be a callable, so the data is only loaded when training is needed. A first-start
    champion's promotion goes to the audit trail at ``audit_url`` (None: the default store).
    """
    task = ensure_task(task)
    champion = find_champion(task.child(0.0, 0.3))
    if champion is None:
        data = dataset() if callable(dataset) else dataset
        champion = train_quick_champion(data, task.child(0.3, 1.0, "first start: "), audit_url=audit_url)
    task.progress(1.0, "model ready")
    return champion


def ensure_champion(dataset: Dataset, task: Task | None = None, audit_url: str | None = None) -> ActiveModel:
    """In-process: resolve (training on first start) and load the champion."""
    return load_active_model(resolve_champion(dataset, task, audit_url))
