"""Scoring files chunk by chunk gives the live engine's verdict: the same runs and figures as
RunVerdictTracker fed sample by sample, whatever the chunk size."""

import numpy as np
import pytest

from cncwear_gui.models.file_predictions import FilePrediction, FileScorer
from cncwear_gui.models.verdict import RunVerdictTracker, phase_verdicts


@pytest.fixture(scope="module")
def two_runs(bundled_dataset):
    """Experiments 6 (worn) and 1 (unworn) back to back, as one logger file would hold them."""
    samples = bundled_dataset.samples()
    rows = samples[samples["experiment"].isin([6, 1])]
    order = np.concatenate([np.flatnonzero(rows["experiment"].to_numpy() == e) for e in (6, 1)])
    return rows.iloc[order].reset_index(drop=True)


def _tracker_runs(calls, phases):
    tracker, verdicts = RunVerdictTracker(), []
    for call, phase in zip(calls, phases):
        before, previous = tracker.runs, tracker.verdict()
        tracker.update(bool(call), int(phase))
        if tracker.runs != before:
            verdicts.append(previous)
    verdicts.append(tracker.verdict())
    return verdicts


@pytest.mark.parametrize("chunk", [97, 1_000_000])
def test_runs_and_verdicts_match_the_live_tracker(champion, two_runs, chunk):
    scorer = FileScorer(champion, 0.5, FilePrediction("two.csv", None, "setup unknown"))
    probabilities = np.concatenate([scorer.add(two_runs.iloc[i:i + chunk]).probability
                                    for i in range(0, len(two_runs), chunk)])
    prediction = scorer.finish()
    # bit-identical whatever the chunk; scikit-learn's thread pool may differ in the last bit only
    assert np.allclose(probabilities, champion.worn_probability(two_runs), rtol=0, atol=1e-12)
    if chunk != 97:
        again = FileScorer(champion, 0.5, FilePrediction("two.csv", None, "setup unknown"))
        assert np.array_equal(np.concatenate([again.add(two_runs.iloc[i:i + 97]).probability
                                              for i in range(0, len(two_runs), 97)]), probabilities)
    calls, phases = probabilities >= 0.5, two_runs["phase"].to_numpy()
    expected = _tracker_runs(calls, phases)
    assert len(prediction.runs) == len(expected) >= 2
    for run, verdict in zip(prediction.runs, expected):
        assert (run.verdict.samples, run.verdict.worn_share) == (verdict.samples, verdict.worn_share)
        assert run.verdict.confidence == pytest.approx(verdict.confidence, abs=1e-12)
    first = prediction.runs[0]
    assert first.first_line == 2 and first.verdict.samples == int((two_runs["experiment"] == 6).sum())
    assert [p.scope for p in first.phases] == [p.scope for p in phase_verdicts(calls[:first.verdict.samples],
                                                                               phases[:first.verdict.samples])]
    assert prediction.rows == len(two_runs) and prediction.called_worn == int(calls.sum())
