"""The registry as the Training view and ``cncwear registry`` show it: champion and challenger
with the metrics their runs recorded, and promoting the challenger through the gate."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

from ..tasks import Task, ensure_task

if TYPE_CHECKING:
    from ..data.dataset import Dataset

GATE_METRIC = "accuracy"


@dataclass(frozen=True)
class RegisteredModel:
    """A registry version: who it is and what its run recorded."""

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

    def to_json(self) -> dict:
        return {"champion": self.champion and asdict(self.champion), "challenger": self.challenger and asdict(self.challenger)}

    @classmethod
    def from_json(cls, data: dict) -> RegistryStatus:
        def model(entry: dict | None) -> RegisteredModel | None:
            return None if entry is None else RegisteredModel(**entry)

        return cls(model(data["champion"]), model(data["challenger"]))


@dataclass
class PromotionOutcome:
    decision: object  # promotion.GateDecision
    promoted: bool
    registry: RegistryStatus


def registry_status(task: Task | None = None) -> RegistryStatus:
    """The champion and the challenger of the registry, with their recorded metrics (no download)."""
    from ..store.tracking import mlflow_client
    from .champion import CHAMPION_ALIAS, REGISTERED_NAME
    from .promotion import CHALLENGER_ALIAS

    task = ensure_task(task)
    task.progress(0.0, "reading the model registry")
    mlflow = mlflow_client()
    client = mlflow.MlflowClient()

    def summary(alias: str) -> RegisteredModel | None:
        try:
            version = client.get_model_version_by_alias(REGISTERED_NAME, alias)
        except mlflow.exceptions.MlflowException:
            return None
        run = client.get_run(version.run_id)
        metrics = {k: float(v) for k, v in run.data.metrics.items() if k.startswith(("seed_", "loeo_"))}
        tags = run.data.tags
        return RegisteredModel(str(version.version), tags.get("cncwear.engine") or "scikit-learn",
                               tags.get("cncwear.trained_at", ""), metrics)

    status = RegistryStatus(summary(CHAMPION_ALIAS), summary(CHALLENGER_ALIAS))
    task.progress(1.0, "registry read")
    return status


def promote_challenger(dataset: Dataset, protocol: str, metric: str, margin: float, task: Task | None = None,
                       audit_url: str | None = None) -> PromotionOutcome:
    """Run the gate for the registered challenger; move the champion alias when it passes."""
    from .promotion import promote, run_gate

    task = ensure_task(task)
    status = registry_status(task.child(0.0, 0.05))
    if status.challenger is None:
        raise ValueError("no challenger is registered: train with 'Register as challenger' first")
    decision = run_gate(status.challenger.version, protocol, metric, margin, dataset=dataset, task=task.child(0.05, 0.95))
    promoted = promote(decision, audit_url)
    return PromotionOutcome(decision, promoted, registry_status())
