"""MLflow tracking: where the store lives, and the model trust policy.

Store: ``sqlite:///<user data dir>/mlflow.db`` with artifacts under ``<user data dir>/mlartifacts``
(never ``./mlruns`` in whatever directory the app was started from). ``CNCWEAR_MLFLOW_URI``
(or the settings) points at a central tracking server instead.

Trust policy (MLflow 3 saves scikit-learn models with skops, and its own loader takes the list
of "trusted" types from the model's MLmodel file, i.e. from the artifact itself). cncwear loads
only models it wrote itself:
  1. when logging, it records the SHA-256 of ``model.skops`` and the exact skops types the file
     needs in the tracking database, as tags of the run and of the logged model;
  2. every one of those types must come from scikit-learn, NumPy or SciPy, or logging is refused;
  3. when loading, the file's hash must match the recorded one and the types skops finds in the
     file must be within the recorded list; then ``skops.io.load`` gets exactly that list.
A model from elsewhere, or an artifact changed after logging, is refused with ModelTrustError.
mlflow is imported lazily (≈1 s), never on the GUI start-up path.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from .. import __version__
from ..data.csvtext import file_sha256
from ..paths import user_data_dir

WRITER_TAG = "cncwear.writer"
SHA_TAG = "cncwear.model_sha256"
TYPES_TAG = "cncwear.skops_types"
TRUSTED_TYPE_PREFIXES = ("sklearn.", "numpy.", "scipy.")
MODEL_FILE = "model.skops"


class ModelTrustError(Exception):
    """A model that cncwear did not write itself, or that was changed after it was written."""


def tracking_uri() -> str:
    override = os.environ.get("CNCWEAR_MLFLOW_URI")
    if override:
        return override
    return f"sqlite:///{user_data_dir() / 'mlflow.db'}"


def artifact_root() -> Path:
    root = user_data_dir() / "mlartifacts"
    root.mkdir(parents=True, exist_ok=True)
    return root


def mlflow_client():
    """Import mlflow, point it at our store, and return the module."""
    os.environ.setdefault("MLFLOW_ENABLE_ASYNC_LOGGING", "false")
    import mlflow

    mlflow.set_tracking_uri(tracking_uri())
    return mlflow


def ensure_experiment(name: str) -> str:
    """The experiment's id; created with its artifacts under our artifact root."""
    mlflow = mlflow_client()
    existing = mlflow.get_experiment_by_name(name)
    if existing is not None:
        return existing.experiment_id
    location = (artifact_root() / name).as_uri()
    return mlflow.create_experiment(name, artifact_location=location)


@dataclass(frozen=True)
class LoggedModel:
    model_uri: str
    model_id: str
    sha256: str
    skops_types: tuple[str, ...]
    registered_version: str | None = None  # when logged with registered_model_name


def log_trusted_model(model, name: str = "model", **log_kwargs) -> LoggedModel:
    """Log a scikit-learn model in the active run under the trust policy above."""
    import skops.io

    mlflow = mlflow_client()
    types = tuple(sorted(skops.io.get_untrusted_types(data=skops.io.dumps(model))))
    foreign = [t for t in types if not t.startswith(TRUSTED_TYPE_PREFIXES)]
    if foreign:
        raise ModelTrustError(f"refusing to log a model with types outside scikit-learn/NumPy/SciPy: {foreign}")
    info = mlflow.sklearn.log_model(
        model, name=name, serialization_format="skops", skops_trusted_types=list(types), **log_kwargs
    )
    local = Path(mlflow.artifacts.download_artifacts(artifact_uri=info.model_uri))
    digest = file_sha256(local / MODEL_FILE)
    tags = {WRITER_TAG: f"cncwear {__version__}", SHA_TAG: digest, TYPES_TAG: json.dumps(list(types))}
    mlflow.set_logged_model_tags(info.model_id, tags)
    mlflow.set_tags({f"{key}.{name}": value for key, value in tags.items()})
    version = getattr(info, "registered_model_version", None)
    return LoggedModel(info.model_uri, info.model_id, digest, types, None if version is None else str(version))


@dataclass(frozen=True)
class TrustedModelFile:
    """A model file and what the tracking database recorded about it when cncwear wrote it."""

    model_id: str
    path: str
    sha256: str
    skops_types: tuple[str, ...]


def trusted_model_file(model_id: str) -> TrustedModelFile:
    """Locate a model logged by ``log_trusted_model`` and its recorded hash and types."""
    mlflow = mlflow_client()
    tags = mlflow.get_logged_model(model_id).tags or {}
    if WRITER_TAG not in tags or SHA_TAG not in tags or TYPES_TAG not in tags:
        raise ModelTrustError(f"model {model_id} was not written by cncwear; it is not loaded")
    cache = user_data_dir() / "model-cache" / model_id
    local = Path(mlflow.artifacts.download_artifacts(artifact_uri=f"models:/{model_id}", dst_path=str(cache)))
    return TrustedModelFile(model_id, str(local / MODEL_FILE), tags[SHA_TAG], tuple(json.loads(tags[TYPES_TAG])))


def load_verified(file: TrustedModelFile):
    """Deserialise a model file only if it matches what was recorded (no mlflow import here)."""
    import skops.io

    path = Path(file.path)
    if not path.is_file():
        raise ModelTrustError(f"model {file.model_id} has no {MODEL_FILE}; it is not loaded")
    if file_sha256(path) != file.sha256:
        raise ModelTrustError(f"model {file.model_id} was changed after cncwear wrote it; it is not loaded")
    recorded = set(file.skops_types)
    found = set(skops.io.get_untrusted_types(file=path))
    if not found <= recorded or any(not t.startswith(TRUSTED_TYPE_PREFIXES) for t in found):
        raise ModelTrustError(f"model {file.model_id} needs types that were not recorded: {sorted(found - recorded)}")
    return skops.io.load(path, trusted=sorted(found))


def load_trusted_model(model_id: str):
    """Load a model logged by ``log_trusted_model``; raise ModelTrustError for anything else."""
    return load_verified(trusted_model_file(model_id))
