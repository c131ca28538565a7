"""The training-data reference stored with each model, for drift checks.

Training runs log ``reference_profile.json`` next to the model. A model from before that (or a
quick first-start champion) gets its profile built once from the training data and added to its
run, so every later check finds it there.
"""

from __future__ import annotations

import json
import logging
import tempfile
from pathlib import Path

import numpy as np

from ..data.dataset import Dataset
from ..tasks import Task, ensure_task

log = logging.getLogger(__name__)
ARTIFACT = "reference_profile.json"
REFERENCE_ROWS = 20_000  # enough for decile bins and KS, keeps the profile quick to build


def build_model_reference(model, dataset: Dataset, seed: int = 0):
    """The profile of ``model``'s labelled training rows: features, its P(worn) and the flags."""
    from .drift import build_reference

    samples = dataset.samples(labelled_only=True)
    if len(samples) > REFERENCE_ROWS:
        samples = samples.sample(REFERENCE_ROWS, random_state=seed).sort_index()
    features = model.feature_set.build(samples)
    return build_reference(features, model.feature_set.key, model.worn_probability(samples),
                           samples["quality_flags"].to_numpy())


def log_reference(mlflow, profile) -> None:
    """Log the profile to the active MLflow run."""
    mlflow.log_dict(profile.to_json(), ARTIFACT)


def reference_for(model, dataset_loader, task: Task | None = None):
    """The model's stored profile; built from the training data and stored when missing."""
    from .drift import ReferenceProfile

    task = ensure_task(task)
    if not model.run_id:
        return build_model_reference(model, dataset_loader())
    from ..store.tracking import mlflow_client

    mlflow = mlflow_client()
    client = mlflow.MlflowClient()
    task.progress(0.0, "loading the model's training reference")
    with tempfile.TemporaryDirectory() as scratch:
        try:
            path = client.download_artifacts(model.run_id, ARTIFACT, scratch)
            return ReferenceProfile.from_json(json.loads(Path(path).read_text()))
        except (OSError, mlflow.exceptions.MlflowException):
            log.info("run %s has no %s; building it from the training data", model.run_id, ARTIFACT)
    task.progress(0.3, "building the training reference for drift checks")
    profile = build_model_reference(model, dataset_loader())
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / ARTIFACT
        path.write_text(json.dumps(profile.to_json()))
        client.log_artifact(model.run_id, str(path))
    task.progress(1.0, "training reference ready")
    return profile


def model_evaluation(run_id: str) -> dict[tuple[str, str], float]:
    """The run's recorded figures as {(protocol, metric): value}, e.g. ("loeo", "accuracy")."""
    if not run_id:
        return {}
    from ..store.tracking import mlflow_client

    metrics = mlflow_client().MlflowClient().get_run(run_id).data.metrics
    figures = {}
    for key, value in metrics.items():
        protocol, _, metric = key.partition("_")
        if protocol in ("seed", "loeo") and metric and np.isfinite(value):
            figures[(protocol, metric)] = float(value)
    return figures


def drift_of_samples(model, reference, samples):
    """Drift of ``Dataset.samples()``-shaped rows against the model's training reference."""
    from .drift import compute_drift

    return compute_drift(reference, model.feature_set.build(samples), model.worn_probability(samples),
                         samples["quality_flags"].to_numpy())
