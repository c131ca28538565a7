"""Drift against the setup's own reference (monitoring/setup_drift.py) on the real bundled runs."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from helpers import run_cli

from cncwear_gui.data.setup import setups_of_rows
from cncwear_gui.features.sets import FEATURE_SETS
from cncwear_gui.monitoring.drift import (
    DriftReport,
    PackedReferences,
    build_reference,
    column_drift,
    column_reference,
    compute_drift,
    sorted_finite,
)
from cncwear_gui.monitoring.setup_drift import SetupDriftReference, compare, phase_segments

SIGNALS = FEATURE_SETS["signals"]
SIGNAL = "S1_CurrentFeedback"


@pytest.fixture(scope="module")
def samples(bundled_dataset):
    return bundled_dataset.samples(labelled_only=True)


@pytest.fixture(scope="module")
def features(samples):
    return SIGNALS.build(samples)


@pytest.fixture(scope="module")
def reference(samples):
    return SetupDriftReference.build(samples, SIGNALS)


def _run(samples, number):
    return np.flatnonzero(samples["experiment"].to_numpy() == number)


def _judge(reference, samples, features, rows, window=None):
    return compare(reference, features.iloc[rows] if window is None else window, samples["phase"].to_numpy()[rows],
                   setups_of_rows(samples.iloc[rows[:1]])[0])


def test_every_experiment_against_its_setup_reference_has_no_drift_where_the_pooled_check_flags_it(
        samples, features, reference):
    pooled = build_reference(features, SIGNALS.key)
    assert len(reference.setups) == 10 and "feed 6 · clamp 4" in reference.setups
    for number in sorted(set(samples["experiment"])):
        rows = _run(samples, number)
        report = _judge(reference, samples, features, rows)
        assert not report.drifted and not report.unfamiliar, (number, report.reasons)
        assert report.setup == setups_of_rows(samples.iloc[rows[:1]])[0]
        assert any(f.psi is not None for f in report.features)  # judged, not skipped
        assert compute_drift(pooled, features.iloc[rows]).drifted  # the pooled check flags each job


@pytest.mark.parametrize("fault", ["gain", "frozen"])
def test_a_gain_or_a_frozen_signal_in_a_60_s_window_is_flagged_naming_the_signal(samples, features, reference, fault):
    rows = _run(samples, 3)[150:750]  # 60 s holding whole Layer 1 Down, Repositioning and Layer 2 Up stretches
    clean = _judge(reference, samples, features, rows)
    assert not clean.drifted and clean.features[0].psi is not None
    window = features.iloc[rows].copy()
    values = window[SIGNAL].to_numpy()
    window[SIGNAL] = values * 1.15 if fault == "gain" else np.full(values.size, values[0])
    report = _judge(reference, samples, features, rows, window)
    assert report.drifted, report.reasons
    assert report.features[0].name == SIGNAL and [f.name for f in report.alarms] == [SIGNAL]
    assert any(SIGNAL in reason for reason in report.reasons)


def test_an_unfamiliar_setup_is_reported_as_such_not_as_drift(samples, features, reference):
    rows = _run(samples, 1)
    window = features.iloc[rows]
    report = compare(reference, window, samples["phase"].to_numpy()[rows], "feed 9 · clamp 4",
                     flags=samples["quality_flags"].to_numpy()[rows])
    assert report.unfamiliar and not report.drifted and report.setup == "feed 9 · clamp 4"
    assert report.reasons == ["unfamiliar setup feed 9 · clamp 4: no reference run; not judged as drift"]
    assert report.flag_rates  # the window's rates are kept, not compared
    unknown = compare(reference, window, samples["phase"].to_numpy()[rows], "setup unknown")
    assert unknown.unfamiliar and "setup unknown" in unknown.reasons[0]


def test_a_window_inside_one_phase_is_not_judged(samples, features, reference):
    run = _run(samples, 11)
    longest = max(phase_segments(samples["phase"].to_numpy()[run], run), key=len)
    rows = longest[20:-20]  # 45 s inside one phase stretch: the window's edges cut it
    assert rows.size > 400
    report = _judge(reference, samples, features, rows)
    assert not report.drifted and not report.unfamiliar
    assert all(f.psi is None for f in report.features) and "not judged" in report.reasons[0]


def test_json_round_trip_gives_the_same_judgement(tmp_path, samples, features, reference):
    path = reference.save(tmp_path / "setup_reference.json")
    loaded = SetupDriftReference.load(path)
    assert loaded.setups == reference.setups and loaded.columns == reference.columns
    rows = _run(samples, 14)
    window = features.iloc[rows].copy()
    window[SIGNAL] *= 1.15
    before, after = (_judge(r, samples, features, rows, window) for r in (reference, loaded))
    assert [(f.name, f.psi, f.ks) for f in after.features] == [(f.name, f.psi, f.ks) for f in before.features]
    assert after.drifted and after.reasons == before.reasons

    data = before.to_json()
    assert data["setup"] == "feed 3 · clamp 3" and data["unfamiliar"] is False
    assert DriftReport.from_json(json.loads(json.dumps(data))).setup == "feed 3 · clamp 3"
    del data["setup"], data["unfamiliar"]  # a report saved before these fields
    assert DriftReport.from_json(data).setup == "" and not DriftReport.from_json(data).unfamiliar

    broken = json.loads(path.read_text())
    broken["format"] = 99
    with pytest.raises(ValueError, match="format"):
        SetupDriftReference.from_json(broken)


def test_packed_references_give_the_same_psi_and_ks_as_column_drift(samples, features):
    matrix = features.to_numpy()
    reference_rows, window_rows = _run(samples, 2), _run(samples, 7)[:300]
    references = [column_reference(c, sorted_finite(matrix[reference_rows, j]), 100) for j, c in enumerate(features.columns)]
    window = matrix[window_rows].copy()
    window[5:9, 3] = np.nan
    window[0, 7] = np.inf
    window[:, 10] = np.nan  # a column without a finite value
    psi, ks = PackedReferences(references).compare(window)
    for j, column_ref in enumerate(references):
        values = sorted_finite(window[:, j])
        if not values.size:
            assert np.isnan(psi[j]) and np.isnan(ks[j])
            continue
        expected_psi, expected_ks = column_drift(column_ref, values)
        assert psi[j] == pytest.approx(expected_psi, abs=1e-12) and ks[j] == pytest.approx(expected_ks, abs=1e-12)


def test_bad_windows_are_refused_with_a_clear_message(samples, features, reference):
    rows = _run(samples, 1)
    with pytest.raises(ValueError, match="phases has 10 values"):
        compare(reference, features.iloc[rows], samples["phase"].to_numpy()[rows][:10], "feed 6 · clamp 4")
    with pytest.raises(ValueError, match="phases must be the phase codes"):
        compare(reference, features.iloc[rows], samples["Machining_Process"].to_numpy()[rows], "feed 6 · clamp 4")
    with pytest.raises(ValueError, match="lacks 1 column"):
        compare(reference, features.iloc[rows].drop(columns=[SIGNAL]), samples["phase"].to_numpy()[rows], "feed 6 · clamp 4")
    with pytest.raises(ValueError, match="no training row has a known setup"):
        SetupDriftReference.build(samples.assign(feedrate=np.nan), SIGNALS)


@pytest.mark.slow
def test_cli_drift_per_setup_says_no_drift_and_unfamiliar_where_the_pooled_mode_flags(champion_home, bundled_dir, tmp_path):
    env = {"CNCWEAR_HOME": str(champion_home)}  # the champion's training runs are the per-setup reference
    files = [str(bundled_dir / "experiment_01.csv"), str(bundled_dir / "experiment_09.csv")]
    done = run_cli("drift", *files, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    assert f"{files[0]}: feed 6 · clamp 4: no drift" in done.stdout
    assert f"{files[1]}: feed 15 · clamp 4: no drift" in done.stdout

    new_job = tmp_path / "new_job"
    new_job.mkdir()
    shutil.copy(bundled_dir / "experiment_03.csv", new_job / "experiment_19.csv")  # a run of a job never trained on
    (new_job / "train.csv").write_text("No,material,feedrate,clamp_pressure,tool_condition,machining_finalized,"
                                       "passed_visual_inspection\n19,wax,9,4,unworn,yes,yes\n")
    done = run_cli("drift", files[0], str(new_job / "experiment_19.csv"), "--json", env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout)
    assert result["mode"] == "setup"
    assert [(f["setup"], f["drifted"], f["unfamiliar"]) for f in result["files"]] == [
        ("feed 6 · clamp 4", False, False), ("feed 9 · clamp 4", False, True)]

    pooled = run_cli("drift", files[0], "--pooled", env=env)
    assert pooled.returncode == 0, pooled.stderr[-3000:]
    assert pooled.stdout.startswith("DRIFTED") and "pooled" in pooled.stdout
