"""The automated pipeline and its triggers, through the real command line, MLflow store and history.

The runs train on six real experiments (three worn, three unworn) so each takes well under a
minute; drifted data is a real experiment with its X1/Y1 currents and powers scaled by 1.5.
"""

from __future__ import annotations

import json
import shutil
from datetime import timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from helpers import run_cli

from helpers import PIPELINE_SUBSET as SUBSET
SCALED = ("X1_CurrentFeedback", "X1_OutputCurrent", "X1_OutputPower", "Y1_CurrentFeedback", "Y1_OutputCurrent", "Y1_OutputPower")


@pytest.fixture(scope="module")
def drifted_file(tmp_path_factory, bundled_dir):
    """Experiment 6 with its train.csv row (so its setup is known), the X1/Y1 loads scaled."""
    frame = pd.read_csv(bundled_dir / "experiment_06.csv")
    frame[list(SCALED)] = frame[list(SCALED)] * 1.5
    folder = tmp_path_factory.mktemp("drifted")
    shutil.copy(bundled_dir / "train.csv", folder)
    path = folder / "experiment_06.csv"
    frame.to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def like_training_file(tmp_path_factory, subset_dir):
    """A training run again, with its train.csv row: a new file of a known setup, like its training runs."""
    folder = tmp_path_factory.mktemp("again")
    shutil.copy(subset_dir / "train.csv", folder)
    return Path(shutil.copy(subset_dir / "experiment_08.csv", folder))


def _env(home):
    return {"CNCWEAR_HOME": str(home)}


def _result(done) -> dict:
    return json.loads(done.stdout[done.stdout.index("{"):])


def _champion_version(home) -> str | None:
    from cncwear_gui.models.registry import registry_status

    champion = registry_status().champion  # in-process: the test's CNCWEAR_HOME is this process's too
    return champion and champion.version


@pytest.mark.slow
def test_drift_trigger_runs_the_pipeline_end_to_end_and_records_why(home, subset_dir, drifted_file):
    done = run_cli("pipeline", "run", "--trigger", "drift", "--new-data", str(drifted_file), "--data", str(subset_dir),
                   "--budget", "5", "--json", env=_env(home))
    assert done.returncode == 0, done.stderr[-3000:]
    result = _result(done)
    assert result["fired"] is True and result["trigger"] == "drift"
    assert result["status"] in ("promoted", "kept")
    assert any(column in result["reason"] for column in SCALED[:3] + SCALED[3:]), result["reason"]
    assert [s["name"] for s in result["steps"]] == ["validate", "features", "train", "evaluate", "register", "gate", "promote"]
    assert all(s["status"] == "ok" for s in result["steps"])
    assert result["lineage"]["experiments"] == len(SUBSET) and len(result["lineage"]["data_hash"]) == 16
    assert result["lineage"]["feature_set"] == "signals@v1"
    assert result["gate"]["challenger_version"] == result["model_version"]

    # the history says why, when and how it ended; the drift context names the top features
    history = json.loads(run_cli("pipeline", "history", "--json", env=_env(home)).stdout)
    firing = next(f for f in history if f["id"] == result["firing_id"])
    assert firing["trigger"] == "drift" and firing["status"] == result["status"] and firing["finished_at"]
    assert firing["reason"] == result["reason"]
    top = [entry["feature"] for entry in firing["detail"]["context"]["top_features"]]
    assert set(top[:2]) <= set(SCALED)

    # MLflow: the pipeline run carries the lineage and points to the training run, and back
    from cncwear_gui.store.tracking import mlflow_client

    client = mlflow_client().MlflowClient()
    pipeline_run = client.get_run(result["pipeline_run_id"])
    tags = pipeline_run.data.tags
    assert tags["cncwear.trigger"] == "drift" and tags["cncwear.outcome"] == result["status"]
    assert tags["cncwear.lineage.data_hash"] == result["lineage"]["data_hash"]
    assert tags["cncwear.code_version"].startswith("0.")
    assert pipeline_run.info.status == "FINISHED"
    training_run = client.get_run(result["training_run_id"])
    assert training_run.data.tags["cncwear.pipeline_run_id"] == result["pipeline_run_id"]
    assert "reference_profile.json" in {a.path for a in client.list_artifacts(result["training_run_id"])}
    if result["status"] == "promoted":
        assert _champion_version(home) == result["model_version"]


@pytest.mark.slow
def test_drift_trigger_does_not_fire_on_data_like_the_training_data(home, subset_dir, like_training_file):
    done = run_cli("pipeline", "run", "--trigger", "drift", "--new-data", str(like_training_file),
                   "--data", str(subset_dir), "--json", env=_env(home))
    assert done.returncode == 0, done.stderr[-3000:]
    result = _result(done)
    assert result["fired"] is False and "no drift" in result["reason"]
    history = json.loads(run_cli("pipeline", "history", "--json", env=_env(home)).stdout)
    assert [(f["trigger"], f["status"]) for f in history] == [("drift", "skipped")]  # the evaluation is on record
    assert _champion_version(home) == "1"  # only the first-start champion; nothing was trained


@pytest.mark.slow
def test_a_failing_step_is_recorded_and_leaves_the_champion(home, subset_dir, tmp_path):
    broken = tmp_path / "broken"
    shutil.copytree(subset_dir, broken)
    text = (broken / "experiment_02.csv").read_text().splitlines()
    text[5] = text[5].replace(",", ";", 3)
    (broken / "experiment_02.csv").write_text("\n".join(text) + "\n")
    from cncwear_gui.data.dataset import load_dataset
    from cncwear_gui.models.champion import resolve_champion

    before = resolve_champion(load_dataset([subset_dir])).version

    done = run_cli("pipeline", "run", "--data", str(broken), "--budget", "5", "--json", env=_env(home))
    assert done.returncode == 1, done.stderr[-2000:]
    result = _result(done)
    assert result["status"] == "failed" and result["steps"][-1]["name"] == "validate"
    assert "experiment_02.csv" in json.dumps(result["steps"][-1]["detail"])
    assert _champion_version(home) == before
    firing = json.loads(run_cli("pipeline", "history", "--json", env=_env(home)).stdout)[0]
    assert firing["status"] == "failed" and firing["trigger"] == "manual"

    from cncwear_gui.store.tracking import mlflow_client

    run = mlflow_client().MlflowClient().get_run(result["pipeline_run_id"])
    assert run.info.status == "FAILED" and "rejected" in run.data.tags["cncwear.error"]


def test_a_forced_new_data_run_without_new_files_runs_on_the_data_it_has(home, subset_dir, tmp_path):
    broken = tmp_path / "broken"  # fails at validation: the run stays short
    shutil.copytree(subset_dir, broken)
    (broken / "experiment_02.csv").write_text("not,an,experiment\n")
    done = run_cli("pipeline", "run", "--trigger", "new-data", "--force", "--data", str(broken), "--budget", "5",
                   "--json", env=_env(home))
    assert "Traceback" not in done.stderr, done.stderr[-2000:]
    result = _result(done)
    assert result["trigger"] == "new-data" and result["status"] == "failed"
    assert result["steps"][-1]["name"] == "validate"


def test_a_second_firing_while_one_runs_is_recorded_as_skipped(home, subset_dir):
    from cncwear_gui.pipeline.run import PipelineConfig, pipeline_lock, run_pipeline
    from cncwear_gui.store.pipeline_history import PipelineHistory

    history = PipelineHistory()
    running = history.record("schedule", "scheduled every 24 h")
    with pipeline_lock():  # a pipeline holds the lock (in the real app: another process)
        result = run_pipeline("manual", "button", PipelineConfig(data=[str(subset_dir)], budget_s=5), history)
    assert result.status == "skipped" and f"firing #{running}" in result.error
    skipped = history.get(result.firing_id)
    assert skipped.status == "skipped" and "another pipeline run is in progress" in skipped.detail["skipped_because"]
    history.close()


def test_the_schedule_survives_a_restart(home):
    from cncwear_gui.pipeline import triggers
    from cncwear_gui.store.database import utcnow
    from cncwear_gui.store.pipeline_history import PipelineHistory

    first = PipelineHistory()
    assert triggers.schedule(first, 0).fires is False
    assert triggers.schedule(first, 6).fires is True  # never ran
    first.record("schedule", "scheduled every 6 h; never run before", "kept")
    first.close()

    restarted = PipelineHistory()  # a new process: only the database remembers
    now = utcnow()
    assert triggers.schedule(restarted, 6, now).fires is False
    assert triggers.schedule(restarted, 6, now + timedelta(hours=6, minutes=1)).fires is True
    restarted.close()


def test_new_data_fires_once_per_new_file(home, tmp_path, bundled_dir):
    from cncwear_gui.pipeline import triggers
    from cncwear_gui.store.pipeline_history import PipelineHistory

    watched = tmp_path / "watched"
    watched.mkdir()
    history = PipelineHistory()
    assert triggers.new_data(history, str(watched)).fires is False
    shutil.copy(bundled_dir / "experiment_04.csv", watched)
    check = triggers.new_data(history, str(watched))
    assert check.fires and "experiment_04.csv" in check.reason
    history.mark_seen(check.context["files"])
    assert triggers.new_data(history, str(watched)).fires is False
    shutil.copy(bundled_dir / "experiment_04.csv", watched / "copy_of_04.csv")  # same content: not new
    assert triggers.new_data(history, str(watched)).fires is False
    history.close()


def test_degradation_fires_when_labelled_feedback_shows_low_accuracy(home):
    from cncwear_gui.pipeline import triggers
    from cncwear_gui.store.pipeline_history import PipelineHistory

    history = PipelineHistory()
    rng = np.random.default_rng(0)
    right = rng.random(30) < 0.9
    for is_right in right:
        history.add_feedback("mill-1", "3", True, bool(is_right), "inspection")
    check = triggers.degradation(history, "3", threshold=0.8, min_labels=20)
    assert check.fires is False and f"{right.mean():.0%}" in check.reason
    for _ in range(40):
        history.add_feedback("mill-1", "3", True, False, "false alarm")
    check = triggers.degradation(history, "3", threshold=0.8, min_labels=20)
    accuracy = np.concatenate([right, np.zeros(40, bool)])[-50:].mean()
    assert check.fires is True and check.context["accuracy"] == pytest.approx(accuracy)
    assert triggers.degradation(history, "4", threshold=0.8, min_labels=20).fires is False  # another model's labels
    history.close()


@pytest.mark.slow
def test_without_a_champion_watch_keeps_watching_and_feedback_needs_a_version(home, subset_dir, tmp_path):
    """No champion yet: the degradation check stays quiet instead of stopping the watch; labels need a version."""
    watched = tmp_path / "incoming"
    watched.mkdir()
    done = run_cli("pipeline", "watch", "--watch-dir", str(watched), "--data", str(subset_dir), "--interval", "0.5",
                   "--duration", "2", env=_env(home))
    assert done.returncode == 0, done.stderr[-2000:]
    assert not [line for line in done.stdout.splitlines() if line.startswith("{")]
    assert json.loads(run_cli("pipeline", "history", "--json", env=_env(home)).stdout) == []
    refused = run_cli("pipeline", "run", "--trigger", "degradation", env=_env(home))
    assert refused.returncode == 2 and "no champion" in refused.stderr
    label = ("pipeline", "feedback", "--machine", "mill-1", "--predicted", "worn", "--actual", "ok", "--count", "3")
    refused = run_cli(*label, env=_env(home))
    assert refused.returncode == 2 and "there is no champion; give --model-version" in refused.stderr
    recorded = run_cli(*label, "--model-version", "7", env=_env(home))
    assert recorded.returncode == 0 and "recorded 3 label(s) for model v7; right on 0% of the last 3" in recorded.stdout


@pytest.mark.slow
def test_watch_fires_the_new_data_trigger_once_and_records_a_failing_run(home, subset_dir, tmp_path, bundled_dir):
    watched = tmp_path / "incoming"
    watched.mkdir()
    lines = (bundled_dir / "experiment_04.csv").read_text().splitlines()
    lines[3] = lines[3].replace(",", ",x", 1)  # a text cell in a number column: validation rejects the file
    (watched / "experiment_04.csv").write_text("\n".join(lines) + "\n")
    done = run_cli("pipeline", "watch", "--watch-dir", str(watched), "--data", str(subset_dir), "--interval", "1",
                   "--duration", "4", "--budget", "5", env=_env(home))
    assert done.returncode == 0, done.stderr[-2000:]
    fired = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    assert len(fired) == 1, fired  # the same file does not fire again in later rounds
    assert fired[0]["trigger"] == "new-data" and fired[0]["status"] == "failed"
    assert "experiment_04.csv" in fired[0]["reason"]
    history = json.loads(run_cli("pipeline", "history", "--json", env=_env(home)).stdout)
    assert [(f["trigger"], f["status"]) for f in history] == [("new-data", "failed")]
    assert "line 4" in json.dumps(history[0]["detail"]) or "experiment_04.csv" in json.dumps(history[0]["detail"])
