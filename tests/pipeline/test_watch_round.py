"""One round of the pipeline watch loop, called as a function (no ``cncwear pipeline watch`` child).

Real components throughout: the settings object, the history database in the test's home, the
bundled experiments, FLAML with a 5 s budget and the MLflow registry.
"""

from __future__ import annotations

import shutil

import pytest
from helpers import run_cli  # noqa: F401  (the tests' helpers import from this subfolder too)

from cncwear_gui.pipeline.watch import TriggerInputError, check_trigger, watch_round
from cncwear_gui.settings import Settings
from cncwear_gui.store.pipeline_history import PipelineHistory

SUBSET = (1, 2, 3, 6, 8, 9)  # three worn, three unworn: a pipeline trains in seconds


@pytest.fixture
def subset_dir(tmp_path, bundled_dir):
    folder = tmp_path / "subset"
    folder.mkdir()
    shutil.copy(bundled_dir / "train.csv", folder)
    for number in SUBSET:
        shutil.copy(bundled_dir / f"experiment_{number:02d}.csv", folder)
    return folder


def test_a_round_with_nothing_to_fire_runs_nothing_and_records_nothing(home, tmp_path):
    watched = tmp_path / "incoming"
    watched.mkdir()
    settings = Settings(pipeline_watch_dir=str(watched))  # no schedule, an empty folder, no champion
    history = PipelineHistory()
    try:
        assert watch_round(settings, history) == []
        assert history.firings() == []
        # asked for by hand, the degradation trigger without a champion is the caller's to fix
        with pytest.raises(TriggerInputError, match="no champion"):
            check_trigger("degradation", settings, history)
        assert check_trigger("degradation", settings, history, watching=True).fires is False
    finally:
        history.close()


@pytest.mark.slow


def test_a_new_file_in_the_watched_folder_fires_one_pipeline_once(home, tmp_path, subset_dir, bundled_dir):
    watched = tmp_path / "incoming"
    watched.mkdir()
    shutil.copy(bundled_dir / "experiment_04.csv", watched)
    settings = Settings(pipeline_watch_dir=str(watched))
    history = PipelineHistory()
    started = []
    try:
        firings = watch_round(settings, history, data=[str(subset_dir)], budget_s=5,
                              on_firing=lambda *firing: started.append(firing))
        assert len(firings) == 1
        firing = firings[0]
        assert started == [(firing.firing_id, "new-data", "running")]  # told before the pipeline ran
        assert firing.trigger == "new-data" and "experiment_04.csv" in firing.reason
        assert firing.status in ("promoted", "kept"), firing.error
        recorded = history.get(firing.firing_id)
        assert recorded.trigger == "new-data" and recorded.status == firing.status and recorded.finished_at
        assert recorded.detail["lineage"]["experiments"] == len(SUBSET) + 1  # the new file joined the training data
        assert firing.to_json() == {"fired": True, "trigger": "new-data", "firing_id": firing.firing_id,
                                    "status": firing.status, "reason": firing.reason, "error": firing.error}

        assert watch_round(settings, history, data=[str(subset_dir)], budget_s=5) == []  # seen: not again
        assert len(history.firings()) == 1
    finally:
        history.close()
