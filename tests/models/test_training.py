"""Training runs on the real data with FLAML (in-process): MLflow run, registry, promotion gate."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pytest

from cncwear_gui.automl.config import SearchConfig
from cncwear_gui.automl.flaml_engine import run_flaml_search
from cncwear_gui.features.sets import get_feature_set, training_matrix
from cncwear_gui.models.champion import REGISTERED_NAME, find_champion, load_active_model
from cncwear_gui.models.promotion import CHALLENGER_ALIAS, decide, promote, run_gate
from cncwear_gui.models.training import TRAINING_EXPERIMENT, TrainingConfig, train
from cncwear_gui.tasks import Cancelled, Task


def flaml_config(budget: int = 8, **kwargs) -> TrainingConfig:
    return TrainingConfig(engine="flaml", search=SearchConfig(budget_s=budget), **kwargs)


@pytest.fixture(scope="module")
def registry_home(tmp_path_factory, bundled_dataset):
    """A store with one FLAML run, registered and promoted (no champion existed)."""
    home = tmp_path_factory.mktemp("training-home")
    previous = os.environ["CNCWEAR_HOME"]
    os.environ["CNCWEAR_HOME"] = str(home)
    events = []
    try:
        result = train(bundled_dataset, flaml_config(register=True, promote=True), on_event=events.append)
    finally:
        os.environ["CNCWEAR_HOME"] = previous
    return result, events, home


@pytest.fixture
def in_registry_home(registry_home, monkeypatch):
    result, events, home = registry_home
    monkeypatch.setenv("CNCWEAR_HOME", str(home))
    return result, events


def _client():
    from cncwear_gui.store.tracking import mlflow_client

    return mlflow_client().MlflowClient()


def _training_runs(client) -> list:
    experiment = client.get_experiment_by_name(TRAINING_EXPERIMENT)
    return [] if experiment is None else client.search_runs([experiment.experiment_id])


@pytest.mark.slow
def test_flaml_search_streams_the_job_events_and_returns_a_scikit_learn_model(bundled_dataset):
    feature_set = get_feature_set("signals")
    X, y, groups = training_matrix(bundled_dataset.samples(), feature_set)
    seen = []
    result = run_flaml_search(X, y, groups, list(feature_set.columns), SearchConfig(budget_s=6), on_event=seen.append)
    kinds = [e.kind for e in seen]
    assert kinds[0] == "started" and kinds[-1] == "done" and kinds[-2] == "ensemble"
    trials = [e.data for e in seen if e.kind == "trial"]
    assert len(trials) >= 3 and [t["n"] for t in trials] == list(range(1, len(trials) + 1))
    best = [e.data["score"] for e in seen if e.kind == "best"]
    assert best == sorted(best) and best[-1] == max(t["score"] for t in trials)
    assert type(result.estimator).__module__.startswith("sklearn.")
    assert result.leaderboard[0]["model"] == result.best_model and result.leaderboard[0]["rank"] == 1
    assert sum(row["trials"] for row in result.leaderboard) == len(trials)


@pytest.mark.slow


def test_the_tree_ensembles_search_space_tries_only_forests_and_boosting(bundled_dataset):
    feature_set = get_feature_set("signals")
    X, y, groups = training_matrix(bundled_dataset.samples(), feature_set)
    seen = []
    run_flaml_search(X, y, groups, list(feature_set.columns), SearchConfig(budget_s=5, search_space="tree-ensembles"),
                     on_event=seen.append)
    tried = [e.data["model"] for e in seen if e.kind == "trial"]
    assert tried and set(tried) <= {"random_forest", "extra_trees", "hist_gradient_boosting"}, tried


def test_cancel_stops_flaml_and_logs_nothing(bundled_dataset, home):
    task = Task()
    trials = []

    def on_event(event):
        if event.kind == "trial":
            trials.append(event)
            if len(trials) == 3:
                task.cancel()

    with pytest.raises(Cancelled):
        train(bundled_dataset, flaml_config(budget=60, register=True), task=task, on_event=on_event)
    assert len(trials) < 10  # stopped at the next candidate, not at the end of the budget
    client = _client()
    assert _training_runs(client) == []
    assert client.search_model_versions(f"name='{REGISTERED_NAME}'") == []


@pytest.mark.slow
def test_a_run_logs_both_protocols_artifacts_and_a_signed_model(in_registry_home):
    result, events = in_registry_home
    client = _client()
    run = client.get_run(result.run_id)
    assert run.data.params["engine"] == "flaml" and run.data.params["budget_s"] == "8"
    assert run.data.tags["cncwear.feature_set"] == "signals@v1"
    for protocol in ("seed", "loeo"):
        assert run.data.metrics[f"{protocol}_accuracy"] == pytest.approx(result.evaluations[protocol].metrics["accuracy"])
    assert run.data.metrics["loeo_experiments_correct"] == result.evaluations["loeo"].experiments_correct
    # An 8 s search on a busy machine may try only a few weak candidates (0.79 seen in CI); a model
    # that learned nothing scores about 0.5 on this balanced split.
    assert result.evaluations["seed"].metrics["accuracy"] > 0.7
    curve = [m.value for m in client.get_metric_history(result.run_id, "search_best_score")]
    assert len(curve) == result.trials == sum(e.kind == "trial" for e in events) and curve == sorted(curve)
    artifacts = {a.path for a in client.list_artifacts(result.run_id)}
    assert {"leaderboard.csv", "progress.jsonl", "ensemble.json", "per_experiment.json"} <= artifacts
    import mlflow

    model_info = mlflow.models.get_model_info(f"models:/{REGISTERED_NAME}/{result.model_version}")
    assert model_info.signature.inputs.input_names() == list(get_feature_set("signals").columns)


@pytest.mark.slow


def test_the_registered_model_is_champion_and_loads_the_same_in_app_and_pyfunc(in_registry_home, bundled_dataset):
    result, _ = in_registry_home
    assert result.gate.promote and "no champion yet" in result.gate.reason and result.promoted
    champion = find_champion()
    assert champion.version == result.model_version == "1" and champion.engine == "flaml"
    assert _client().get_run(result.run_id).data.tags["cncwear.gate.decision"] == "promote"
    active = load_active_model(champion)
    samples = bundled_dataset.samples().iloc[::500]
    import mlflow

    pyfunc = mlflow.pyfunc.load_model(f"models:/{REGISTERED_NAME}@champion")
    frame = pd.DataFrame(active.feature_set.build(samples).to_numpy(), columns=list(active.feature_set.columns))
    assert np.array_equal(pyfunc.predict(frame), active.estimator.predict(frame.to_numpy()))


@pytest.mark.slow
def test_a_second_run_is_challenger_and_the_gate_follows_the_recorded_metrics(in_registry_home, bundled_dataset):
    first, _ = in_registry_home
    second = train(bundled_dataset, flaml_config(budget=5, register=True, gate_margin=0.01))
    client = _client()
    assert str(client.get_model_version_by_alias(REGISTERED_NAME, CHALLENGER_ALIAS).version) == second.model_version
    assert str(client.get_model_version_by_alias(REGISTERED_NAME, "champion").version) == first.model_version
    ours = second.evaluations["loeo"].metrics["accuracy"]
    theirs = first.evaluations["loeo"].metrics["accuracy"]
    assert second.gate.challenger_value == pytest.approx(ours) and second.gate.champion_value == pytest.approx(theirs)
    assert second.gate.promote == (ours >= theirs - 0.01)
    assert client.get_run(second.run_id).data.tags["cncwear.gate.reason"] == second.gate.reason
    moved = promote(second.gate)
    champion = str(client.get_model_version_by_alias(REGISTERED_NAME, "champion").version)
    assert moved == second.gate.promote and champion == (second.model_version if moved else first.model_version)
    # a stricter gate run later on the same pair gives the verdict its rule says
    again = run_gate(second.model_version, "loeo", "accuracy", margin=0.0)
    if moved:
        assert not again.promote and "already the champion" in again.reason


def test_the_gate_rule():
    assert decide("2", 0.90, "1", 0.91, "loeo", "accuracy", 0.02).promote
    assert not decide("2", 0.88, "1", 0.91, "loeo", "accuracy", 0.02).promote
    refused = decide("2", 0.88, "1", 0.91, "loeo", "accuracy", 0.0)
    assert "worse than the champion" in refused.reason and "0.8800" in refused.reason and "0.9100" in refused.reason
    assert decide("1", 0.5, None, None, "seed", "f1", 0.0).promote
    assert not decide("2", None, "1", 0.9, "loeo", "accuracy", 0.0).promote
    assert not decide("2", 0.99, "1", None, "loeo", "accuracy", 0.0).promote


@pytest.mark.slow
def test_a_champion_without_recorded_metrics_is_evaluated_for_the_gate(bundled_dir, home):
    """A first-start champion records the seed figure only: a gate on loeo evaluates it once and records it."""
    from cncwear_gui.data.dataset import load_dataset
    from cncwear_gui.models.champion import train_quick_champion

    subset = load_dataset([bundled_dir / "train.csv", *(bundled_dir / f"experiment_{n:02d}.csv" for n in (1, 2, 3, 6, 8, 9))])
    quick = train_quick_champion(subset)
    client = _client()
    recorded = client.get_run(quick.run_id).data.metrics
    assert 0.5 < recorded["seed_accuracy"] <= 1.0 and "loeo_accuracy" not in recorded
    result = train(subset, flaml_config(budget=5, register=True, gate_protocol="loeo"))
    evaluated = client.get_run(quick.run_id).data.metrics["loeo_accuracy"]
    assert result.gate.champion_version == quick.version and result.gate.champion_value == pytest.approx(evaluated)
    assert 0.0 < evaluated <= 1.0


def test_bad_training_input_is_refused_before_anything_starts(bundled_dataset, home):
    with pytest.raises(ValueError, match="at least 5 s"):
        train(bundled_dataset, flaml_config(budget=2))
    with pytest.raises(ValueError, match="gate compares loeo"):
        train(bundled_dataset, flaml_config(protocols=("seed",), register=True))
    with pytest.raises(ValueError, match="engine must be one of"):
        train(bundled_dataset, TrainingConfig(engine="h2o"))
    with pytest.raises(ValueError, match="search space must be one of all, tree-ensembles"):
        train(bundled_dataset, TrainingConfig(engine="flaml", search=SearchConfig(search_space="linear")))
    assert _training_runs(_client()) == []


@pytest.mark.slow
def test_cancel_while_the_run_is_written_completes_the_run_instead_of_leaving_half_of_it(bundled_dataset, home):
    task = Task(lambda fraction, message: task.cancel() if "logging the model" in message else None)
    result = train(bundled_dataset, flaml_config(budget=5, protocols=("seed",), gate_protocol="seed", register=True),
                   task=task)
    assert task.cancelled and result.run_id and result.model_version == "1" and result.gate is not None
    client = _client()
    [run] = _training_runs(client)
    assert run.info.status == "FINISHED" and run.data.tags["cncwear.gate.decision"] == "promote"
    assert str(client.get_model_version_by_alias(REGISTERED_NAME, CHALLENGER_ALIAS).version) == "1"
