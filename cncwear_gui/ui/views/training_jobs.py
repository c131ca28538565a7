"""The Training view's work, run in its TaskRunners (worker threads), never on the GUI thread.

Everything that touches MLflow or trains runs in a ``cncwear`` child process (training, reading
the registry, the promotion gate): importing mlflow or serialising a model holds the GIL for
hundreds of milliseconds, which would freeze the GUI. The baselines (scikit-learn fits, which
release the GIL) and the feature set's leakage check run in worker threads. Results are plain
dataclasses the view only reads.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

from ...models.registry import GATE_METRIC, PromotionOutcome, RegistryStatus

if TYPE_CHECKING:
    from ...data.dataset import Dataset
    from ...features.leakage import LeakageReport
    from ...tasks import Task

# The talk's Decision Tree and Random Forest, and Gradient Boosting (the strongest under LOEO).
# The names repeat models.baselines.BASELINE_NAMES so that scikit-learn stays off the start-up path.
BASELINES = ("dt", "rf", "hgb")
BASELINE_LABELS = {"dt": "Decision Tree", "rf": "Random Forest", "hgb": "Gradient Boosting"}
BASELINE_PROTOCOLS = ("loeo", "seed")  # the honest figure first
CANCEL_GRACE_S = 30.0  # a run being logged to MLflow finishes rather than being cut in half


@dataclass
class TrainingOutcome:
    result: object  # models.training.TrainingResult
    rows: list  # the run as benchmark.BenchmarkRow, one per protocol (the comparison table's AutoML row)
    registry: RegistryStatus


def train_in_worker(dataset: Dataset, choices: dict, task: Task, on_event: Callable | None = None) -> TrainingOutcome:
    """One training run from the view's choices (engine, budget_s, feature_set, register,
    gate_protocol, gate_margin).

    It runs as a ``cncwear train --progress-json`` child on the same files: the search, the
    evaluation and the MLflow logging hold the GIL in long bursts, which would freeze the GUI.
    Cancel asks the child to stop (it kills an auto-sklearn job's process group; a run already
    being logged completes, so MLflow never holds half a run).
    """
    from ...automl.jobs import JobEvent
    from ...child_process import CliProcessError, run_cli_process
    from ...models.benchmark import automl_rows
    from ...models.training import TrainingResult

    arguments = train_arguments(dataset, choices)
    events: list[JobEvent] = []
    finished: list[dict] = []

    def on_message(message: dict) -> None:
        if "event" in message:
            event = JobEvent(message.pop("event"), message)
            events.append(event)
            if on_event is not None:
                on_event(event)
        elif "training" in message:
            finished.append(message["training"])

    from ...monitoring.metrics import app_metrics
    from ...tasks import Cancelled

    runs = app_metrics().training_runs
    try:
        run_cli_process(arguments, on_message, task, grace_s=CANCEL_GRACE_S)
        if not finished:
            raise CliProcessError("cncwear train exited without a result")
    except Cancelled:
        runs.labels(choices["engine"], "cancelled").inc()
        raise
    except Exception:
        runs.labels(choices["engine"], "failed").inc()
        raise
    runs.labels(choices["engine"], "succeeded").inc()
    result = TrainingResult.from_json(finished[-1], events)
    rows = automl_rows([], result, list(result.evaluations))
    return TrainingOutcome(result, rows, registry_status())


def train_arguments(dataset: Dataset, choices: dict) -> list[str]:
    """The ``cncwear train`` arguments for the view's choices; the child builds its TrainingConfig
    from them (the feature set included)."""
    arguments = ["train", "--progress-json", "--engine", choices["engine"], "--budget", str(int(choices["budget_s"])),
                 "--feature-set", choices["feature_set"],
                 "--protocol", choices["gate_protocol"], "--metric", GATE_METRIC,
                 "--margin", str(float(choices["gate_margin"])), "--data", *dataset_files(dataset)]
    if choices["register"]:
        arguments.append("--register")
    return arguments


def dataset_files(dataset: Dataset) -> list[str]:
    """The files the dataset was loaded from, so a child process loads exactly the same data."""
    return [str(report.path) for report in dataset.reports if report.usable]


def registry_status(task: Task | None = None) -> RegistryStatus:
    """The champion and the challenger with their recorded metrics, read by a ``cncwear registry``
    child (mlflow never loads into the GUI process)."""
    from ...child_process import run_cli_process
    from ...models.registry import RegistryStatus

    found: list[RegistryStatus] = []
    run_cli_process(["registry", "--progress-json"],
                    lambda message: "registry" in message and found.append(RegistryStatus.from_json(message["registry"])),
                    task)
    return found[-1]


def promote_in_worker(dataset: Dataset, protocol: str, margin: float, task: Task) -> PromotionOutcome:
    """The gate for the registered challenger, in a ``cncwear promote`` child; it moves the champion
    alias when the gate passes."""
    from ...child_process import run_cli_process
    from ...models.promotion import GateDecision
    from ...models.registry import PromotionOutcome, RegistryStatus

    found: list[PromotionOutcome] = []

    def on_message(message: dict) -> None:
        if "promotion" in message:
            verdict = message["promotion"]
            found.append(PromotionOutcome(GateDecision.from_json(verdict["decision"]), verdict["promoted"],
                                          RegistryStatus.from_json(verdict["registry"])))

    run_cli_process(["promote", "--progress-json", "--protocol", protocol, "--metric", GATE_METRIC,
                     "--margin", str(margin), "--data", *dataset_files(dataset)], on_message, task, grace_s=CANCEL_GRACE_S)
    return found[-1]


def baselines_in_worker(dataset: Dataset, feature_set: str, task: Task) -> list:
    """The baselines (Decision Tree, Random Forest, Gradient Boosting) on the run's feature set,
    LOEO then seed (not logged)."""
    from ...features.sets import get_feature_set
    from ...models.benchmark import run_benchmark

    features = get_feature_set(feature_set)  # a name or its key (name@vN)
    return run_benchmark(dataset, features, list(BASELINE_PROTOCOLS), models=list(BASELINES), log_to_mlflow=False,
                         task=task)


def leakage_in_worker(dataset: Dataset, feature_set: str, task: Task) -> tuple[Dataset, str, LeakageReport]:
    """How well the feature set identifies the experiment on the dataset's labelled rows (a few
    seconds of forest fits). Returned with what it was computed on, so the view caches it there."""
    from ...features.leakage import feature_set_leakage
    from ...features.sets import get_feature_set

    report = feature_set_leakage(dataset.samples(), get_feature_set(feature_set), per_feature=True, task=task)
    return dataset, feature_set, report


def start_mlflow_ui(task: Task) -> str:
    """Start (or reuse) the local MLflow UI; blocks until it answers, returns its URL."""
    from ...store.mlflow_ui import shared_ui

    task.progress(0.0, "starting the MLflow UI")
    return shared_ui().start(timeout=60)


def probe_automl_runtime(task: Task):  # the task is unused: the probe is one short child process
    """Import auto-sklearn in its runtime (a child process) and report its versions."""
    from ...automl.runtime import check_runtime

    return check_runtime()  # quietly: a background check, not worth the status bar


def paired_in_worker(dataset: Dataset, task: Task) -> dict:
    """The paired protocol's report (``PairedReport.to_json()``) from a ``cncwear benchmark
    --protocol paired`` child on the same files: it loads the champion (mlflow) and says whether
    the champion was trained on the pairs' runs."""
    from ...child_process import CliProcessError, run_cli_process

    found: list[dict] = []
    run_cli_process(["benchmark", "--protocol", "paired", "--progress-json", "--data", *dataset_files(dataset)],
                    lambda message: "paired" in message and found.append(message["paired"]), task)
    if not found:
        raise CliProcessError("cncwear benchmark --protocol paired exited without a report")
    return found[-1]
