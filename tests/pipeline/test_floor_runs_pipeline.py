"""The pipeline trains on the floor-labelled runs of the feature store; the degradation trigger reads
the floor's feedback (false alarms and worn tool changes) as labels.

Like tests/pipeline/test_pipeline.py: six real experiments (three worn, three unworn), FLAML with a
5 s budget, through the real command line, MLflow file store and SQLite store in the test's home.
"""

from __future__ import annotations

import json
import shutil

import pytest
from helpers import run_cli

from helpers import PIPELINE_SUBSET as SUBSET


@pytest.mark.slow
def test_the_next_pipeline_run_trains_on_a_stored_floor_run(home, subset_dir, bundled_dataset):
    from cncwear_gui.data.setup import setup_of_meta
    from cncwear_gui.store.feature_store import FeatureStore

    experiment = bundled_dataset.experiments[13]  # not among the files the pipeline is given
    samples = bundled_dataset.samples()
    rows = samples[samples["experiment"] == 13].drop(columns=["experiment", "row", "tool_condition", "worn"])
    label = experiment.meta.tool_condition
    store = FeatureStore()  # the default store in the test's home: the one the pipeline reads
    run = store.add_floor_run("mill-1", setup_of_meta(experiment.meta).text, "1", label, rows,
                              "worn" if label == "worn" else "false alarm", "anna")
    store.close()

    done = run_cli("pipeline", "run", "--data", str(subset_dir), "--budget", "5", "--json",
                   env={"CNCWEAR_HOME": str(home)})
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout[done.stdout.index("{"):])
    assert result["status"] in ("promoted", "kept"), result
    steps = {step["name"]: step["detail"] for step in result["steps"]}
    assert steps["validate"]["experiments"] == len(SUBSET) + 1 and steps["validate"]["floor_runs"] == 1
    assert steps["features"]["floor_runs"] == [run] and steps["features"]["experiments"] == len(SUBSET) + 1
    assert result["lineage"]["floor_runs"] == 1

    from cncwear_gui.store.tracking import mlflow_client

    client = mlflow_client().MlflowClient()
    pipeline_run = client.get_run(result["pipeline_run_id"])
    assert pipeline_run.data.tags["cncwear.floor_runs"] == "1"
    assert pipeline_run.data.tags["cncwear.lineage.floor_runs"] == "1"
    training_run = client.get_run(result["training_run_id"])
    assert training_run.data.tags["cncwear.floor_runs"] == "1" and training_run.data.params["floor_runs"] == "1"
    # leave-one-experiment-out held the floor run out on its own, with the floor's label
    per_experiment = client.download_artifacts(result["training_run_id"], "per_experiment.json", str(home))
    loeo = {v["experiment"]: v for v in json.loads(open(per_experiment).read())["loeo"]}
    assert sorted(loeo) == [*SUBSET, run]
    assert loeo[run]["true"] == label and loeo[run]["rows"] == experiment.rows


def test_the_degradation_trigger_counts_false_alarms_and_worn_tool_changes(home):
    from cncwear_gui.pipeline import triggers
    from cncwear_gui.store.pipeline_history import PipelineHistory

    history = PipelineHistory()
    for _ in range(12):  # the model called the tool worn; the operator marked a false alarm
        history.add_feedback("mill-1", "3", True, False, "false alarm")
    for _ in range(8):  # a tool changed as worn the model had called fine
        history.add_feedback("mill-1", "3", False, True, "tool change: worn")
    check = triggers.degradation(history, "3", threshold=0.8, min_labels=20)
    assert check.fires is True and check.context == {"accuracy": 0.0, "labels": 20, "threshold": 0.8,
                                                     "model_version": "3"}
    for _ in range(80):  # worn tool changes the model had called worn: right
        history.add_feedback("mill-1", "3", True, True, "tool change: worn")
    check = triggers.degradation(history, "3", threshold=0.8, min_labels=20)
    assert check.fires is False and check.context["accuracy"] == 1.0 and check.context["labels"] == 50
    history.close()


def test_cncwear_train_with_floor_runs_refuses_a_file_numbered_like_a_floor_run(home, tmp_path, bundled_dir):
    shutil.copy(bundled_dir / "experiment_05.csv", tmp_path / "experiment_100001.csv")
    done = run_cli("train", "--floor-runs", "--data", str(tmp_path / "experiment_100001.csv"), "--budget", "5",
                   env={"CNCWEAR_HOME": str(home)})
    assert done.returncode == 2, done.stderr[-2000:]
    assert "--floor-runs: experiment number(s) [100001] of the training data are in the floor-labelled runs' range" \
        in done.stderr
