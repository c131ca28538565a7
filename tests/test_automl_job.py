"""The auto-sklearn job in the AutoML runtime, for real: events, result, cancel, a killed job."""

import json
import os
import signal
import subprocess

import numpy as np
import pytest

from cncwear_gui.automl.jobs import AutoMLUnavailable, AutoSklearnConfig, JobFailed, group_alive, models_dir, run_autosklearn_job
from cncwear_gui.automl.runtime import automl_python
from cncwear_gui.features.sets import get_feature_set, training_matrix
from cncwear_gui.tasks import Cancelled, Task

needs_runtime = pytest.mark.skipif(
    automl_python() is None and not os.environ.get("CNCWEAR_REQUIRE_AUTOML"),
    reason="no AutoML runtime here (no Python 3.9)",
)


@pytest.fixture(scope="module")
def table(bundled_dataset):
    """3,000 random rows of the bundled data (seed feature set): enough for a 30 s run."""
    feature_set = get_feature_set("seed_slides")
    X, y, groups = training_matrix(bundled_dataset.samples(), feature_set)
    rows = np.random.default_rng(0).choice(len(y), 3_000, replace=False)
    return X[rows], y[rows], groups[rows], list(feature_set.columns)


@pytest.mark.automl
@needs_runtime
def test_a_real_run_streams_events_and_leaves_a_working_model(table, home):
    X, y, groups, names = table
    seen = []
    result = run_autosklearn_job(X, y, groups, names, AutoSklearnConfig(budget_s=30, seed=1), on_event=seen.append)
    kinds = [e.kind for e in seen]
    assert kinds[0] == "started" and kinds[-1] == "done"
    assert "trial" in kinds and "best" in kinds and "ensemble" in kinds
    assert kinds.index("ensemble") > kinds.index("best")
    best = [e.data["score"] for e in seen if e.kind == "best"]
    assert best == sorted(best) and 0.5 < best[-1] <= 1.0
    members = result.ensemble["members"]
    assert members and abs(sum(m["weight"] for m in members) - 1.0) < 1e-3
    assert result.model_path.is_file() and (result.model_dir / "leaderboard.csv").is_file()
    assert result.model_dir.parent == models_dir()
    # the saved model predicts in the AutoML runtime's own format
    probe = (
        "import pickle, json, sys, numpy as np; m = pickle.load(open(sys.argv[1], 'rb')); "
        "p = m.predict_proba(np.array(json.loads(sys.argv[2]))); print(json.dumps(p.tolist()))"
    )
    done = subprocess.run(
        [str(automl_python()), "-c", probe, str(result.model_path), json.dumps(X[:5].tolist())],
        capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    proba = np.array(json.loads(done.stdout.strip().splitlines()[-1]))
    assert proba.shape == (5, 2) and np.allclose(proba.sum(axis=1), 1)


@pytest.mark.automl
@needs_runtime
def test_cancel_kills_the_whole_process_group_and_leaves_no_model(table, home):
    X, y, groups, names = table
    task = Task()
    group = {}

    def on_event(event):
        if event.kind == "started":
            group["pid"] = event.data["pid"]
        if event.kind == "trial":
            task.cancel()

    with pytest.raises(Cancelled):
        run_autosklearn_job(X, y, groups, names, AutoSklearnConfig(budget_s=60), task=task, on_event=on_event)
    assert not group_alive(group["pid"])
    assert list(models_dir().iterdir()) == []


@pytest.mark.automl
@needs_runtime
def test_a_job_killed_with_sigkill_is_reported_and_leaves_nothing(table, home):
    X, y, groups, names = table
    group = {}

    def on_event(event):
        if event.kind == "started":
            group["pid"] = event.data["pid"]
            os.kill(event.data["pid"], signal.SIGKILL)

    with pytest.raises(JobFailed, match="killed by SIGKILL"):
        run_autosklearn_job(X, y, groups, names, AutoSklearnConfig(budget_s=60), on_event=on_event)
    assert not group_alive(group["pid"])  # its orphaned workers were reaped too
    assert list(models_dir().iterdir()) == []


def test_one_class_is_refused_before_anything_starts(table, home):
    X, y, groups, names = table
    with pytest.raises(ValueError, match="only one class"):
        run_autosklearn_job(X, np.ones_like(y), groups, names, AutoSklearnConfig())
    four = np.concatenate([np.flatnonzero(y == 0)[:2], np.flatnonzero(y == 1)[:2]])  # both classes
    with pytest.raises(ValueError, match="fewer than the 5 folds"):
        run_autosklearn_job(X[four], y[four], groups[four], names, AutoSklearnConfig(resampling="cv"))
    with pytest.raises(ValueError, match="experiments are fewer"):
        run_autosklearn_job(X, y, np.zeros_like(groups), names, AutoSklearnConfig(resampling="grouped-cv"))


def test_missing_runtime_says_so_and_offers_flaml(table, home, monkeypatch):
    import cncwear_gui.automl.jobs as jobs

    monkeypatch.setattr(jobs, "automl_python", lambda: None)
    X, y, groups, names = table
    with pytest.raises(AutoMLUnavailable, match="FLAML"):
        run_autosklearn_job(X, y, groups, names, AutoSklearnConfig())
