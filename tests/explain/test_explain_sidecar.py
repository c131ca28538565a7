"""The explanation engine on an auto-sklearn model served by the AutoML sidecar (a real 30 s
run on 3,000 rows of the ``signals`` set): every method works through the pipe, with batched
model calls, and the same properties hold as in-process."""

import os

import numpy as np
import pytest

from cncwear_gui.automl.config import SearchConfig
from cncwear_gui.features.sets import get_feature_set, training_matrix
from helpers import needs_automl_runtime as needs_runtime, tree_predict

pytestmark = [pytest.mark.automl, needs_runtime]


class Counting:
    """Counts the calls that go over the pipe."""

    def __init__(self, predictor):
        self.predictor, self.calls = predictor, 0

    @property
    def classes_(self):
        return self.predictor.classes_

    def predict_proba(self, X):
        self.calls += 1
        return self.predictor.predict_proba(X)

    def predict(self, X):
        self.calls += 1
        return self.predictor.predict(X)


@pytest.fixture(scope="module")
def served(bundled_dataset, tmp_path_factory):
    from cncwear_gui.automl.jobs import run_autosklearn_job
    from cncwear_gui.models.predictor import SidecarPredictor

    feature_set = get_feature_set("signals")
    X, y, groups = training_matrix(bundled_dataset.samples(), feature_set)
    names = list(feature_set.columns)
    order = np.random.default_rng(0).permutation(len(y))
    fit_rows, other_rows = order[:3000], order[3000:]
    previous = os.environ["CNCWEAR_HOME"]
    os.environ["CNCWEAR_HOME"] = str(tmp_path_factory.mktemp("explain-automl-home"))
    try:
        result = run_autosklearn_job(X[fit_rows], y[fit_rows], groups[fit_rows], names, SearchConfig(budget_s=30, seed=1))
    finally:
        os.environ["CNCWEAR_HOME"] = previous
    predictor = SidecarPredictor(result.model_path, names)
    yield predictor, X, names, fit_rows, other_rows
    predictor.close()


@pytest.fixture(scope="module")
def engine(served):
    from cncwear_gui.explain import ExplanationEngine

    predictor, X, names, fit_rows, _ = served
    counting = Counting(predictor)
    return ExplanationEngine(counting, names, X[fit_rows[:1000]], seed=0), counting


@pytest.mark.slow
def test_every_method_through_the_sidecar(served, engine):
    predictor, X, names, fit_rows, other_rows = served
    engine, counting = engine
    x = X[other_rows[0]]
    worn = predictor.predict_proba(x[None])[0, 1]

    lime = engine.lime(x)
    assert lime.probabilities["worn"] == pytest.approx(worn, abs=1e-9) and lime.conditions
    assert {**engine.lime(x).to_json(), "seconds": 0} == {**lime.to_json(), "seconds": 0}

    shap = engine.shap_local(x)
    assert shap.explainer_kind.startswith("Kernel SHAP")
    assert abs(shap.base_value + sum(c.shap for c in shap.contributions) - worn) < 1e-6

    anchor = engine.anchor(x)
    keep = np.ones(1, bool)
    for condition in anchor.conditions:
        keep &= condition.holds(x[None, names.index(condition.feature)])
    assert keep[0] and anchor.predicted == lime.predicted
    assert anchor.data_support == 0 or 0 <= anchor.data_precision <= 1

    calls = counting.calls
    ice = engine.dependence(X[other_rows[:500]], "X1_OutputCurrent")
    assert counting.calls - calls == 1  # one round trip for every curve
    j = names.index("X1_OutputCurrent")
    sampled = X[other_rows[:500]][np.sort(np.random.default_rng(0).choice(500, 200, replace=False))]
    probe = np.repeat(sampled[:1], len(ice.grid), axis=0)
    probe[:, j] = ice.grid
    np.testing.assert_allclose(ice.ice[0], predictor.predict_proba(probe)[:, 1], atol=1e-9)

    calls = counting.calls
    surrogate = engine.surrogate(X[other_rows[:4000]], X[other_rows[4000:6000]], max_depth=4)
    assert counting.calls - calls == 1  # the model labels both row sets at once
    model = predictor.predict_proba(X[other_rows[4000:6000]]).argmax(axis=1)
    assert surrogate.fidelity == pytest.approx(np.mean(tree_predict(surrogate.nodes, X[other_rows[4000:6000]], names)
                                                       == model), abs=1e-12)


