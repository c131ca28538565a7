"""The pipeline trains on the floor-labelled runs of the feature store; the degradation trigger reads
the floor's feedback (false alarms and worn tool changes) as labels.

Like tests/pipeline/test_pipeline.py: six real experiments (three worn, three unworn), FLAML with a
5 s budget, through the real command line, MLflow file store and SQLite store in the test's home.
"""

from __future__ import annotations

import json
import shutil

import pytest
from helpers import replay_node, run_cli

from helpers import PIPELINE_SUBSET as SUBSET


def tool_change_on_a_replayed_run(champion, rows, machine: str, reason: str, user: str):
    """Replay ``rows`` on a live machine with the default stores of the test's home (the ones the
    pipeline reads), then record a tool change on its tile: the floor-labelled run it stored."""
    node, run_samples, stores, _ = replay_node({machine: rows}, champion, None)
    try:
        run_samples(len(rows) + 200)
        before = {run.run for run in stores["floor_runs"].floor_runs()}
        node.tool_change(machine, reason, user, "flank wear seen at the tool change")
        run_samples(100)
        node.wait_for_floor_runs(60)
        added = [run for run in stores["floor_runs"].floor_runs() if run.run not in before]
    finally:
        node.close()
        for store in stores.values():
            store.close()
    assert len(added) == 1, added
    return added[0]


@pytest.mark.slow
def test_a_tool_changed_on_the_tile_labels_the_run_and_the_next_pipeline_run_trains_on_it(
        home, subset_dir, bundled_dataset, champion):
    from cncwear_gui.data.setup import setup_of_meta

    experiment = bundled_dataset.experiments[13]  # worn; not among the files the pipeline is given
    samples = bundled_dataset.samples()
    rows = samples[samples["experiment"] == 13].drop(columns=["experiment", "row", "tool_condition", "worn"])
    rows = rows.assign(feedrate=experiment.meta.feedrate, clamp_pressure=experiment.meta.clamp_pressure)
    floor = tool_change_on_a_replayed_run(champion, rows, "mill-1", "worn", "anna")
    assert floor.label == "worn" and floor.machine == "mill-1"
    assert floor.setup == setup_of_meta(experiment.meta).text
    run = floor.run

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
    assert loeo[run]["true"] == "worn" and loeo[run]["rows"] == floor.rows


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
