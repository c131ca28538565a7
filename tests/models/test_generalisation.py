"""Generalisation to unseen tools: the setup-free feature set, the leakage check, the tool
verdict and the LOEO-chosen champion, on the bundled dataset."""

import numpy as np
import pytest

from cncwear_gui.data.schema import DOCUMENTED_UNRELIABLE, PHASE_CODES
from cncwear_gui.features.leakage import WARN_AT, check_leakage, feature_set_leakage
from cncwear_gui.features.sets import FEATURE_SETS, get_feature_set, training_matrix
from cncwear_gui.models.verdict import BLOCK_SAMPLES, RunVerdictTracker, phase_verdicts, tool_verdict


def test_the_process_set_is_setup_free_and_computed_from_each_sample_alone(bundled_dataset):
    process = get_feature_set("process")
    assert not process.setup_dependent_columns and not process.uses_experiment_constants
    assert not any("Position" in c and c.endswith(("Position",)) for c in process.columns)
    samples = bundled_dataset.samples()
    whole = process.build(samples)
    assert whole.shape == (len(samples), len(process.columns)) and np.isfinite(whole.to_numpy()).all()
    np.testing.assert_allclose(whole["Z1_position_error"], samples["Z1_ActualPosition"] - samples["Z1_CommandPosition"])
    # no history: one sample on its own gives the same row as in the whole frame
    row = 12_345
    np.testing.assert_array_equal(process.matrix(samples.iloc[[row]])[0], whole.to_numpy()[row])
    # what a live machine must send: signals and the phase, never positions as features
    assert "Z1_ActualPosition" in process.inputs and "feedrate" not in process.inputs
    definition = process.definition()
    assert definition["derived"]["path_speed_command"].startswith("hypot(") and definition["exclude_flags"]


def test_the_process_set_trains_without_the_samples_the_dataset_calls_unreliable(bundled_dataset):
    samples = bundled_dataset.samples()
    _, y_signals, _ = training_matrix(samples, get_feature_set("signals"))
    _, y_process, _ = training_matrix(samples, get_feature_set("process"))
    flagged = int(((samples["quality_flags"].to_numpy() & DOCUMENTED_UNRELIABLE) != 0).sum())
    assert flagged == 7_431  # PROVENANCE.md: either documented condition
    assert len(y_signals) == 25_286 and len(y_process) == 25_286 - flagged


def test_every_feature_set_is_versioned_in_the_feature_store(tmp_path):
    from cncwear_gui.store.feature_store import FeatureStore

    store = FeatureStore(f"sqlite:///{tmp_path / 'fs.db'}")
    stored = {(fs["name"], fs["version"]): fs for fs in store.feature_sets()}
    for feature_set in FEATURE_SETS.values():
        assert stored[(feature_set.name, feature_set.version)]["fingerprint"] == feature_set.fingerprint
    assert "derived" in stored[("process", 1)]["definition"]


def test_the_leakage_check_finds_an_identifying_column_and_ignores_noise(bundled_dataset):
    samples = bundled_dataset.samples()
    X, _, groups = training_matrix(samples, get_feature_set("process"))
    rng = np.random.default_rng(0)
    # a per-experiment constant the process set leaves out (train.csv's feedrate), and pure noise
    reliable = (samples["quality_flags"].to_numpy() & DOCUMENTED_UNRELIABLE) == 0
    constant = samples.loc[reliable, "feedrate"].to_numpy()
    assert len(constant) == len(groups)
    report = check_leakage(np.column_stack([rng.normal(size=len(groups)), constant]), groups,
                           ["noise", "feedrate"], "probe")
    scores = dict(report.per_feature)
    assert scores["noise"] < 0.05 < scores["feedrate"]
    assert report.per_feature[0][0] == "feedrate"


@pytest.mark.slow
def test_the_slides_features_nearly_identify_the_experiment_the_process_set_does_not(bundled_dataset):
    samples = bundled_dataset.samples()
    slides = feature_set_leakage(samples, get_feature_set("seed_slides"), per_feature=False)
    process = feature_set_leakage(samples, get_feature_set("process"), per_feature=False)
    assert slides.score >= WARN_AT and slides.level == "warning"
    assert process.score < slides.score and process.level != "warning"
    assert slides.experiments == 18 and slides.chance == pytest.approx(1 / 18)


def test_the_verdict_needs_evidence_and_states_its_confidence():
    assert tool_verdict(np.ones(BLOCK_SAMPLES)).confidence == 0.5  # one block: no verdict
    worn = tool_verdict(np.r_[np.ones(270), np.zeros(30)])
    assert worn.worn and worn.decided and worn.worn_share == pytest.approx(0.9)
    # calls that swing between blocks around one half: not decided either way
    mixed = tool_verdict(np.tile(np.r_[np.ones(BLOCK_SAMPLES), np.zeros(BLOCK_SAMPLES)], 3)[:-10])
    assert not mixed.decided
    codes = np.r_[np.full(120, PHASE_CODES["Layer 1 Up"]), np.full(80, PHASE_CODES["Layer 2 Up"])]
    phases = phase_verdicts(np.r_[np.ones(120), np.zeros(80)], codes)
    assert [(v.scope, v.worn) for v in phases] == [("Layer 1 Up", True), ("Layer 2 Up", False)]


@pytest.mark.slow
def test_the_live_tracker_agrees_with_the_verdict_and_starts_over_with_a_new_run(champion, bundled_dataset):
    samples = bundled_dataset.samples()
    run = samples[samples["experiment"] == 6]
    calls = champion.probability_of(champion.feature_set.matrix(run)) >= 0.5
    tracker = RunVerdictTracker()
    for call, code in zip(calls, run["phase"].to_numpy()):
        tracker.update(bool(call), int(code))
    expected = tool_verdict(calls)
    live = tracker.verdict()
    assert live.samples == expected.samples == len(run)
    assert live.worn_share == pytest.approx(expected.worn_share) and live.confidence == pytest.approx(expected.confidence)
    assert live.worn and live.decided and tracker.phase_shares()
    tracker.update(False, PHASE_CODES["Prep"])  # the part is done: a new one starts
    assert tracker.runs == 1 and tracker.verdict().samples == 1 and tracker.verdict().confidence == 0.5


def test_the_first_start_champion_is_chosen_by_grouped_folds(bundled_dataset):
    from cncwear_gui.models.first_start import QUICK_CANDIDATES, select_feature_set

    computed = select_feature_set(bundled_dataset, use_record=False)
    assert computed.source == "computed" and set(computed.scores) == set(QUICK_CANDIDATES)
    assert computed.scores[computed.chosen] == max(computed.scores.values())
    assert all(0 <= value <= 1 for value in computed.scores.values()) and computed.recorded_loeo is None
    # a fresh install reuses the figures recorded for exactly these rows: they must be these (up to
    # tie-breaks of the forests' threaded votes, a few rows in 25,000)
    recorded = select_feature_set(bundled_dataset)
    assert recorded.source.startswith("recorded for these exact training rows"), (
        "resources/models/first_start_selection.json is stale: run packaging/record_first_start_selection.py")
    assert recorded.chosen == computed.chosen
    assert recorded.scores == pytest.approx(computed.scores, abs=1e-3)


@pytest.mark.slow
def test_the_recorded_first_start_loeo_figures_are_what_the_gate_would_compute(bundled_dataset):
    """The gate compares a challenger with the first-start champion's LOEO figure: the recorded one
    must be what the gate's own evaluation of that champion gives (promotion._evaluate_champion)."""
    from cncwear_gui.features.sets import get_feature_set, training_matrix
    from cncwear_gui.models.first_start import quick_forest, select_feature_set
    from cncwear_gui.models.evaluation import evaluate_loeo

    recorded = select_feature_set(bundled_dataset)
    X, y, groups = training_matrix(bundled_dataset.samples(), get_feature_set(recorded.chosen))
    evaluated = evaluate_loeo(quick_forest(0), X, y, groups, refit=False)
    assert recorded.recorded_loeo == pytest.approx(evaluated.metrics, abs=1e-3)


def test_a_selection_recorded_for_other_rows_is_not_used(bundled_dataset):
    from cncwear_gui.data.dataset import Dataset
    from cncwear_gui.models.first_start import select_feature_set

    last = max(bundled_dataset.experiments)
    fewer = Dataset({number: e for number, e in bundled_dataset.experiments.items() if number != last})
    assert select_feature_set(fewer).source == "computed"
