"""Every Predictor kind keeps scikit-learn's contract for a fitted classifier (models/predictor.py):
classifier type and tags, classes_, n_features_in_, feature_names_in_ where the names are known,
fitted for check_is_fitted, and sklearn.inspection.partial_dependence works on it. Small real
models on the bundled data: a 10-tree forest on 3,000 rows in process, in SmallBatchForest and
served by the sidecar script; and a real auto-sklearn model served by the AutoML runtime.
Stopping a sidecar (or a GUI ``cncwear`` child) takes its whole process group down."""

from __future__ import annotations

import os
import pickle
import signal
import stat
import subprocess
import sys

import numpy as np
import pytest
from sklearn.base import is_classifier
from sklearn.ensemble import RandomForestClassifier
from sklearn.inspection import partial_dependence
from sklearn.utils import get_tags
from sklearn.utils.validation import check_is_fitted

from cncwear_gui.models.predictor import ClassifierContract, Predictor, SidecarPredictor
from cncwear_gui.models.small_batches import SmallBatchForest, for_small_batches
from cncwear_gui.process_groups import group_alive
from helpers import BUNDLED, free_port, needs_automl_runtime, wait_for

FEATURE = 0  # the feature partial_dependence varies
PD_ROWS = 200  # below the small-batch limit: the forests' fast paths answer


@pytest.fixture(scope="module")
def forest(small_table):
    X, y, _, _ = small_table
    return RandomForestClassifier(n_estimators=10, n_jobs=1, random_state=0).fit(X, y)


@pytest.fixture(scope="module")
def pickled_forest(forest, tmp_path_factory):
    """The forest as a model file the sidecar script loads (as it loads auto-sklearn's pickles)."""
    path = tmp_path_factory.mktemp("sidecar-model") / "forest.pkl"
    path.write_bytes(pickle.dumps(forest))
    return path


@pytest.fixture
def sidecar(pickled_forest, small_table):
    """sidecar_server.py serving the forest, run by this (main-runtime) Python: no AutoML runtime needed."""
    predictor = SidecarPredictor(pickled_forest, small_table[3], python=sys.executable)
    yield predictor
    predictor.close()


def manual_partial_dependence(predictor, X, grid):
    """The average P(worn) over ``X`` with the feature set to each grid value, by hand."""
    averages = []
    for value in grid:
        varied = X.copy()
        varied[:, FEATURE] = value
        averages.append(predictor.predict_proba(varied)[:, 1].mean())
    return np.array(averages)


def check_contract(predictor, names, X):
    assert is_classifier(predictor)
    assert get_tags(predictor).estimator_type == "classifier"
    if isinstance(predictor, ClassifierContract):  # scikit-learn 1.9's own estimators no longer have it
        assert predictor._estimator_type == "classifier"  # what scikit-learn before 1.6 reads
    check_is_fitted(predictor)
    assert isinstance(predictor, Predictor)
    assert list(predictor.classes_) == [0, 1] and predictor.n_features_in_ == len(names)
    result = partial_dependence(predictor, X[:PD_ROWS], [FEATURE], grid_resolution=8, kind="both")
    grid = result["grid_values"][0]
    assert result["average"].shape == (1, len(grid)) and result["individual"].shape == (1, PD_ROWS, len(grid))
    np.testing.assert_allclose(result["average"][0], manual_partial_dependence(predictor, X[:PD_ROWS], grid),
                               rtol=0, atol=1e-12)
    return result


def test_an_in_process_forest(forest, small_table):
    """scikit-learn's own estimators are Predictors as they are (fitted on arrays: no feature names)."""
    X, _, _, names = small_table
    check_contract(forest, names, X)
    assert not hasattr(forest, "feature_names_in_")


def test_the_small_batch_forest(forest, small_table):
    X, _, _, names = small_table
    fast = for_small_batches(forest, names)
    assert isinstance(fast, SmallBatchForest)
    assert list(fast.feature_names_in_) == names
    assert get_tags(fast) == get_tags(forest)  # the forest's own tags
    result = check_contract(fast, names, X)
    # the same numbers as the forest itself (one thread: bit-identical), by the fast path and the big-batch path
    np.testing.assert_array_equal(result["average"], partial_dependence(forest, X[:PD_ROWS], [FEATURE],
                                                                        grid_resolution=8)["average"])
    np.testing.assert_array_equal(fast.predict_proba(X[:1000]), forest.predict_proba(X[:1000]))
    import pandas as pd

    frame = pd.DataFrame(X[:5], columns=names)
    np.testing.assert_array_equal(fast.predict_proba(frame), forest.predict_proba(X[:5]))
    with pytest.raises(ValueError, match="not the model's features"):
        fast.predict_proba(frame[names[::-1]])
    with pytest.raises(NotImplementedError):
        fast.fit(X, X[:, 0] > 0)


def test_the_sidecar_serving_a_forest(sidecar, forest, small_table):
    X, _, _, names = small_table
    assert sidecar.pid is None  # not started yet; reading classes_ starts it
    result = check_contract(sidecar, names, X)
    assert list(sidecar.feature_names_in_) == names
    np.testing.assert_array_equal(result["average"], partial_dependence(forest, X[:PD_ROWS], [FEATURE],
                                                                        grid_resolution=8)["average"])


@pytest.fixture(scope="module")
def autosklearn_model(small_table, tmp_path_factory):
    """A real 30 s auto-sklearn run (tree ensembles: the sidecar's fast forests answer) on 3,000 rows."""
    from cncwear_gui.automl.config import SearchConfig
    from cncwear_gui.automl.jobs import run_autosklearn_job

    X, y, groups, names = small_table
    previous = os.environ["CNCWEAR_HOME"]
    os.environ["CNCWEAR_HOME"] = str(tmp_path_factory.mktemp("contract-automl-home"))
    try:
        return run_autosklearn_job(X, y, groups, names, SearchConfig(budget_s=30, seed=1, search_space="tree-ensembles"))
    finally:
        os.environ["CNCWEAR_HOME"] = previous


@pytest.mark.slow
@pytest.mark.automl
@needs_automl_runtime
def test_the_sidecar_serving_an_autosklearn_model(autosklearn_model, small_table):
    X, _, _, names = small_table
    predictor = SidecarPredictor(autosklearn_model.model_path, names)
    try:
        check_contract(predictor, names, X)
        assert list(predictor.feature_names_in_) == names
        leader = predictor.pid
    finally:
        predictor.close()
    assert predictor.pid is None and not group_alive(leader)


def spawning_python(tmp_path, pid_file):
    """A 'python' that starts a child in its own process group first, then becomes the interpreter."""
    wrapper = tmp_path / "python-with-a-child"
    wrapper.write_text(f"#!/bin/sh\nsleep 600 </dev/null >/dev/null 2>&1 &\necho $! > {pid_file}\nexec {sys.executable} \"$@\"\n")
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IXUSR)
    return wrapper


def process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.mark.skipif(os.name == "nt", reason="process groups are POSIX")
@pytest.mark.parametrize("hung", [False, True], ids=["answering", "hung"])
def test_stopping_a_sidecar_stops_everything_it_started(pickled_forest, small_table, tmp_path, hung):
    X, _, _, names = small_table
    pid_file = tmp_path / "child.pid"
    predictor = SidecarPredictor(pickled_forest, names, python=spawning_python(tmp_path, pid_file))
    try:
        predictor.predict_proba(X[:5])
        leader, child = predictor.pid, int(pid_file.read_text())
        assert os.getpgid(leader) == leader and os.getpgid(child) == leader  # the sidecar leads its own group
        if hung:
            os.kill(leader, signal.SIGSTOP)  # it cannot even read the shutdown request
    finally:
        predictor.close()
    assert predictor.pid is None
    wait_for(lambda: not group_alive(leader), timeout=10, what="the sidecar's process group to go")
    assert not process_alive(child)


@pytest.mark.skipif(os.name == "nt", reason="process groups are POSIX")
def test_cancelling_a_cli_child_stops_its_process_group(monkeypatch):
    """run_cli_process (the GUI's cncwear children): its own group, SIGTERM, then the group is gone."""
    from cncwear_gui import child_process as cli_process
    from cncwear_gui.tasks import Cancelled, Task

    children = []
    popen = subprocess.Popen

    def recording_popen(*args, **kwargs):
        children.append(popen(*args, **kwargs))
        return children[-1]

    monkeypatch.setattr(cli_process.subprocess, "Popen", recording_popen)
    task, groups = Task(), []

    def on_message(message):
        if message.get("event") == "serving":
            groups.append(os.getpgid(children[0].pid))
            task.cancel()

    arguments = ["simulate", "opcua", "--file", str(BUNDLED / "experiment_01.csv"), "--port", str(free_port())]
    with pytest.raises(Cancelled):
        cli_process.run_cli_process(arguments, on_message, task, grace_s=10.0)
    child = children[0]
    assert groups == [child.pid]  # it led its own group
    assert child.returncode == 0  # it took the SIGTERM and stopped itself within the grace period
    assert not group_alive(child.pid)


def test_the_one_forest_sum_is_scikit_learns_to_the_bit(small_table):
    """automl/forest_sum.py, which SmallBatchForest and the sidecar's fast forests share (the sidecar's
    own check, on auto-sklearn's forests in scikit-learn 0.24, is in tests/test_automl_job.py)."""
    import sklearn
    from sklearn.ensemble import ExtraTreesClassifier

    from cncwear_gui.automl.forest_sum import ForestSum, leaves_hold_fractions

    assert leaves_hold_fractions(sklearn.__version__) and leaves_hold_fractions("1.4.0")
    assert not leaves_hold_fractions("1.3.2") and not leaves_hold_fractions("0.24.2")
    assert leaves_hold_fractions("1.10.dev0") and leaves_hold_fractions("2.0rc1")
    X, y, _, _ = small_table
    for kind in (RandomForestClassifier, ExtraTreesClassifier):
        forest = kind(n_estimators=10, n_jobs=1, min_samples_leaf=3, random_state=0).fit(X, y)
        summed = ForestSum(forest, sklearn.__version__)
        for rows in (1, 3, summed.leaves.VECTOR_ROWS, summed.leaves.VECTOR_ROWS + 1, 256):  # all trees at once, then per tree
            batch = X[::7][:rows]
            np.testing.assert_array_equal(summed.predict_proba(batch), forest.predict_proba(batch), err_msg=f"{rows} rows")
