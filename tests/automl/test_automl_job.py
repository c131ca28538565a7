"""The auto-sklearn job in the AutoML runtime, for real: events, result, cancel, a killed job."""

import json
import os
import signal
import subprocess

import numpy as np
import pytest

from cncwear_gui.automl.config import SearchConfig
from cncwear_gui.automl.jobs import AutoMLUnavailable, JobFailed, models_dir, run_autosklearn_job
from cncwear_gui.process_groups import group_alive
from cncwear_gui.automl.runtime import automl_python
from cncwear_gui.models.evaluation import seed_split
from cncwear_gui.tasks import Cancelled, Task
from helpers import needs_automl_runtime as needs_runtime


@pytest.fixture(scope="module")
def four_runs(bundled_dataset):
    """2,000 random rows of four bundled runs (two unworn, two worn; seed feature set): the LOEO
    contract (one refit per experiment) costs four refits, not eighteen."""
    from cncwear_gui.features.sets import get_feature_set, training_matrix

    feature_set = get_feature_set("seed_slides")
    X, y, groups = training_matrix(bundled_dataset.samples(), feature_set)
    rows = np.flatnonzero(np.isin(groups, (1, 2, 6, 7)))  # pairs 1/6 and 2/7 of the paired protocol
    rows = np.sort(np.random.default_rng(0).choice(rows, 2_000, replace=False))
    return X[rows], y[rows], groups[rows], list(feature_set.columns)


@pytest.fixture(scope="module")
def trained(four_runs, tmp_path_factory):
    """One real 30 s auto-sklearn run in the tree-ensembles search space, with its LOEO refits,
    shared by the job and sidecar tests."""
    X, y, groups, names = four_runs
    home = tmp_path_factory.mktemp("automl-home")
    previous = os.environ["CNCWEAR_HOME"]
    os.environ["CNCWEAR_HOME"] = str(home)
    try:
        seen = []
        result = run_autosklearn_job(X, y, groups, names, SearchConfig(budget_s=30, seed=1, search_space="tree-ensembles"),
                                     on_event=seen.append,
                                     test_rows=seed_split(y)[1], loeo=True)
    finally:
        os.environ["CNCWEAR_HOME"] = previous
    return result, seen, home


@pytest.mark.automl
@needs_runtime
@pytest.mark.slow
def test_a_real_run_streams_events_and_leaves_a_working_model(four_runs, trained):
    X, y, groups, names = four_runs
    result, seen, home = trained
    kinds = [e.kind for e in seen]
    assert kinds[0] == "started" and kinds[-1] == "done"
    assert "trial" in kinds and "best" in kinds and "ensemble" in kinds
    assert kinds.index("ensemble") > kinds.index("best")
    started = next(e.data for e in seen if e.kind == "started")
    assert started["rows"] == len(y) - len(seed_split(y)[1])  # the search never sees the seed test rows
    assert started["autosklearn"] == "0.15.0"
    rows, predicted = result.predictions("seed")
    assert np.array_equal(np.sort(rows), np.sort(seed_split(y)[1])) and set(predicted) <= {0, 1}
    folds = [e.data for e in seen if e.kind == "fold"]
    assert sorted(f["experiment"] for f in folds) == np.unique(groups).tolist()  # one refit per experiment
    assert [f["n"] for f in folds] == list(range(1, folds[0]["of"] + 1))  # counted as they finish, in any order
    rows, predicted = result.predictions("loeo")
    assert np.array_equal(rows, np.arange(len(y))) and set(predicted) <= {0, 1}
    best = [e.data["score"] for e in seen if e.kind == "best"]
    assert best == sorted(best) and 0.5 < best[-1] <= 1.0
    tried = {e.data["model"] for e in seen if e.kind == "trial"}
    assert tried <= {"random_forest", "extra_trees", "gradient_boosting"}, tried  # the search space held
    members = result.ensemble["members"]
    assert members and abs(sum(m["weight"] for m in members) - 1.0) < 1e-3
    assert result.model_path.is_file() and (result.model_dir / "leaderboard.csv").is_file()
    assert result.model_dir.parent == home / "automl-models"
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
@pytest.mark.slow
def test_cancel_kills_the_whole_process_group_and_leaves_no_model(small_table, home):
    X, y, groups, names = small_table
    task = Task()
    group = {}

    def on_event(event):
        if event.kind == "started":
            group["pid"] = event.data["pid"]
        if event.kind == "trial":
            task.cancel()

    with pytest.raises(Cancelled):
        run_autosklearn_job(X, y, groups, names, SearchConfig(budget_s=60), task=task, on_event=on_event)
    assert not group_alive(group["pid"])
    assert list(models_dir().iterdir()) == []


@pytest.mark.automl
@needs_runtime
def test_a_job_killed_with_sigkill_is_reported_and_leaves_nothing(small_table, home):
    X, y, groups, names = small_table
    group = {}

    def on_event(event):
        if event.kind == "started":
            group["pid"] = event.data["pid"]
            os.kill(event.data["pid"], signal.SIGKILL)

    with pytest.raises(JobFailed, match="killed by SIGKILL"):
        run_autosklearn_job(X, y, groups, names, SearchConfig(budget_s=60), on_event=on_event)
    assert not group_alive(group["pid"])  # its orphaned workers were reaped too
    assert list(models_dir().iterdir()) == []


def test_one_class_is_refused_before_anything_starts(small_table, home):
    X, y, groups, names = small_table
    with pytest.raises(ValueError, match="only one class"):
        run_autosklearn_job(X, np.ones_like(y), groups, names, SearchConfig())
    four = np.concatenate([np.flatnonzero(y == 0)[:2], np.flatnonzero(y == 1)[:2]])  # both classes
    with pytest.raises(ValueError, match="fewer than the 5 folds"):
        run_autosklearn_job(X[four], y[four], groups[four], names, SearchConfig(resampling="cv"))
    with pytest.raises(ValueError, match="experiments are fewer"):
        run_autosklearn_job(X, y, np.zeros_like(groups), names, SearchConfig(resampling="grouped-cv"))


def test_missing_runtime_says_so_and_offers_flaml(small_table, home, monkeypatch, tmp_path):
    monkeypatch.setenv("CNCWEAR_AUTOML_PYTHON", str(tmp_path / "no-such-python"))
    X, y, groups, names = small_table
    with pytest.raises(AutoMLUnavailable, match="FLAML"):
        run_autosklearn_job(X, y, groups, names, SearchConfig())


def _direct_proba(model_path, X):
    """predict_proba in the AutoML runtime itself, for comparison."""
    probe = (
        "import pickle, json, sys, numpy as np; m = pickle.load(open(sys.argv[1], 'rb')); "
        "print(json.dumps(m.predict_proba(np.array(json.loads(sys.argv[2]))).tolist()))"
    )
    done = subprocess.run([str(automl_python()), "-c", probe, str(model_path), json.dumps(X.tolist())],
                          capture_output=True, text=True, timeout=300)
    return np.array(json.loads(done.stdout.strip().splitlines()[-1]))


@pytest.mark.automl
@needs_runtime
@pytest.mark.slow
def test_the_sidecar_serves_the_model_through_the_predictor_interface(small_table, trained):
    from cncwear_gui.models.predictor import Predictor, SidecarPredictor

    X, y, groups, names = small_table
    result, _, _ = trained
    predictor = SidecarPredictor(result.model_path, names)
    try:
        assert isinstance(predictor, Predictor)
        proba = predictor.predict_proba(X[:200])  # a small batch: forests take the sidecar's own fast path
        np.testing.assert_array_equal(proba, _direct_proba(result.model_path, X[:200]))  # exact, json round-trips floats
        forests = sum(m["model"] in ("RandomForest", "ExtraTreesClassifier") for m in result.ensemble["members"])
        assert (predictor.fast_steps["forests"] > 0) == (forests > 0)
        np.testing.assert_array_equal(predictor.predict_proba(X[:300]), _direct_proba(result.model_path, X[:300]))
        assert list(predictor.classes_) == [0, 1]
        labels = predictor.predict(X[:200])
        assert set(np.unique(labels)) <= {0, 1} and (labels == proba.argmax(axis=1)).mean() > 0.99
        with pytest.raises(ValueError, match="columns"):
            predictor.predict_proba(X[:3, :5])
    finally:
        predictor.close()
    assert predictor.pid is None


@pytest.mark.automl
@needs_runtime
@pytest.mark.slow
def test_a_sidecar_killed_while_idle_restarts_transparently(small_table, trained):
    from cncwear_gui.models.predictor import SidecarPredictor

    X, _, _, names = small_table
    predictor = SidecarPredictor(trained[0].model_path, names)
    try:
        first = predictor.predict_proba(X[:10])
        os.kill(predictor.pid, signal.SIGKILL)
        again = predictor.predict_proba(X[:10])
        np.testing.assert_array_equal(first, again)
        assert predictor.restarts == 1
    finally:
        predictor.close()


@pytest.mark.automl
@needs_runtime
@pytest.mark.slow
def test_a_hung_sidecar_times_out_and_is_replaced(small_table, trained):
    from cncwear_gui.models.predictor import SidecarPredictor, SidecarTimeout

    X, _, _, names = small_table
    predictor = SidecarPredictor(trained[0].model_path, names, call_timeout=2.0)
    try:
        predictor.predict_proba(X[:5])
        hung = predictor.pid
        os.kill(hung, signal.SIGSTOP)  # a sidecar that no longer answers
        with pytest.raises(SidecarTimeout):
            predictor.predict_proba(X[:5])
        assert predictor.predict_proba(X[:5]).shape == (5, 2)  # a fresh sidecar answers
        assert predictor.pid != hung
    finally:
        predictor.close()
