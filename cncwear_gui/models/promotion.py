"""Champion and challenger in the MLflow registry, and the promotion gate between them.

A newly trained, registered model becomes the ``challenger``. It replaces the ``champion`` only
when it is not worse on the configured protocol and metric: challenger >= champion - margin.
Every decision (and why) is written to the challenger's run as tags and metrics, whether the
model was promoted or not. Metrics are read from the runs (``<protocol>_<metric>``); a champion
without the protocol's figure (a first-start model on data other than the bundled dataset, whose
LOEO figure is recorded) is evaluated once under the protocol and the figure is added to its run.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from ..data.dataset import Dataset
from ..store.audit_trail import audit_promotion
from ..tasks import Task, ensure_task
from .champion import CHAMPION_ALIAS, REGISTERED_NAME

CHALLENGER_ALIAS = "challenger"
DEFAULT_PROTOCOL = "loeo"
DEFAULT_METRIC = "accuracy"


@dataclass(frozen=True)
class GateDecision:
    promote: bool
    reason: str
    protocol: str
    metric: str
    margin: float
    challenger_version: str
    challenger_value: float | None
    champion_version: str | None
    champion_value: float | None

    def to_json(self) -> dict:
        return {"decision": "promote" if self.promote else "keep champion", **asdict(self)}

    @classmethod
    def from_json(cls, data: dict) -> GateDecision:
        return cls(**{key: value for key, value in data.items() if key != "decision"})


def decide(challenger_version: str, challenger_value: float | None, champion_version: str | None,
           champion_value: float | None, protocol: str, metric: str, margin: float) -> GateDecision:
    """The gate itself: pure, so its rule is easy to read and to test."""
    label = f"{protocol} {metric}"

    def verdict(promote: bool, reason: str) -> GateDecision:
        return GateDecision(promote, reason, protocol, metric, margin, challenger_version, challenger_value,
                            champion_version, champion_value)

    if challenger_value is None:
        return verdict(False, f"v{challenger_version} has no {label} on record: it was not evaluated under {protocol}")
    if champion_version is None:
        return verdict(True, f"there is no champion yet; v{challenger_version} ({label} {challenger_value:.4f}) becomes it")
    if champion_version == challenger_version:
        return verdict(False, f"v{challenger_version} is already the champion")
    if champion_value is None:
        return verdict(False, f"the champion v{champion_version} has no {label} to compare with")
    difference = challenger_value - champion_value
    comparison = (f"{label}: challenger v{challenger_version} {challenger_value:.4f} vs champion "
                  f"v{champion_version} {champion_value:.4f} ({difference:+.4f}, margin {margin:.4f})")
    if challenger_value >= champion_value - margin:
        return verdict(True, f"not worse than the champion — {comparison}")
    return verdict(False, f"worse than the champion — {comparison}")


def run_gate(challenger_version: str, protocol: str = DEFAULT_PROTOCOL, metric: str = DEFAULT_METRIC,
             margin: float = 0.0, dataset: Dataset | None = None, task: Task | None = None) -> GateDecision:
    """Compare a registered version with the champion and log the decision to its run."""
    task = ensure_task(task)
    from ..store.tracking import mlflow_client

    client = mlflow_client().MlflowClient()
    challenger = client.get_model_version(REGISTERED_NAME, challenger_version)
    champion = _alias_version(client, CHAMPION_ALIAS)
    champion_value = None
    if champion is not None:
        champion_value = _recorded(client, champion.run_id, protocol, metric)
        if champion_value is None and dataset is not None:
            champion_value = _evaluate_champion(client, champion, protocol, metric, dataset, task)
    decision = decide(
        str(challenger.version), _recorded(client, challenger.run_id, protocol, metric),
        None if champion is None else str(champion.version), champion_value, protocol, metric, margin,
    )
    _log_decision(client, challenger.run_id, decision)
    return decision


def promote(decision: GateDecision, audit_url: str | None = None) -> bool:
    """Move the champion alias when the gate said so; returns whether it moved."""
    if not decision.promote:
        return False
    from ..store.tracking import mlflow_client

    client = mlflow_client().MlflowClient()
    client.set_registered_model_alias(REGISTERED_NAME, CHAMPION_ALIAS, decision.challenger_version)
    challenger = _alias_version(client, CHALLENGER_ALIAS)
    if challenger is not None and str(challenger.version) == decision.challenger_version:
        client.delete_registered_model_alias(REGISTERED_NAME, CHALLENGER_ALIAS)
    run_id = client.get_model_version(REGISTERED_NAME, decision.challenger_version).run_id
    client.set_tag(run_id, "cncwear.gate.promoted", "true")
    audit_promotion(audit_url, REGISTERED_NAME, decision.champion_version, decision.challenger_version, decision.reason)
    return True


def mark_challenger(version: str) -> None:
    from ..store.tracking import mlflow_client

    mlflow_client().MlflowClient().set_registered_model_alias(REGISTERED_NAME, CHALLENGER_ALIAS, version)


def _alias_version(client, alias: str):
    from mlflow.exceptions import MlflowException

    try:
        return client.get_model_version_by_alias(REGISTERED_NAME, alias)
    except MlflowException:
        return None


def _recorded(client, run_id: str, protocol: str, metric: str) -> float | None:
    value = client.get_run(run_id).data.metrics.get(f"{protocol}_{metric}")
    return None if value is None else float(value)


def _evaluate_champion(client, champion, protocol: str, metric: str, dataset: Dataset, task: Task) -> float | None:
    """Evaluate a scikit-learn champion's recipe under the protocol; record the figure on its run."""
    from sklearn.base import clone

    from ..features.sets import training_matrix
    from .champion import find_champion, load_active_model
    from .evaluation import EVALUATORS

    ref = find_champion()
    if ref is None or ref.model.format != "skops":
        return None
    active = load_active_model(ref)
    X, y, groups = training_matrix(dataset.samples(), active.feature_set)
    evaluation = EVALUATORS[protocol](clone(active.estimator), X, y, groups, task=task.child(0.0, 1.0, "champion: "),
                                      **({"refit": False} if protocol == "loeo" else {}))
    for name, value in evaluation.metrics.items():
        client.log_metric(champion.run_id, f"{protocol}_{name}", value)
    return evaluation.metrics.get(metric)


def _log_decision(client, run_id: str, decision: GateDecision) -> None:
    client.set_tag(run_id, "cncwear.gate.decision", "promote" if decision.promote else "keep champion")
    client.set_tag(run_id, "cncwear.gate.reason", decision.reason)
    client.set_tag(run_id, "cncwear.gate.rule", f"{decision.protocol}_{decision.metric} >= champion - {decision.margin}")
    if decision.champion_version is not None:
        client.set_tag(run_id, "cncwear.gate.champion_version", decision.champion_version)
    if decision.champion_value is not None:
        client.log_metric(run_id, "gate_champion_value", decision.champion_value)
