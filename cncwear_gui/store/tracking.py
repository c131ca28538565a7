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
auto-sklearn models are pickles written by cncwear's own job in the AutoML runtime: they are
logged as a pyfunc that drives the prediction sidecar, with the pickle's SHA-256 recorded the
same way; the app checks the hash before a sidecar may unpickle the file.
mlflow is imported lazily (≈1 s), never on the GUI start-up path.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from .. import __version__
from ..data.csvtext import file_sha256
from ..paths import project_root, user_data_dir
from .database import creating_tables

WRITER_TAG = "cncwear.writer"
SHA_TAG = "cncwear.model_sha256"
TYPES_TAG = "cncwear.skops_types"
TRUSTED_TYPE_PREFIXES = ("sklearn.", "numpy.", "scipy.")
FORMAT_TAG = "cncwear.model_format"
MODEL_FILE = "model.skops"
SKOPS = "skops"
AUTOSKLEARN_PICKLE = "autosklearn-pickle"
AUTOSKLEARN_FILE = "model.pkl"


class ModelTrustError(Exception):
    """A model that cncwear did not write itself, or that was changed after it was written."""


def tracking_uri() -> str:
    override = os.environ.get("CNCWEAR_MLFLOW_URI")
    if override:
        return override
    return f"sqlite:///{user_data_dir() / 'mlflow.db'}"


def fresh_local_store() -> bool:
    """The tracking store is the local SQLite file and it does not exist yet (a fresh install):
    no run and no champion can be in it, so nobody needs to wait for it to be created."""
    uri = tracking_uri()
    return uri.startswith("sqlite:///") and not Path(uri.removeprefix("sqlite:///")).exists()


def artifact_root() -> Path:
    root = user_data_dir() / "mlartifacts"
    root.mkdir(parents=True, exist_ok=True)
    return root


def mlflow_client():
    """Import mlflow, point it at our store, and return the module."""
    os.environ.setdefault("MLFLOW_ENABLE_ASYNC_LOGGING", "false")
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    import mlflow

    uri = tracking_uri()
    mlflow.set_tracking_uri(uri)
    if uri not in _opened_stores:  # MLflow migrates a new database on first open: one process at a time
        with creating_tables(uri):
            client = mlflow.MlflowClient(uri)
            client.search_experiments(max_results=1)  # the tracking store's tables
            client.search_registered_models(max_results=1)  # the model registry's, same database
        _opened_stores.add(uri)
    return mlflow


_opened_stores: set[str] = set()


def ensure_experiment(name: str) -> str:
    """The experiment's id. A local store keeps its artifacts under our artifact root; a tracking
    server decides where artifacts go (its --artifacts-destination), so every PC's runs land there
    and not on the disk of the PC that happened to create the experiment."""
    mlflow = mlflow_client()
    existing = mlflow.get_experiment_by_name(name)
    if existing is not None:
        return existing.experiment_id
    from mlflow.exceptions import MlflowException

    central = tracking_uri().startswith(("http://", "https://", "databricks"))
    try:
        if central:
            return mlflow.create_experiment(name)
        return mlflow.create_experiment(name, artifact_location=(artifact_root() / name).as_uri())
    except MlflowException as error:  # another process created it since we looked
        if error.error_code != "RESOURCE_ALREADY_EXISTS":
            raise
        return mlflow.get_experiment_by_name(name).experiment_id


@dataclass(frozen=True)
class LoggedModel:
    model_uri: str
    model_id: str
    sha256: str
    skops_types: tuple[str, ...]
    registered_version: str | None = None  # when logged with registered_model_name


def _trusted_types(data: bytes) -> tuple[str, ...]:
    """The skops types a serialised model needs; ModelTrustError if any is outside the policy."""
    import skops.io

    types = tuple(sorted(skops.io.get_untrusted_types(data=data)))
    foreign = [t for t in types if not t.startswith(TRUSTED_TYPE_PREFIXES)]
    if foreign:
        raise ModelTrustError(f"refusing to log a model with types outside scikit-learn/NumPy/SciPy: {foreign}")
    return types


def log_trusted_model(model, name: str = "model", **log_kwargs) -> LoggedModel:
    """Log a scikit-learn model in the active run under the trust policy above."""
    import skops.io

    mlflow = mlflow_client()
    types = _trusted_types(skops.io.dumps(model))
    # Explicit requirements: otherwise MLflow infers them by loading the model in a fresh
    # interpreter, which costs 5-10 s per logged model.
    log_kwargs.setdefault("pip_requirements", _sklearn_requirements())
    info = mlflow.sklearn.log_model(
        model, name=name, serialization_format="skops", skops_trusted_types=list(types), **log_kwargs
    )
    local = Path(mlflow.artifacts.download_artifacts(artifact_uri=info.model_uri))
    digest = file_sha256(local / MODEL_FILE)
    tags = {WRITER_TAG: f"cncwear {__version__}", SHA_TAG: digest, TYPES_TAG: json.dumps(list(types)), FORMAT_TAG: SKOPS}
    return _record(mlflow, info, name, tags, types)


def _sklearn_requirements() -> list[str]:
    from importlib.metadata import version

    return [f"{package}=={version(package)}" for package in ("scikit-learn", "skops", "numpy", "scipy")]


def log_autosklearn_model(model_path: Path, feature_names: list[str], runtime: dict, name: str = "model", *,
                          pyfunc_code: Path, **log_kwargs) -> LoggedModel:
    """Log an auto-sklearn pickle (written by our job) as a pyfunc served by the sidecar.

    ``pyfunc_code`` is the models-from-code file that serves it (models/sidecar_pyfunc.py; MLflow
    logs a copy). ``runtime`` records the AutoML runtime it needs (Python, auto-sklearn,
    scikit-learn versions); its pinned lock file is logged next to the model.
    """
    mlflow = mlflow_client()
    digest = file_sha256(model_path)
    lock = project_root() / "packaging" / "requirements" / "automl.lock.txt"
    artifacts = {"autosklearn_model": str(model_path)}
    if lock.is_file():
        artifacts["automl_runtime_lock"] = str(lock)
    info = mlflow.pyfunc.log_model(
        name=name,
        python_model=str(pyfunc_code),
        artifacts=artifacts,
        model_config={"feature_names": list(feature_names), "sha256": digest, "automl_runtime": runtime},
        pip_requirements=[f"mlflow=={mlflow.__version__}", "numpy"],
        **log_kwargs,
    )
    tags = {WRITER_TAG: f"cncwear {__version__}", SHA_TAG: digest, TYPES_TAG: "[]", FORMAT_TAG: AUTOSKLEARN_PICKLE,
            "cncwear.automl_runtime": json.dumps(runtime)}
    return _record(mlflow, info, name, tags, ())


def _record(mlflow, info, name: str, tags: dict, types: tuple[str, ...]) -> LoggedModel:
    """Write the trust tags on the logged model and the run."""
    mlflow.set_logged_model_tags(info.model_id, tags)
    mlflow.set_tags({f"{key}.{name}": value for key, value in tags.items()})
    version = getattr(info, "registered_model_version", None)
    return LoggedModel(info.model_uri, info.model_id, tags[SHA_TAG], types, None if version is None else str(version))


@dataclass(frozen=True)
class TrustedModelFile:
    """A model file and what the tracking database recorded about it when cncwear wrote it."""

    model_id: str
    path: str
    sha256: str
    skops_types: tuple[str, ...]
    format: str = SKOPS  # or AUTOSKLEARN_PICKLE: served by the sidecar, never unpickled here


def trusted_model_file(model_id: str) -> TrustedModelFile:
    """Locate a model logged by ``log_trusted_model`` and its recorded hash and types."""
    mlflow = mlflow_client()
    tags = mlflow.get_logged_model(model_id).tags or {}
    if WRITER_TAG not in tags or SHA_TAG not in tags or TYPES_TAG not in tags:
        raise ModelTrustError(f"model {model_id} was not written by cncwear; it is not loaded")
    local = _cached_model_dir(mlflow, model_id)
    file_format = tags.get(FORMAT_TAG, SKOPS)
    path = local / "artifacts" / AUTOSKLEARN_FILE if file_format == AUTOSKLEARN_PICKLE else local / MODEL_FILE
    return TrustedModelFile(model_id, str(path), tags[SHA_TAG], tuple(json.loads(tags[TYPES_TAG])), file_format)


FIRST_START_PREFIX = "first-start-"


def write_first_start_file(model) -> TrustedModelFile:
    """The first-start model as a verified file before MLflow has it (no mlflow import).

    The window shows predictions from it while the same process logs and registers the model;
    its hash and types are recorded by the writer exactly as for a logged model, and the reader
    checks them the same way (``load_verified``). The file is removed once it has been read
    (``discard_first_start_file``); leftovers of an interrupted first start go on a later one.
    """
    import skops.io

    data = skops.io.dumps(model)
    types = _trusted_types(data)
    folder = user_data_dir() / "model-files"
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob(f"{FIRST_START_PREFIX}*"):  # an hour old: not another first start's, still unread
        if time.time() - stale.stat().st_mtime > 3600:
            shutil.rmtree(stale, ignore_errors=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{FIRST_START_PREFIX}", dir=folder))
    (staging / MODEL_FILE).write_bytes(data)
    digest = file_sha256(staging / MODEL_FILE)
    model_id = f"{FIRST_START_PREFIX}{digest[:16]}"
    staging.rename(folder / model_id)
    return TrustedModelFile(model_id, str(folder / model_id / MODEL_FILE), digest, types)


def discard_first_start_file(file: TrustedModelFile) -> None:
    if file.model_id.startswith(FIRST_START_PREFIX):
        shutil.rmtree(Path(file.path).parent, ignore_errors=True)


def _cached_model_dir(mlflow, model_id: str) -> Path:
    """The model's files in the local cache, downloaded once.

    The window, ``cncwear serve`` and the CLI may load the same new champion at the same moment:
    each downloads into its own staging folder and renames it into place, so nobody ever reads
    a file another process is still writing. The hash check in ``verify_file`` still runs on
    every load.
    """
    cache = user_data_dir() / "model-files" / model_id  # not "model-cache": that held files rewritten on every load
    if cache.is_dir():
        return cache
    cache.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{model_id}-", dir=cache.parent))
    try:
        mlflow.artifacts.download_artifacts(artifact_uri=f"models:/{model_id}", dst_path=str(staging))
        staging.rename(cache)
    except OSError:
        if not cache.is_dir():  # not "another process placed it first"
            raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return cache


def verify_file(file: TrustedModelFile) -> Path:
    """The model file, if it is there and unchanged since cncwear wrote it."""
    path = Path(file.path)
    if not path.is_file():
        raise ModelTrustError(f"model {file.model_id} has no {path.name}; it is not loaded")
    if file_sha256(path) != file.sha256:
        raise ModelTrustError(f"model {file.model_id} was changed after cncwear wrote it; it is not loaded")
    return path


def load_verified(file: TrustedModelFile):
    """Deserialise a model file only if it matches what was recorded (no mlflow import here)."""
    import skops.io

    if file.format != SKOPS:
        raise ModelTrustError(f"model {file.model_id} is a {file.format} model; it is served by the AutoML sidecar")
    path = verify_file(file)
    recorded = set(file.skops_types)
    found = set(skops.io.get_untrusted_types(file=path))
    if not found <= recorded or any(not t.startswith(TRUSTED_TYPE_PREFIXES) for t in found):
        raise ModelTrustError(f"model {file.model_id} needs types that were not recorded: {sorted(found - recorded)}")
    return skops.io.load(path, trusted=sorted(found))


def load_trusted_model(model_id: str):
    """Load a model logged by ``log_trusted_model``; raise ModelTrustError for anything else."""
    return load_verified(trusted_model_file(model_id))
