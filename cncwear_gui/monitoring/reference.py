"""The training-data references stored with each model, for drift checks.

Training runs log ``reference_profile.json`` next to the model. A model from before that (or a
quick first-start champion) gets its profile built once from the training data and added to its
run, so every later check finds it there. The per-setup reference (``setup_reference.json``,
``monitoring.setup_drift``) is always added that way, on first use.
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
SETUP_ARTIFACT = "setup_reference.json"
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


def build_setup_reference(model, dataset: Dataset):
    """The per-setup drift reference of ``model``'s labelled training rows (``monitoring.setup_drift``)."""
    from .setup_drift import SetupDriftReference

    return SetupDriftReference.build(dataset.samples(labelled_only=True), model.feature_set)


def reference_for(model, dataset_loader, task: Task | None = None):
    """The model's stored profile; built from the training data and stored when missing."""
    from .drift import ReferenceProfile

    return _stored_or_built(model, ARTIFACT, ReferenceProfile.from_json,
                            lambda: build_model_reference(model, dataset_loader()), "training reference", task)


def setup_reference_for(model, dataset_loader, task: Task | None = None):
    """The model's per-setup drift reference (``SETUP_ARTIFACT`` next to ``reference_profile.json``);
    built from the training data and stored when missing. Stored, not rebuilt on every load: it
    is the training data the model saw, which the data folder may no longer be (build 0.6 s, 6 MB
    JSON for the bundled data, ``benchmarks/setup_drift.py``)."""
    from .setup_drift import SetupDriftReference

    return _stored_or_built(model, SETUP_ARTIFACT, SetupDriftReference.from_json,
                            lambda: build_setup_reference(model, dataset_loader()), "per-setup drift reference", task)


def _stored_or_built(model, artifact: str, from_json, build, what: str, task: Task | None):
    task = ensure_task(task)
    if not model.run_id:
        return build()
    from ..store.tracking import mlflow_client

    mlflow = mlflow_client()
    client = mlflow.MlflowClient()
    task.progress(0.0, f"loading the model's {what}")
    with tempfile.TemporaryDirectory() as scratch:
        try:
            path = client.download_artifacts(model.run_id, artifact, scratch)
            return from_json(json.loads(Path(path).read_text()))
        except (OSError, mlflow.exceptions.MlflowException):
            log.info("run %s has no %s; building it from the training data", model.run_id, artifact)
    task.progress(0.3, f"building the {what} for drift checks")
    reference = build()
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / artifact
        path.write_text(json.dumps(reference.to_json()))
        client.log_artifact(model.run_id, str(path))
    task.progress(1.0, f"{what} ready")
    return reference


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


def setup_drift_of_samples(model, reference, samples):
    """Drift of ``Dataset.samples()``-shaped rows against the per-setup reference: one
    ``DriftReport`` per (experiment, setup), each experiment's rows on their own."""
    from ..data.setup import setups_of_rows
    from .setup_drift import compare

    features = model.feature_set.build(samples)
    probabilities = model.worn_probability(samples)
    setups = setups_of_rows(samples)
    experiments = samples["experiment"].to_numpy()
    flags = samples["quality_flags"].to_numpy()
    phases = samples["phase"].to_numpy()
    reports = {}
    for experiment in dict.fromkeys(experiments.tolist()):
        rows = np.flatnonzero(experiments == experiment)
        reports[experiment] = compare(reference, features.iloc[rows], phases[rows], setups[rows[0]],
                                      probabilities[rows], flags[rows])
    return reports
