"""Drift of the real bundled dataset against reference profiles built from it (PSI, KS, P(worn), flags)."""

import json

import numpy as np
import pandas as pd
import pytest
from scipy.stats import ks_2samp

from cncwear_gui.data.schema import FLAG_BITS, SIGNAL_COLUMNS
from cncwear_gui.data.validation import check_values
from cncwear_gui.features.sets import FEATURE_SETS
from cncwear_gui.monitoring.drift import (
    FEATURE_GROUPS,
    PSI_EPSILON,
    DriftReport,
    DriftThresholds,
    ReferenceProfile,
    build_reference,
    compute_drift,
    feature_group,
    psi,
)

SEED = FEATURE_SETS["seed_slides"]
SIGNALS = FEATURE_SETS["signals"]
SCALED = [f"{axis}_{name}" for axis in ("X1", "Y1") for name in ("CurrentFeedback", "OutputCurrent", "OutputPower")]
HELD_OUT = (3, 8, 11, 13)  # two unworn (3, 11), two worn (8, 13)


@pytest.fixture(scope="module")
def samples(bundled_dataset):
    return bundled_dataset.samples()


@pytest.fixture(scope="module")
def features(samples):
    return SEED.build(samples)


@pytest.fixture(scope="module")
def reference_all(samples, features):
    return build_reference(features, SEED.key, flags=samples["quality_flags"].to_numpy())


def _experiment(samples, number):
    return (samples["experiment"] == number).to_numpy()


def _expected_psi(reference: np.ndarray, window: np.ndarray, bins) -> float:
    """PSI from pandas' own binning, independent of the module's searchsorted counting."""
    if bins is None:  # one bin per reference value, plus one for unseen values
        categories = np.unique(reference)
        expected = pd.Series(reference).value_counts(normalize=True).reindex(categories, fill_value=0).to_numpy()
        counts = pd.Series(window).value_counts(normalize=True)
        actual = counts.reindex(categories, fill_value=0).to_numpy()
        expected, actual = np.append(expected, 0.0), np.append(actual, 1.0 - actual.sum())
    else:
        cut = [-np.inf, *bins, np.inf]
        expected = pd.Series(pd.cut(reference, cut)).value_counts(normalize=True, sort=False).to_numpy()
        actual = pd.Series(pd.cut(window, cut)).value_counts(normalize=True, sort=False).to_numpy()
    expected, actual = np.clip(expected, PSI_EPSILON, None), np.clip(actual, PSI_EPSILON, None)
    return float(sum((a - e) * np.log(a / e) for a, e in zip(actual, expected)))


def test_feature_groups_of_every_feature_set_column():
    assert FEATURE_GROUPS == ("X1", "Y1", "Z1", "S1", "M1", "process")
    for column in SIGNAL_COLUMNS:
        assert feature_group(column) == column[:2]
    for column in ("phase", "feedrate", "clamp_pressure"):
        assert feature_group(column) == "process"
    assert {feature_group(c) for c in SEED.columns} == set(FEATURE_GROUPS)


def test_reference_bins_follow_the_data(features, reference_all):
    assert reference_all.columns == list(SEED.columns) and reference_all.n_rows == len(features)
    for name in ("phase", "feedrate", "clamp_pressure", "M1_CURRENT_PROGRAM_NUMBER", "X1_OutputCurrent"):
        column = reference_all.references[name]
        assert column.kind == "categorical"
        assert column.categories == sorted(features[name].dropna().unique().tolist())
        assert column.fractions[-1] == 0.0  # the "unseen value" bin
    for name in ("S1_ActualPosition", "X1_OutputPower"):  # X1_OutputPower: 18 % exactly 0.0
        column, values = reference_all.references[name], features[name].to_numpy()
        assert column.kind == "numeric" and len(column.edges) == 9
        assert column.edges == np.quantile(values, np.arange(1, 10) / 10).tolist()
        binned = pd.Series(pd.cut(values, [-np.inf, *column.edges, np.inf])).value_counts(sort=False)
        assert column.fractions == pytest.approx((binned / len(values)).tolist(), abs=1e-15)
    velocity = reference_all.references["X1_ActualVelocity"]  # many zeros: deciles collapse
    assert velocity.kind == "numeric" and len(velocity.edges) < 9 and len(set(velocity.edges)) == len(velocity.edges)
    for column in reference_all.references.values():
        assert sum(column.fractions) == pytest.approx(1.0)
        assert len(column.sample) <= 2000 and column.sample == sorted(column.sample)
    values = features["S1_ActualPosition"]
    sample = reference_all.references["S1_ActualPosition"].sample
    assert len(sample) == 2000 and sample[0] == values.min() and sample[-1] == values.max()


def test_random_half_of_the_same_rows_does_not_drift(features, reference_all):
    half = features.sample(frac=0.5, random_state=7)
    report = compute_drift(reference_all, half)
    assert report.n_rows == len(half) and len(report.features) == len(SEED.columns)
    assert not report.drifted and report.reasons == []
    assert all(f.level == "ok" for f in report.features), report.top(3)
    assert max(f.psi for f in report.features) < 0.01
    assert max(f.ks for f in report.features) < 0.05


def test_scaled_currents_and_powers_drift_and_lead_the_report(samples, features):
    thresholds = DriftThresholds()
    for number in sorted(samples["experiment"].unique()):
        window = features[_experiment(samples, number)]
        reference = build_reference(window, SEED.key)
        scaled = window.copy()
        scaled[SCALED] *= 1.5
        report = compute_drift(reference, scaled)

        changed = [f for f in report.features if f.psi > 0]
        assert {f.name for f in changed} <= set(SCALED), number
        assert [f.name for f in report.top(len(changed))] == [f.name for f in changed]
        for f in report.features:  # KS is against a 2,000-value subsample: not exactly 0 for longer runs
            if f.name not in SCALED:
                assert f.psi == 0.0 and f.ks < 0.002 and f.level == "ok", (number, f)
        for name in ("X1_OutputCurrent", "Y1_OutputCurrent"):  # all window values unseen in training
            assert report.feature(name).level == "alarm" and report.feature(name).psi > 5
        assert report.group_psi["X1"] >= thresholds.psi_alarm and report.group_psi["Y1"] >= thresholds.psi_alarm
        assert all(report.group_psi[g] == 0.0 for g in ("Z1", "S1", "M1", "process"))
        assert any(name in report.reasons[0] for name in SCALED)
        compared = len(report.features)
        assert report.drifted == (len(report.alarms) / compared >= thresholds.min_drifted_share)

        if number == 1:
            assert report.drifted
            assert {f.name for f in report.alarms} == set(SCALED)
            assert [f.name for f in report.top(len(SCALED))] == [f.name for f in report.alarms]
            assert report.reasons[0].startswith(f"{len(SCALED)} of {compared} features drifted")


def test_psi_matches_a_hand_computation_and_is_symmetric(samples, features):
    a, b = features[_experiment(samples, 11)], features[_experiment(samples, 12)]
    assert set(a["phase"]) == set(b["phase"])  # same categories both ways
    a_to_b = compute_drift(build_reference(a, SEED.key), b)
    b_to_a = compute_drift(build_reference(b, SEED.key), a)

    expected = _expected_psi(a["phase"].to_numpy(), b["phase"].to_numpy(), None)
    assert a_to_b.feature("phase").psi == pytest.approx(expected, rel=1e-12)
    assert b_to_a.feature("phase").psi == pytest.approx(expected, rel=1e-12)  # same bins: PSI is symmetric
    assert expected > 0

    for name in ("X1_OutputPower", "S1_ActualPosition", "Y1_CurrentFeedback"):
        column = a[name].to_numpy()
        deciles = np.unique(np.quantile(column, np.arange(1, 10) / 10))
        expected = _expected_psi(column, b[name].to_numpy(), deciles)
        assert a_to_b.feature(name).psi == pytest.approx(expected, rel=1e-12), name

    fractions_a = np.array(build_reference(a, SEED.key).references["X1_OutputPower"].fractions)
    fractions_b = np.roll(fractions_a, 3)
    assert psi(fractions_a, fractions_b) == pytest.approx(psi(fractions_b, fractions_a), rel=1e-12)
    assert psi(fractions_a, fractions_a) == 0.0


def test_ks_equals_scipy_ks_2samp_when_the_subsample_is_the_whole_column(samples, features):
    reference_rows, window_rows = features[_experiment(samples, 4)], features[_experiment(samples, 5)]
    assert len(reference_rows) <= 2000
    reference = build_reference(reference_rows, SEED.key)
    report = compute_drift(reference, window_rows)
    for name in SEED.columns:
        assert reference.references[name].sample == sorted(reference_rows[name].tolist())
        expected = ks_2samp(reference_rows[name].to_numpy(), window_rows[name].to_numpy()).statistic
        assert report.feature(name).ks == pytest.approx(expected, abs=1e-12), name
    assert max(f.ks for f in report.features) > 0.3  # two different runs: not a trivial comparison


@pytest.fixture(scope="module")
def held_out_predictions(samples):
    """P(worn) of a real random forest on four experiments it never saw."""
    from sklearn.ensemble import RandomForestClassifier

    labelled = samples["worn"].to_numpy() >= 0
    test = samples["experiment"].isin(HELD_OUT).to_numpy()
    X = SIGNALS.build(samples).to_numpy()
    y = samples["worn"].to_numpy()
    model = RandomForestClassifier(n_estimators=20, min_samples_leaf=5, random_state=0, n_jobs=1)
    model.fit(X[labelled & ~test], y[labelled & ~test])
    return test, model.predict_proba(X[test])[:, 1]


def test_predicted_wear_shift_from_unworn_to_worn_runs(samples, held_out_predictions):
    test, probabilities = held_out_predictions
    held_out = samples[test]
    worn = held_out["worn"].to_numpy() == 1
    X = SIGNALS.build(held_out)
    reference = build_reference(X[~worn], SIGNALS.key, worn_probability=probabilities[~worn])
    assert sum(reference.prediction_fractions) == pytest.approx(1.0)
    assert reference.prediction_mean == pytest.approx(probabilities[~worn].mean())

    report = compute_drift(reference, X[worn], worn_probability=probabilities[worn])
    assert report.prediction_psi >= DriftThresholds().prediction_psi_alarm
    assert report.drifted
    assert report.prediction_mean == pytest.approx(probabilities[worn].mean())
    assert report.reference_prediction_mean < 0.5 < report.prediction_mean
    sentence = next(r for r in report.reasons if r.startswith("predicted P(worn) distribution shifted"))
    assert f"PSI {report.prediction_psi:.2f}" in sentence
    assert f"mean {report.reference_prediction_mean:.2f} → {report.prediction_mean:.2f}" in sentence

    rng = np.random.default_rng(3)
    same = rng.random(int((~worn).sum())) < 0.5  # the unworn rows again: no prediction shift
    control = compute_drift(reference, X[~worn][same], worn_probability=probabilities[~worn][same])
    assert control.prediction_psi < DriftThresholds().psi_warn
    assert not any("P(worn)" in r for r in control.reasons)


def test_injected_quality_problems_show_up_as_flag_rates(samples, features, reference_all):
    assert reference_all.flag_rates["non_finite"] == 0.0 and reference_all.flag_rates["out_of_range"] == 0.0
    m1_rate = np.count_nonzero(samples["quality_flags"].to_numpy() & FLAG_BITS["m1_feedrate_50"]) / len(samples)
    assert reference_all.flag_rates["m1_feedrate_50"] == m1_rate

    window = samples[_experiment(samples, 8)].reset_index(drop=True).copy()
    n = len(window)
    broken = np.arange(n) < round(0.12 * n)  # the first 12 %: a sensor drop-out
    implausible = np.arange(n) >= n - round(0.08 * n)  # the last 8 %: a spike
    window.loc[broken, "X1_OutputPower"] = np.nan
    window.loc[implausible, "S1_OutputPower"] = 1e6
    flags = check_values(window[list(SIGNAL_COLUMNS)].to_numpy(), window["phase"].to_numpy())
    window["quality_flags"] = flags  # the real flags column, recomputed by the real checks

    report = compute_drift(reference_all, SEED.build(window), flags=window["quality_flags"].to_numpy())
    assert report.flag_rates["non_finite"] == broken.sum() / n
    assert report.flag_rates["out_of_range"] == implausible.sum() / n
    assert report.reference_flag_rates == reference_all.flag_rates
    expected = f"data-quality flag 'non_finite' on {100 * broken.sum() / n:.1f} % of rows (reference 0.0 %)"
    assert expected in report.reasons
    assert any(r.startswith(f"data-quality flag 'out_of_range' on {100 * implausible.sum() / n:.1f} %") for r in report.reasons)

    # NaN values are ignored per column: the same PSI as without those rows
    without = compute_drift(reference_all, SEED.build(window[~broken]))
    assert report.feature("X1_OutputPower").psi == pytest.approx(without.feature("X1_OutputPower").psi, rel=1e-12)

    window["Z1_OutputCurrent"] = np.nan
    empty = compute_drift(reference_all, SEED.build(window))
    assert empty.feature("Z1_OutputCurrent").psi is None and empty.features[-1].name == "Z1_OutputCurrent"
    assert any("no finite values" in r and "Z1_OutputCurrent" in r for r in empty.reasons)


def test_reference_and_report_round_trip_through_json_files(tmp_path, samples, features, held_out_predictions):
    test, probabilities = held_out_predictions
    flags = samples["quality_flags"].to_numpy()
    reference = build_reference(features[test], SEED.key, worn_probability=probabilities, flags=flags[test])
    path = reference.save(tmp_path / "reference.json")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["reference.json"]  # no temp file left
    loaded = ReferenceProfile.load(path)
    assert loaded == reference
    assert json.dumps(loaded.to_json()) == json.dumps(reference.to_json())

    window = features[_experiment(samples, 1)].copy()
    window["Z1_OutputCurrent"] = np.nan
    report = compute_drift(loaded, window, worn_probability=np.linspace(0, 1, len(window)), flags=flags[_experiment(samples, 1)])
    assert report.drifted and report.feature("Z1_OutputCurrent").psi is None
    report_path = report.save(tmp_path / "drift.json")
    again = DriftReport.load(report_path)
    assert again == report
    assert sorted(p.name for p in tmp_path.iterdir()) == ["drift.json", "reference.json"]
    json.loads(report_path.read_text(), parse_constant=lambda c: pytest.fail(f"non-standard JSON {c}"))


def test_a_failed_save_keeps_the_old_file_and_leaves_no_temp_file(tmp_path, monkeypatch, features, reference_all):
    path = reference_all.save(tmp_path / "reference.json")
    before = path.read_bytes()
    other = build_reference(features.head(100), SEED.key)

    def refuse(*args):
        raise OSError("disk full")

    monkeypatch.setattr("cncwear_gui.atomic_files.os.replace", refuse)
    with pytest.raises(OSError, match="disk full"):
        other.save(path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["reference.json"]


def test_bad_input_is_refused_with_a_clear_message(samples, features, reference_all):
    with pytest.raises(ValueError, match="clamp_pressure") as raised:
        compute_drift(reference_all, features.drop(columns=["clamp_pressure", "X1_OutputPower"]))
    assert "X1_OutputPower" in str(raised.value)
    with pytest.raises(ValueError, match="empty"):
        compute_drift(reference_all, features.iloc[:0])
    with pytest.raises(ValueError, match="empty"):
        build_reference(features.iloc[:0], SEED.key)
    with pytest.raises(ValueError, match="worn_probability has 3 values for 10 rows"):
        compute_drift(reference_all, features.head(10), worn_probability=np.zeros(3))
    with pytest.raises(ValueError, match="flags has 9 values for 10 rows"):
        compute_drift(reference_all, features.head(10), flags=samples["quality_flags"].to_numpy()[:9])
    with pytest.raises(ValueError, match="numeric"):
        compute_drift(reference_all, features.head(10).assign(phase="Layer 1 Up"))
