"""The Training view's work, run in its TaskRunners (worker threads), never on the GUI thread.

Each function imports the core lazily: mlflow (≈1 s, holds the GIL), scikit-learn and FLAML load
in a worker, not when the app starts. Results are plain dataclasses the view only reads.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:
    from ...data.dataset import Dataset
    from ...tasks import Task

GATE_METRIC = "accuracy"
BASELINES = ("dt", "rf")  # the talk's Decision Tree and Random Forest


@dataclass(frozen=True)
class RegisteredModel:
    """A registry version as the view shows it: who it is and what its run recorded."""

    version: str
    engine: str
    trained_at: str
    metrics: dict[str, float]  # the run's seed_* / loeo_* metrics

    def value(self, protocol: str, metric: str = GATE_METRIC) -> float | None:
        return self.metrics.get(f"{protocol}_{metric}")


@dataclass(frozen=True)
class RegistryStatus:
    champion: RegisteredModel | None
    challenger: RegisteredModel | None


@dataclass
class TrainingOutcome:
    result: object  # models.training.TrainingResult
    rows: list  # the run as benchmark.BenchmarkRow, one per protocol (the comparison table's AutoML row)
    registry: RegistryStatus


@dataclass
class PromotionOutcome:
    decision: object  # models.promotion.GateDecision
    promoted: bool
    registry: RegistryStatus


def train_in_worker(dataset: Dataset, choices: dict, task: Task, on_event: Callable | None = None) -> TrainingOutcome:
    """One training run from the view's choices (engine, budget_s, register, gate_protocol, gate_margin)."""
    from ...automl.config import SearchConfig
    from ...models.benchmark import automl_rows
    from ...models.training import TrainingConfig, train

    config = TrainingConfig(
        engine=choices["engine"],
        search=SearchConfig(budget_s=int(choices["budget_s"])),
        register=bool(choices["register"]),
        gate_protocol=choices["gate_protocol"],
        gate_metric=GATE_METRIC,
        gate_margin=float(choices["gate_margin"]),
    )
    result = train(dataset, config, task=task, on_event=on_event)
    rows = automl_rows([], result, list(result.evaluations))
    return TrainingOutcome(result, rows, registry_status())  # the run is logged: no cancel from here on


def registry_status(task: Task | None = None) -> RegistryStatus:
    """The champion and the challenger of the registry, with their recorded metrics."""
    from ...models.champion import CHAMPION_ALIAS, find_champion
    from ...models.promotion import CHALLENGER_ALIAS
    from ...store.tracking import mlflow_client
    from ...tasks import ensure_task

    task = ensure_task(task)
    client = mlflow_client().MlflowClient()

    def summary(ref) -> RegisteredModel | None:
        if ref is None:
            return None
        recorded = client.get_run(ref.run_id).data.metrics
        metrics = {k: float(v) for k, v in recorded.items() if k.startswith(("seed_", "loeo_"))}
        return RegisteredModel(ref.version, ref.engine or "scikit-learn", ref.trained_at, metrics)

    champion = summary(find_champion(task.child(0.0, 0.5), alias=CHAMPION_ALIAS))
    challenger = summary(find_champion(task.child(0.5, 1.0), alias=CHALLENGER_ALIAS))
    return RegistryStatus(champion, challenger)


def promote_in_worker(dataset: Dataset, protocol: str, margin: float, task: Task) -> PromotionOutcome:
    """Run the gate for the registered challenger; move the champion alias when it passes."""
    from ...models.promotion import promote, run_gate

    status = registry_status(task.child(0.0, 0.05))
    if status.challenger is None:
        raise ValueError("no challenger is registered: train with 'Register as challenger' first")
    decision = run_gate(status.challenger.version, protocol, GATE_METRIC, margin, dataset=dataset,
                        task=task.child(0.05, 0.95))
    promoted = promote(decision)
    return PromotionOutcome(decision, promoted, registry_status())


def baselines_in_worker(dataset: Dataset, feature_set: str, task: Task) -> list:
    """The talk's Decision Tree and Random Forest on the run's feature set, seed and LOEO (not logged)."""
    from ...features.sets import get_feature_set
    from ...models.benchmark import run_benchmark
    from ...models.evaluation import PROTOCOLS

    features = get_feature_set(feature_set.split("@")[0])
    return run_benchmark(dataset, features, list(PROTOCOLS), models=list(BASELINES), log_to_mlflow=False, task=task)


def start_mlflow_ui(task: Task) -> str:
    """Start (or reuse) the local MLflow UI; blocks until it answers, returns its URL."""
    from ...store.mlflow_ui import shared_ui

    task.progress(0.0, "starting the MLflow UI")
    return shared_ui().start(timeout=60)


def probe_automl_runtime(task: Task):  # the task is unused: the probe is one short child process
    """Import auto-sklearn in its runtime (a child process) and report its versions."""
    from ...automl.runtime import check_runtime

    return check_runtime()  # quietly: a background check, not worth the status bar
