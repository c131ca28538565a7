"""The paired protocol on the real bundled data: teaching per phase on the unworn run's first half,
false alarms counted from the judge's own output, detection on the worn run, pairs that cannot be
taught reported with the reason, the classifier's verdict beside it, and the JSON."""

import json
import math

import numpy as np
import pytest

from cncwear_gui.data.schema import CUTTING_PHASES, PHASES
from cncwear_gui.data.setup import setup_of_meta
from cncwear_gui.models.paired import (COLUMNS, PAIRS, WINDOW_S, paired_protocol, split_per_phase,
                                       training_note)
from cncwear_gui.monitoring.teach_in import (NOT_TAUGHT, OVER, WINDOW_SAMPLES, Limits, judge, teach,
                                             windows_of_samples)


@pytest.fixture(scope="module")
def report(bundled_dataset):
    return paired_protocol(bundled_dataset)


def pair(report, unworn, worn):
    return next(p for p in report.pairs if (p.unworn, p.worn) == (unworn, worn))


def run_windows(dataset, experiment):
    samples = dataset.samples()
    return windows_of_samples(samples[samples["experiment"] == experiment].reset_index(drop=True))


def alarms_of(levels, delay):
    """Alarms from the judgements' levels: a streak of `delay` taught windows over the alarm limit;
    windows in untaught phases neither count nor break a streak (as the judge)."""
    alarms, streak = [], 0
    for index, level in enumerate(levels):
        if level == NOT_TAUGHT:
            continue
        streak = streak + 1 if level == OVER else 0
        if streak == delay:
            alarms.append(index)
    return alarms


def test_every_pair_is_reported_in_order(report):
    assert [(p.unworn, p.worn) for p in report.pairs] == list(PAIRS)
    assert report.limits == Limits()  # the defaults: nothing tuned on the worn runs


def test_pair_1_6_is_taught_on_six_phases_and_its_worn_run_detected(report, bundled_dataset):
    result = pair(report, 1, 6)
    assert result.taught and result.setup == "feed 6 · clamp 4"
    assert result.taught_phases == list(CUTTING_PHASES)
    assert result.detected
    assert result.detection_s == (result.alarm_index + 1) * WINDOW_S
    delay = report.limits.delay_windows
    raised = [j.level for j in result.worn_judgements[: result.alarm_index + 1] if j.level != NOT_TAUGHT]
    assert raised[-delay:] == [OVER] * delay  # the alarm window closes the first streak of three over the limit
    assert alarms_of([j.level for j in result.worn_judgements], delay)[0] == result.alarm_index
    assert len(result.worn_judgements) == len(run_windows(bundled_dataset, 6))  # the whole worn run


def test_pair_5_16_is_not_taught_and_says_why(report):
    result = pair(report, 5, 16)
    assert not result.taught and not result.detected
    assert "cutting window" in result.not_taught and "at least 10" in result.not_taught
    row = dict(zip(COLUMNS, result.row()))
    assert row["taught phases"] == f"not taught: {result.not_taught}"
    data = result.to_json()
    assert data["taught"] is False and data["not_taught"] == result.not_taught
    assert data["unworn_half"] is None and data["worn_run"] is None


def test_teaching_uses_the_first_half_of_each_phase(bundled_dataset):
    windows = run_windows(bundled_dataset, 1)
    first, second = split_per_phase(windows)
    assert len(first) + len(second) == len(windows)
    for code in np.unique(windows.phase):
        starts = windows.start[windows.phase == code]
        taught = first.start[first.phase == code]
        assert list(taught) == list(starts[: math.ceil(len(starts) / 2)])
        assert (second.start[second.phase == code] > taught.max()).all()
    assert list(second.start) == sorted(second.start)  # judged in stream order


def test_false_alarms_come_from_the_judges_windows(report, bundled_dataset):
    delay = report.limits.delay_windows
    total_alarms, total_s = 0, 0.0
    for result in report.taught:
        levels = [j.level for j in result.unworn_judgements]
        # the judgements themselves, recomputed: taught on the first halves, judged on the rest
        teach_half, judge_half = split_per_phase(run_windows(bundled_dataset, result.unworn))
        reference = teach(teach_half, "test", setup_of_meta(bundled_dataset.experiments[result.unworn].meta))
        assert [j.level for j in judge(reference, judge_half, report.limits)] == levels
        assert result.teach_windows == len(teach_half)
        alarms = alarms_of(levels, delay)
        judged_s = sum(level != NOT_TAUGHT for level in levels) * WINDOW_SAMPLES * 0.1
        assert result.false_alarms == len(alarms)
        assert result.unworn_cutting_s == pytest.approx(judged_s)
        rate = len(alarms) / (judged_s / 3600)
        assert math.isfinite(result.false_alarms_per_hour)
        assert result.false_alarms_per_hour == pytest.approx(rate)
        total_alarms += len(alarms)
        total_s += judged_s
    assert report.false_alarms_per_hour == pytest.approx(total_alarms / (total_s / 3600))
    assert math.isfinite(report.false_alarms_per_hour)


def test_totals_and_the_median_detection(report):
    detected = [p for p in report.pairs if p.detected]
    assert report.detected == len(detected)
    assert report.median_detection_s == pytest.approx(float(np.median([p.detection_s for p in detected])))
    assert f"Worn runs detected: {report.detected} of {len(PAIRS)}" in report.summary()


def test_the_json_shape(report):
    data = json.loads(json.dumps(report.to_json()))
    assert data["protocol"] == "paired" and data["limits"] == Limits().to_json()
    assert data["classifier"] is None  # no model given
    assert len(data["pairs"]) == len(PAIRS)
    totals = data["totals"]
    assert totals["pairs"] == len(PAIRS) and totals["taught"] == len(report.taught)
    assert totals["detected"] == report.detected and totals["false_alarms"] == report.false_alarms
    assert data["table"]["columns"] == list(COLUMNS)
    assert all(len(row) == len(COLUMNS) for row in data["table"]["rows"])
    taught = next(p for p in data["pairs"] if p["taught"])
    half = taught["unworn_half"]
    assert set(half) >= {"windows", "judged_windows", "untaught_windows", "cutting_s", "false_alarms",
                         "false_alarms_per_hour", "levels"}
    assert half["windows"] == half["judged_windows"] + half["untaught_windows"] == len(half["levels"])
    assert set(taught["worn_run"]) >= {"windows", "untaught_windows", "detected", "detection_s", "alarm"}
    assert all(phase in PHASES for phase in taught["taught_phases"])


def test_given_limits_are_used(bundled_dataset):
    lenient = Limits(warn_pct=999, alarm_pct=999, delay_windows=1000)
    result = paired_protocol(bundled_dataset, lenient)
    assert result.limits is lenient
    assert result.detected == 0 and result.false_alarms == 0


def test_a_pair_missing_from_the_data_is_reported(bundled_dir):
    from cncwear_gui.data.dataset import load_dataset

    dataset = load_dataset([bundled_dir / "experiment_01.csv", bundled_dir / "experiment_06.csv",
                            bundled_dir / "train.csv"])
    report = paired_protocol(dataset)
    assert len(report.pairs) == len(PAIRS)
    assert pair(report, 1, 6).taught and pair(report, 1, 6).detected
    assert pair(report, 17, 18).not_taught == "experiment 17 is not in the data"


def test_the_training_note_says_whether_the_classifier_saw_the_runs(bundled_dataset):
    sha = bundled_dataset.experiments[6].sha256[:12]
    assert "trained on 1 of the pairs' 15 runs (experiment 6)" in training_note([sha], bundled_dataset)
    assert "optimistic" in training_note([sha], bundled_dataset)
    assert training_note([], bundled_dataset) == "It was not trained on any run of the pairs."
    assert "optimistic" in training_note(None, bundled_dataset)  # not recorded: assume it saw them


@pytest.mark.slow
def test_the_classifier_verdict_on_the_same_windows(bundled_dataset, champion):
    from cncwear_gui.models.verdict import tool_verdict

    report = paired_protocol(bundled_dataset, model=champion)
    assert report.classifier == champion.label
    samples = bundled_dataset.samples()
    for result in report.pairs:
        worn = samples[samples["experiment"] == result.worn].reset_index(drop=True)
        windows = windows_of_samples(worn)
        rows = (windows.start[:, None] + np.arange(WINDOW_SAMPLES)).ravel()
        expected = tool_verdict(champion.worn_probability(worn)[rows] >= 0.5)
        assert result.classifier_worn.samples == len(windows) * WINDOW_SAMPLES
        assert result.classifier_worn.worn_share == pytest.approx(expected.worn_share)
        assert result.classifier_unworn is not None  # judged even where the monitor is not taught
    assert json.loads(json.dumps(report.to_json()))["pairs"][0]["classifier"]["worn_run"]["verdict"] in ("worn", "unworn")
