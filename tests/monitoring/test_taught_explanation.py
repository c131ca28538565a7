"""The taught monitor's judgement of one recorded sample (the Explanations view, ``cncwear explain``):
taught with ``cncwear teach`` on experiment 1 into a real SQLite store, explained on experiment 6
(the same setup, worn), and checked against what ``judge()`` and ``TaughtJudge`` say offline."""

from __future__ import annotations

import math

import numpy as np
import pytest

from cncwear_gui.cli import main
from cncwear_gui.data.dataset import load_dataset
from cncwear_gui.data.schema import CUTTING_PHASES, PHASE_CODES
from cncwear_gui.explain.service import SampleNotFound
from cncwear_gui.explain.taught import taught_explanation
from cncwear_gui.monitoring.teach_in import (
    OVER,
    WINDOW_SAMPLES,
    Limits,
    TaughtJudge,
    TaughtReference,
    describe,
    judge,
    windows_of_samples,
)
from cncwear_gui.store.taught_references import TaughtReferenceStore

SETUP = "feed 6 · clamp 4"  # experiments 1 and 6 (train.csv)


@pytest.fixture(scope="module")
def dataset(bundled_dir):
    return load_dataset([bundled_dir / f"experiment_{n:02d}.csv" for n in (1, 2, 6)])


@pytest.fixture
def taught_home(home, tmp_path, monkeypatch, capsys, bundled_dir):
    """A fresh home whose default store has mill-1 taught on experiment 1 by ``cncwear teach``."""
    monkeypatch.setenv("CNCWEAR_CONFIG_DIR", str(tmp_path / "config"))  # the demo machines
    assert main(["teach", str(bundled_dir / "experiment_01.csv"), "--machine", "mill-1"]) == 0, capsys.readouterr()
    with TaughtReferenceStore() as store:
        stored = store.active("mill-1", SETUP)
        reference = TaughtReference.from_json(stored.data, stored.version)
    return home, reference


def offline(dataset, reference, row, limits=Limits()):
    """What the taught monitor says offline on experiment 6: the judgement of the window holding
    ``row``, the consecutive windows over the alarm limit up to it, and the whole run's judge."""
    windows = windows_of_samples(dataset.experiments[6].samples)
    judged = judge(reference, windows, limits)
    index = int(np.flatnonzero((windows.start <= row) & (row < windows.start + WINDOW_SAMPLES))[0])
    over = 0
    for item in judged[:index + 1]:
        over = over + 1 if item.level == OVER else 0
    run = TaughtJudge(reference, limits)
    run.update(windows)
    return judged[index], over, run


@pytest.mark.parametrize("row", [400, 1000])
def test_a_sample_of_experiment_6_is_judged_as_judge_does_offline(taught_home, dataset, row):
    _, reference = taught_home
    taught = taught_explanation(dataset, 6, row)
    window, over, run = offline(dataset, reference, row)
    judged = taught.window.judgement
    assert (judged.phase, judged.signal, judged.statistic, judged.start) == (window.phase, window.signal,
                                                                             window.statistic, window.start)
    assert judged.load_pct == pytest.approx(window.load_pct)
    assert taught.window.over_windows == over
    assert taught.judgement.rows == (window.start, window.start + WINDOW_SAMPLES - 1)
    expected = "alarm" if window.level == OVER and over >= 3 else "ok" if window.level == "ok" else "warning"
    assert taught.state == expected
    assert describe(window, Limits(), over) in taught.sentence  # the one sentence generator
    assert (taught.machine, taught.reference_version, taught.taught_on) == ("mill-1", 1, ["experiment_01.csv"])
    assert "judged against mill-1's reference, the only machine that taught feed 6 · clamp 4" in taught.sentence
    # the bars: the carrying signal's % is the window's load, and no bar is higher
    pcts = taught.judgement.pcts[window.statistic]
    assert max(v for values in taught.judgement.pcts.values() for v in values if not math.isnan(v)) == \
        pytest.approx(window.load_pct)
    assert pcts[reference.signals.index(window.signal)] == pytest.approx(window.load_pct)
    # the run: the worn tool raised the taught alarm on experiment 6, as the live judge does
    assert run.alarm and taught.run.state == "alarm"
    assert taught.run.judgement == run.alarm_window
    # "for N windows": the stretch over the alarm limit that raised it, from its start to its end
    levels = [j.level for j in judge(reference, windows_of_samples(dataset.experiments[6].samples), Limits())
              if j.level != "not_taught"]
    first = run.alarm_at_window - Limits().delay_windows
    end = first
    while end < len(levels) and levels[end] == OVER:
        end += 1
    assert taught.run.over_windows == end - first >= Limits().delay_windows
    assert f"for {end - first} window(s)" in taught.run.sentence
    assert taught.judgement.windows_judged == run.windows


def test_experiment_6_has_windows_in_each_state_and_the_card_follows_them(taught_home, dataset):
    """Every window of experiment 6: the state the explanation gives is the offline one."""
    _, reference = taught_home
    windows = windows_of_samples(dataset.experiments[6].samples)
    seen = set()
    for start in windows.start[::4]:
        row = int(start) + WINDOW_SAMPLES // 2
        window, over, _ = offline(dataset, reference, row)
        state = taught_explanation(dataset, 6, row).state
        assert state == ("alarm" if window.level == OVER and over >= 3 else "ok" if window.level == "ok" else "warning")
        seen.add(state)
    assert {"ok", "alarm"} <= seen  # the data has both; a test that cannot fail would not


def test_a_non_cutting_sample_is_in_no_window(taught_home, dataset):
    taught = taught_explanation(dataset, 6, 0)
    assert taught.state == "not_cutting" and taught.judgement.rows is None and taught.judgement.pcts == {}
    assert "Sample 0 is in Prep, not a cutting phase" in taught.sentence
    assert taught.run.state == "alarm"  # the run is still judged


def test_a_sample_in_the_short_tail_of_a_cutting_phase_is_in_no_window(taught_home, dataset):
    samples = dataset.experiments[6].samples
    windows = windows_of_samples(samples)
    covered = np.zeros(len(samples), bool)
    for start in windows.start:
        covered[start:start + WINDOW_SAMPLES] = True
    cutting = np.isin(samples["phase"].to_numpy(), [PHASE_CODES[p] for p in CUTTING_PHASES])
    tail = int(np.flatnonzero(cutting & ~covered)[0])
    taught = taught_explanation(dataset, 6, tail)
    assert taught.state == "not_cutting" and taught.judgement.rows is None
    assert f"Sample {tail} is in the last samples of {taught.judgement.phase}, too few for a 2 s window" in taught.sentence


def test_an_untaught_setup_is_not_taught_with_how_to_teach(taught_home, dataset):
    taught = taught_explanation(dataset, 2, 400)  # feed 20 · clamp 4: nobody taught it
    assert taught.state == "not_taught" and taught.setup == "feed 20 · clamp 4"
    assert taught.sentence.startswith("SETUP NOT TAUGHT: no machine has a reference for feed 20 · clamp 4.")
    assert "`cncwear teach experiment_02.csv --machine M`" in taught.sentence and "Teach menu" in taught.sentence
    assert taught.run.state == "not_taught" and taught.machine == ""


def test_a_machine_that_did_not_teach_the_setup_is_not_taught_and_names_the_one_that_did(taught_home, dataset):
    taught = taught_explanation(dataset, 6, 400, machine="mill-2")
    assert taught.state == "not_taught" and taught.machine == "mill-2"
    assert "feed 6 · clamp 4 has no reference on mill-2; it is taught on mill-1." in taught.sentence
    assert "`cncwear teach experiment_06.csv --machine mill-2`" in taught.sentence


def test_the_setups_stored_limits_judge_the_sample(taught_home, dataset, capsys):
    _, reference = taught_home
    assert main(["teach", "--limits", "--machine", "mill-1", "--setup", SETUP, "--warn", "50", "--alarm", "400"]) == 0
    capsys.readouterr()
    taught = taught_explanation(dataset, 6, 400)
    window, over, _ = offline(dataset, reference, 400, Limits(50, 400))
    assert taught.limits == Limits(50, 400) and taught.window.over_windows == over
    assert describe(window, Limits(50, 400), over) in taught.sentence


def test_a_sample_that_is_not_loaded_is_refused(taught_home, dataset):
    with pytest.raises(SampleNotFound, match="row 99999 does not exist"):
        taught_explanation(dataset, 6, 99999)
    with pytest.raises(SampleNotFound, match="experiment 7 is not in the loaded data"):
        taught_explanation(dataset, 7, 0)


def test_an_unusable_stored_reference_is_not_taught_and_says_why(home, dataset):
    with TaughtReferenceStore() as store:
        store.save("mill-3", SETUP, {"format": 99, "runs": []}, "someone")  # another version's format
    taught = taught_explanation(dataset, 6, 400, machine="mill-3")
    assert taught.state == "not_taught" and taught.problem.startswith("stored reference v1 is unusable")
    assert ("SETUP NOT TAUGHT: feed 6 · clamp 4 has no reference on mill-3 (stored reference v1 is unusable "
            "(unsupported taught-reference format 99); relearn it).") in taught.sentence
