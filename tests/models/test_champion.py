"""The champion: trained and registered on first start, found afterwards, resolved out of process."""

import json

import numpy as np
import pytest

from helpers import run_cli


@pytest.mark.slow
def test_first_call_trains_and_registers_later_calls_find_it(home, bundled_dataset):
    first = run_cli("champion", "--json")
    assert first.returncode == 0, first.stderr[-2000:]
    champion = json.loads(first.stdout.strip().splitlines()[-1])["champion"]
    assert champion["version"] == "1" and champion["feature_set"] == "signals"
    second = json.loads(run_cli("champion", "--json").stdout.strip().splitlines()[-1])["champion"]
    assert second["model"]["model_id"] == champion["model"]["model_id"]  # not retrained

    from cncwear_gui.models.champion import ChampionRef, load_active_model
    from cncwear_gui.models.scoring import score_dataset

    model = load_active_model(ChampionRef.from_json(champion))
    scored = score_dataset(model, bundled_dataset)
    assert len(scored.experiments) == 18
    probability = np.concatenate([s.probability for s in scored.experiments.values()])
    assert probability.shape == (25_286,) and ((probability >= 0) & (probability <= 1)).all()


@pytest.mark.slow
def test_a_tampered_champion_file_is_refused(home):
    from cncwear_gui.models.champion import ChampionRef, load_active_model
    from cncwear_gui.store.tracking import ModelTrustError

    done = run_cli("champion", "--json")
    reference = ChampionRef.from_json(json.loads(done.stdout.strip().splitlines()[-1])["champion"])
    with open(reference.model.path, "ab") as handle:
        handle.write(b"\0")
    with pytest.raises(ModelTrustError):
        load_active_model(reference)


def test_unlabelled_data_is_bad_input(home, tmp_path, bundled_dir):
    lonely = tmp_path / "experiment_04.csv"
    lonely.write_bytes((bundled_dir / "experiment_04.csv").read_bytes())
    done = run_cli("champion", "--data", str(lonely))
    assert done.returncode == 2 and "no labelled experiments" in done.stderr


def _champion_children() -> list[int]:
    """PIDs of our child processes running ``cncwear champion`` (from /proc)."""
    import os
    from pathlib import Path

    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ")
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        if parent == os.getpid() and b"champion --progress-json" in command:
            found.append(int(entry.name))
    return found


def test_cancel_kills_the_child_process(home, bundled_dir):
    from cncwear_gui.models.champion_process import resolve_champion_in_subprocess
    from cncwear_gui.tasks import Cancelled, Task

    task = Task(lambda fraction, message: task.cancel())
    with pytest.raises(Cancelled):
        resolve_champion_in_subprocess([bundled_dir], task)
    assert _champion_children() == []
