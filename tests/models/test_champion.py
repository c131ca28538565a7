"""The champion: trained and registered on first start, found afterwards, resolved out of process."""

import json

import numpy as np
import pytest

from helpers import run_cli


@pytest.mark.slow
def test_first_call_trains_and_registers_later_calls_find_it(home, bundled_dataset):
    first = run_cli("champion", "--progress-json")
    assert first.returncode == 0, first.stderr[-2000:]
    messages = [json.loads(line) for line in first.stdout.strip().splitlines()]
    results = [m for m in messages if "progress" not in m]
    assert [next(iter(m)) for m in results] == ["first_start", "champion"], results  # handed over before registered
    early, champion = results[0]["first_start"], results[1]["champion"]
    assert champion["version"] == "1" and champion["feature_set"] == "signals"
    assert early["version"] == "first start, being registered" and early["run_id"] == ""
    from cncwear_gui.store.tracking import mlflow_client

    run = mlflow_client().MlflowClient().get_run(champion["run_id"])
    # the bundled dataset's selection and LOEO figures were recorded for exactly these rows: logged, not refitted
    assert run.data.tags["cncwear.loeo_source"].startswith("recorded for these exact training rows")
    assert "figures recorded for these exact training rows" in run.data.tags["cncwear.selected_by"]
    assert 0.5 < run.data.metrics["loeo_accuracy"] < 1 and 0.5 < run.data.metrics["seed_accuracy"] <= 1
    second = json.loads(run_cli("champion", "--json").stdout.strip().splitlines()[-1])["champion"]
    assert second["model"]["model_id"] == champion["model"]["model_id"]  # not retrained

    from cncwear_gui.models.champion import ChampionRef, load_active_model
    from cncwear_gui.models.scoring import score_dataset
    from cncwear_gui.store.tracking import ModelTrustError, discard_first_start_file

    model = load_active_model(ChampionRef.from_json(champion))
    scored = score_dataset(model, bundled_dataset)
    assert len(scored.experiments) == 18
    probability = np.concatenate([s.probability for s in scored.experiments.values()])
    assert probability.shape == (25_286,) and ((probability >= 0) & (probability <= 1)).all()
    # the early file holds the model that was registered, under the same trust checks
    early_ref = ChampionRef.from_json(early)
    early_scored = score_dataset(load_active_model(early_ref), bundled_dataset)
    early_probability = np.concatenate([s.probability for s in early_scored.experiments.values()])
    assert np.allclose(early_probability, probability, rtol=0, atol=1e-12)  # the forest's threads sum in any order
    discard_first_start_file(early_ref.model)
    with pytest.raises(ModelTrustError, match="has no model.skops"):
        load_active_model(early_ref)


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
