"""The explanation engine on real data and a real Random Forest: properties, checked
independently of the engine (SHAP adds up to the forest's probability, LIME repeats itself, an
anchor rule holds on recorded samples, the surrogate's fidelity recomputed from its exported
nodes, a PDP is flat for a feature the forest never uses), JSON round trips and bad input."""

import dataclasses
import json
import subprocess
import sys

import numpy as np
import pytest

from cncwear_gui.explain import (
    ExplanationEngine,
    ExplanationInputError,
    plain_language,
    result_from_json,
)
from cncwear_gui.features.sets import get_feature_set, training_matrix
from cncwear_gui.models.evaluation import seed_split
from cncwear_gui.tasks import Cancelled, Task
from helpers import ROOT
from helpers import tree_predict

WORN, UNWORN = 1, 0
UNUSED = "Z1_CurrentFeedback"  # constant in the recordings: no tree can split on it


class Counting:
    """The forest behind the Predictor contract, counting model calls and rows."""

    def __init__(self, model):
        self.model, self.classes_, self.calls, self.rows = model, model.classes_, 0, 0

    def predict_proba(self, X):
        self.calls += 1
        self.rows += len(X)
        return self.model.predict_proba(X)

    def predict(self, X):
        return self.classes_[self.predict_proba(X).argmax(axis=1)]


@pytest.fixture(scope="module")
def data(bundled_dataset):
    feature_set = get_feature_set("signals")
    X, y, _ = training_matrix(bundled_dataset.samples(), feature_set)
    train, test = seed_split(y)
    return X, y, list(feature_set.columns), train, test


@pytest.fixture(scope="module")
def forest(data):
    from sklearn.ensemble import RandomForestClassifier

    X, y, _, train, _ = data
    return RandomForestClassifier(n_estimators=100, n_jobs=1, random_state=0, min_samples_leaf=2).fit(X[train], y[train])


@pytest.fixture(scope="module")
def engine(data, forest):
    X, _, names, train, _ = data
    background = X[np.sort(np.random.default_rng(0).choice(train, 2000, replace=False))]
    return ExplanationEngine(forest, names, background, seed=0)


@pytest.fixture(scope="module")
def rows(data, forest):
    """The first held-out rows the forest calls worn and unworn."""
    X, _, _, _, test = data
    predicted = forest.predict(X[test])
    return {WORN: X[test[np.argmax(predicted == WORN)]], UNWORN: X[test[np.argmax(predicted == UNWORN)]]}


@pytest.fixture(scope="module")
def explained(engine, rows, data):
    """Every method once, for the worn row (shared by the JSON and summary tests)."""
    X, _, _, train, test = data
    x = rows[WORN]
    return {
        "lime": engine.lime(x),
        "shap": engine.shap_local(x),
        "anchor": engine.anchor(x),
        "dependence": engine.dependence(X[test], "X1_OutputCurrent"),
        "surrogate": engine.surrogate(X[train], X[test], max_depth=4),
        "shap_global": engine.shap_global(X[test[:20]]),
    }


def test_importing_the_package_loads_no_heavy_library_and_no_qt():
    code = ("import sys, cncwear_gui.explain, cncwear_gui.explain.engine, cncwear_gui.explain.summary; "
            "print([m for m in ('shap', 'alibi', 'lime', 'matplotlib', 'sklearn', 'PySide6', 'pyqtgraph', "
            "'cncwear_gui.ui') if m in sys.modules])")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


@pytest.mark.parametrize("label", [WORN, UNWORN])
def test_shap_adds_up_to_the_forests_probability(engine, forest, rows, label):
    x = rows[label]
    result = engine.shap_local(x)
    worn_probability = forest.predict_proba(x[None])[0, 1]
    assert abs(result.base_value + sum(c.shap for c in result.contributions) - worn_probability) < 1e-6
    assert result.additive and result.additivity_error < 1e-6 and "TreeSHAP" in result.explainer_kind
    assert result.predicted == ("worn" if label == WORN else "unworn")
    assert sorted(c.feature for c in result.contributions) == sorted(engine.feature_names)
    assert [abs(c.shap) for c in result.contributions] == sorted((abs(c.shap) for c in result.contributions), reverse=True)
    assert {c.feature: c.value for c in result.contributions}["X1_OutputCurrent"] == x[engine.feature_names.index("X1_OutputCurrent")]
    # the forest cannot use a constant feature: it gets no credit
    assert {c.feature: c.shap for c in result.contributions}[UNUSED] == 0


def test_kernel_shap_for_a_model_tree_shap_does_not_know_adds_up_too(data, forest, rows):
    X, _, names, train, _ = data
    opaque = Counting(forest)  # not a scikit-learn object: TreeExplainer refuses it
    engine = ExplanationEngine(opaque, names, X[train[:500]], seed=0)
    x = rows[WORN]
    result = engine.shap_local(x)
    assert result.explainer_kind.startswith("Kernel SHAP")
    assert abs(result.base_value + sum(c.shap for c in result.contributions) - forest.predict_proba(x[None])[0, 1]) < 1e-6
    calls = opaque.calls
    engine.shap_local(rows[UNWORN])
    assert opaque.calls - calls <= 3  # the explained row, its coalitions in one batch, the output


def test_lime_gives_the_same_answer_twice_and_the_models_probabilities(engine, forest, rows):
    x = rows[WORN]
    first, second = engine.lime(x), engine.lime(x)
    assert {**first.to_json(), "seconds": 0} == {**second.to_json(), "seconds": 0}
    assert first.probabilities["worn"] == pytest.approx(forest.predict_proba(x[None])[0, 1], abs=1e-12)
    assert first.predicted == "worn" and len(first.conditions) == 10
    assert all(any(f.feature in c.condition for c in first.conditions) for f in first.feature_values)
    for feature, value in first.feature_values:
        assert value == x[engine.feature_names.index(feature)]
    assert [abs(w) for _, w in first.conditions] == sorted((abs(w) for _, w in first.conditions), reverse=True)
    assert 0 <= first.local_fit_score <= 1


def _holds(result, X, names):
    keep = np.ones(len(X), bool)
    for condition in result.conditions:
        column = X[:, names.index(condition.feature)]
        if condition.equals is not None:
            keep &= column == condition.equals
        if condition.lower is not None:
            keep &= column > condition.lower
        if condition.upper is not None:
            keep &= column <= condition.upper
    return keep


@pytest.mark.parametrize("label", [WORN, UNWORN])
def test_the_anchor_rule_holds_on_recorded_samples(engine, forest, rows, data, label):
    """Checked on the recordings, not on alibi's perturbed samples: among all training rows that
    satisfy the rule, the forest gives the anchored class at least as often as the data precision
    reported from the 2,000 background rows allows (one-sided 99.9 % Clopper-Pearson bound)."""
    from scipy.stats import beta

    X, _, names, train, _ = data
    x = rows[label]
    result = engine.anchor(x, threshold=0.95)
    assert result.predicted == ("worn" if label == WORN else "unworn")
    assert result.threshold == 0.95 and (not result.threshold_met or result.precision >= 0.95)
    assert 1 <= len(result.rule) <= 5 and len(result.rule) == len(result.conditions)
    for condition, text in zip(result.conditions, result.rule):
        assert condition.feature in text and condition.text == text
    assert _holds(result, x[None], names)[0], "the explained sample must satisfy its own rule"
    background = engine.background
    in_background = _holds(result, background, names)
    assert result.data_support == in_background.sum() > 0
    agreed = int(np.sum(forest.predict(background[in_background]) == label))
    assert result.data_precision == pytest.approx(agreed / result.data_support, abs=1e-12)
    recorded = X[train][_holds(result, X[train], names)]
    share = np.mean(forest.predict(recorded) == label)
    lowest = beta.ppf(0.001, agreed, result.data_support - agreed + 1) if agreed else 0.0
    assert share >= lowest - 0.01, (result.rule, share, result.data_precision, result.data_support)


def test_the_anchor_search_can_be_cancelled_and_the_engine_still_works(engine, rows):
    def cancel_when_searching(fraction, message):
        if "searching" in message:
            task.cancel()

    task = Task(cancel_when_searching)
    with pytest.raises(Cancelled):
        engine.anchor(rows[UNWORN], task=task)
    assert engine.anchor(rows[UNWORN]).rule


def test_surrogate_fidelity_recomputed_from_its_exported_nodes(explained, forest, data):
    X, _, names, train, test = data
    result = explained["surrogate"]
    assert result.depth <= 4 and result.max_depth == 4 and result.n_heldout == len(test)
    model = forest.predict(X[test])
    assert result.fidelity == pytest.approx(np.mean(tree_predict(result.nodes, X[test], names) == model), abs=1e-12)
    root = result.nodes[0]
    assert root["parent"] is None and root["samples"] == len(train)
    assert root["class_counts"] == np.bincount(forest.predict(X[train]), minlength=2).tolist()
    leaves = [n for n in result.nodes if n["leaf"]]
    assert sum(n["samples"] for n in leaves) == len(train) and len(leaves) == result.n_leaves
    assert all(n["path"].count(" and ") == n["depth"] - 1 for n in result.nodes if n["depth"])
    assert root["feature"] in result.text.splitlines()[0]


def test_surrogate_depth_chosen_on_training_rows(engine, data):
    X, _, _, train, test = data
    result = engine.surrogate(X[train], X[test], max_depth=6, choose_depth=True)
    assert result.depth <= 6 and sorted(result.depth_fidelities, key=int) == [str(d) for d in range(1, 7)]
    best = max(result.depth_fidelities.values())
    assert result.depth_fidelities[str(result.depth)] >= best - 0.005
    assert 0.5 < result.fidelity <= 1 and 0.5 < result.train_fidelity <= 1


def test_ice_and_pdp_in_one_model_call_and_as_scikit_learn_computes_them(data, forest):
    from sklearn.inspection import partial_dependence

    X, _, names, train, test = data
    counting = Counting(forest)
    engine = ExplanationEngine(counting, names, X[train[:300]])
    result = engine.dependence(X[test], "X1_OutputCurrent")
    assert counting.calls == 1 and counting.rows == 200 * len(result.grid)
    assert result.ice.shape == (200, len(result.grid)) and 2 <= len(result.grid) <= 25
    np.testing.assert_allclose(result.pdp, result.ice.mean(axis=0))
    j = names.index("X1_OutputCurrent")
    sampled = X[test][np.sort(np.random.default_rng(0).choice(len(test), 200, replace=False))]
    reference = partial_dependence(forest, sampled, [j], kind="both", custom_values={j: result.grid})
    np.testing.assert_allclose(result.ice, reference["individual"][0], atol=1e-12)
    centred = engine.dependence(X[test], "X1_OutputCurrent", centred=True)
    assert np.all(centred.ice[:, 0] == 0) and centred.centred
    np.testing.assert_allclose(centred.ice, result.ice - result.ice[:, :1], atol=1e-12)


def test_the_pdp_of_a_feature_the_forest_never_uses_is_flat(engine, forest, data):
    X, _, names, _, test = data
    j = names.index(UNUSED)
    assert forest.feature_importances_[j] == 0
    noisy = X[test].copy()
    noisy[:, j] = np.random.default_rng(1).uniform(-30, 30, len(noisy))  # a grid to sweep
    result = engine.dependence(noisy, UNUSED)
    assert len(result.grid) == 25
    assert np.ptp(result.pdp) < 1e-12 and np.ptp(result.ice, axis=1).max() < 1e-12
    used = engine.dependence(X[test], "Z1_ActualPosition")
    assert np.ptp(used.pdp) > 0.01  # a feature it does use moves the curve


def test_the_global_shap_summary(explained, forest, data):
    X, _, names, _, test = data
    result = explained["shap_global"]
    assert result.n_rows == 20 and result.shap_values.shape == result.feature_values.shape == (len(names), 20)
    assert list(result.mean_abs) == sorted(result.mean_abs, reverse=True)
    np.testing.assert_allclose(result.mean_abs, np.abs(result.shap_values).mean(axis=1))
    np.testing.assert_array_equal(result.feature_values[0], X[test[:20], names.index(result.features[0])])
    totals = result.base_value + result.shap_values.sum(axis=0)
    np.testing.assert_allclose(totals, forest.predict_proba(X[test[:20]])[:, 1], atol=1e-6)
    assert result.max_additivity_error < 1e-6


def test_every_result_survives_a_json_round_trip(explained):
    for method, result in explained.items():
        data = json.loads(json.dumps(result.to_json(), allow_nan=False))
        again = result_from_json(data)
        assert type(again) is type(result) and again.to_json() == data, method
    assert isinstance(result_from_json(explained["dependence"].to_json()).ice, np.ndarray)
    lime = result_from_json(explained["lime"].to_json())
    condition, weight = lime.conditions[0]
    assert (condition, weight) == tuple(explained["lime"].conditions[0])


def test_the_plain_language_summary(explained, engine, rows):
    shap_result, anchor = explained["shap"], explained["anchor"]
    met = dataclasses.replace(anchor, threshold_met=True, data_precision=0.97, data_support=412)
    text = plain_language(met, shap_result)
    assert text.startswith("Called WORN") and shap_result.contributions[0].feature in text
    assert f"the rule '{' and '.join(anchor.rule)}' gives WORN in 97 % of the 412 recorded samples" in text
    missed = dataclasses.replace(anchor, threshold_met=False, precision=0.8)
    assert "no simple rule reached 95 %" in plain_language(missed, shap_result)
    assert plain_language(None, shap_result).count(";") == 0
    unworn = engine.shap_local(rows[UNWORN])
    assert plain_language(None, unworn).startswith("Called UNWORN (P(worn) = ")
    everywhere = dataclasses.replace(met, predicted="unworn", rule=[], conditions=[])
    assert "gives UNWORN for nearly every sample" in plain_language(everywhere, None)


def test_bad_input_is_refused_with_a_clear_message(engine, rows, data):
    X, _, names, train, _ = data
    x = rows[WORN].copy()
    x[names.index("X1_OutputCurrent")] = np.nan
    with pytest.raises(ExplanationInputError, match="X1_OutputCurrent"):
        engine.lime(x)
    with pytest.raises(ExplanationInputError, match="expected 48 values"):
        engine.shap_local(rows[WORN][:47])
    with pytest.raises(ExplanationInputError, match="did you mean X1_OutputCurrent.*valid features include"):
        engine.dependence(X[train[:50]], "X1_OutputCurent")
    with pytest.raises(ExplanationInputError, match="48 columns"):
        engine.surrogate(X[train[:50], :40], X[train[50:60]])
    with pytest.raises(ExplanationInputError, match="empty"):
        ExplanationEngine(engine.predictor, names, X[:0])
    with pytest.raises(ExplanationInputError, match="empty once rows with missing values"):
        ExplanationEngine(engine.predictor, names, np.full((3, 48), np.nan))
    with pytest.raises(ExplanationInputError, match="unknown explanation method 'lime2'"):
        engine.explain("lime2", x)
    assert issubclass(ExplanationInputError, ValueError)


def test_dispatch_by_name(engine, rows, data):
    X, _, _, _, test = data
    assert engine.explain("pdp", X[test[:50]], "phase").categorical
    assert engine.explain("shap", rows[UNWORN]).predicted == "unworn"


def test_a_model_that_always_says_worn_gets_an_empty_rule_and_no_credit_to_any_feature(data, rows):
    X, _, names, train, _ = data

    class AlwaysWorn:
        classes_ = np.array([0, 1])

        def predict_proba(self, X):
            return np.tile([0.01, 0.99], (len(X), 1))

    engine = ExplanationEngine(AlwaysWorn(), names, X[train[:500]])
    anchor = engine.anchor(rows[UNWORN])
    assert anchor.rule == [] and anchor.threshold_met and anchor.precision == 1.0 and anchor.predicted == "worn"
    assert anchor.data_support == 500 and anchor.data_precision == 1.0
    shap = engine.shap_local(rows[UNWORN])
    assert shap.base_value == pytest.approx(0.99) and all(c.shap == 0 for c in shap.contributions)
    assert plain_language(anchor, shap) == ("Called WORN (P(worn) = 0.99) with no single feature standing out; "
                                            "the model gives WORN for nearly every sample, whatever its values.")
    assert result_from_json(json.loads(json.dumps(anchor.to_json()))).to_json() == anchor.to_json()
