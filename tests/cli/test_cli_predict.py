"""``cncwear predict`` in-process on real bundled experiments and a real first-start champion:
unlabelled files, the verdict per run and phase, --out written whole or not at all, bad input."""

import json
import shutil

import numpy as np
import pandas as pd
import pytest

from cncwear_gui.cli import main

WORN = 6  # train.csv: experiment 6 is worn


@pytest.fixture
def cli(champion_home, monkeypatch, capsys, tmp_path):
    monkeypatch.setenv("CNCWEAR_HOME", str(champion_home))  # the session's first-start champion
    monkeypatch.setenv("CNCWEAR_CONFIG_DIR", str(tmp_path / "config"))

    def run(*args):
        code = main([str(a) for a in args])
        out, err = capsys.readouterr()
        return code, out, err

    return run


def test_a_renamed_experiment_without_metadata_gets_exactly_the_original_probabilities(cli, tmp_path, bundled_dir):
    floor = tmp_path / "floor"
    floor.mkdir()
    renamed = floor / "mill3_2026-12-01.csv"  # no experiment number, no train.csv beside it
    shutil.copyfile(bundled_dir / f"experiment_{WORN:02d}.csv", renamed)

    code, out, _ = cli("validate", "--json", renamed)
    assert code == 0
    report = json.loads(out)
    assert report["unlabelled"] == 1 and report["experiments"] == 1
    [entry] = report["files"]
    assert entry["status"] == "warning" and entry["unlabelled"] and entry["experiment"] is None
    assert any("unlabelled" in w["message"] for w in entry["warnings"])
    code, out, _ = cli("validate", renamed)
    assert "WARNING: unlabelled" in out and "(1 unlabelled)" in out

    original_out, renamed_out = tmp_path / "original.parquet", tmp_path / "renamed.parquet"
    code, out, err = cli("predict", bundled_dir / f"experiment_{WORN:02d}.csv", "--out", original_out, "--json")
    assert code == 0, err
    original = json.loads(out)
    code, out, err = cli("predict", renamed, "--out", renamed_out, "--json")
    assert code == 0, err
    result = json.loads(out)
    assert result["model"]["name"] == original["model"]["name"] and result["model"]["version"]
    [file] = result["files"]
    assert file["unlabelled"] and file["experiment"] is None and file["setup"] == "setup unknown"
    assert original["files"][0]["experiment"] == WORN and original["files"][0]["setup"] == "feed 6 · clamp 4"

    a, b = pd.read_parquet(original_out), pd.read_parquet(renamed_out)
    assert len(a) == len(b) == file["rows"] > 0
    assert np.array_equal(a["p_worn"].to_numpy(), b["p_worn"].to_numpy())  # exactly, bit for bit
    assert (a["predicted"] == b["predicted"]).all() and (a["line"] == b["line"]).all()
    assert file["runs"] == original["files"][0]["runs"]
    assert ((a["p_worn"] >= result["threshold"]) == (a["predicted"] == "worn")).all()


def test_verdicts_per_run_and_phase_and_per_sample_scores_in_json(cli, bundled_dir, tmp_path):
    both = tmp_path / "shift.csv"  # a worn run, then an unworn one, in one logger file
    worn = (bundled_dir / "experiment_06.csv").read_text().splitlines()
    unworn = (bundled_dir / "experiment_01.csv").read_text().splitlines()
    both.write_text("\n".join(worn + unworn[1:]) + "\n")
    code, out, err = cli("predict", both, "--json")
    assert code == 0, err
    [file] = json.loads(out)["files"]
    assert len(file["runs"]) == 2 and file["rows"] == len(worn) + len(unworn) - 2
    first, second = file["runs"]
    assert (first["first_line"], first["last_line"], second["first_line"]) == (2, len(worn), len(worn) + 1)
    assert first["verdict"] == "worn" and second["verdict"] == "unworn"
    assert 0.5 <= first["confidence"] <= 1 and first["phases"] and all(p["scope"].startswith("Layer") for p in first["phases"])
    samples = file["samples"]
    assert len(samples["p_worn"]) == file["rows"] and samples["line"][:2] == [2, 3]
    assert sum(p == "worn" for p in samples["predicted"]) == file["called_worn"]

    code, out, err = cli("predict", both)
    assert code == 0 and "run 1 (lines 2-" in out and "run 2" in out and "Layer 1 Up" in out and "v" in out.splitlines()[0]


def test_bad_input_writes_nothing_and_keeps_an_existing_out(cli, bundled_dir, tmp_path):
    out_file = tmp_path / "scores.csv"
    out_file.write_text("previous scores\n")
    bad = tmp_path / "cut.csv"
    lines = (bundled_dir / "experiment_01.csv").read_text().splitlines()
    bad.write_text("\n".join(lines[:50] + [",".join(lines[50].split(",")[:10])]) + "\n")
    code, _, err = cli("predict", bundled_dir / "experiment_01.csv", bad, "--out", out_file)
    assert code == 2 and f"{bad}, line 51, column 10" in err
    assert out_file.read_text() == "previous scores\n"
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".part")] == []

    code, _, err = cli("predict", bundled_dir / "experiment_01.csv", "--out", tmp_path / "scores.xlsx")
    assert code == 2 and "must end in .csv or .parquet" in err
    code, _, err = cli("predict", bundled_dir / "experiment_01.csv", "--tool-condition", "worn")
    assert code == 2 and "needs --experiment" in err


def test_a_cancelled_write_leaves_no_file(tmp_path):
    from cncwear_gui.cli.predict import _ScoresOut

    target = tmp_path / "scores.parquet"
    frame = pd.DataFrame({"file": ["a"], "experiment": pd.array([None], dtype="Int64"), "row": [0], "line": [2],
                          "phase": ["Prep"], "p_worn": [0.1], "predicted": ["unworn"]})
    with pytest.raises(KeyboardInterrupt):
        with _ScoresOut(target) as writer:
            writer.write(frame)
            raise KeyboardInterrupt
    assert list(tmp_path.iterdir()) == []
    with _ScoresOut(target) as writer:
        writer.write(frame)
    assert pd.read_parquet(target)["p_worn"].tolist() == [0.1]


def test_job_constants_from_options_or_a_metadata_file_beside_it(cli, bundled_dir, tmp_path):
    path = tmp_path / "mill3.csv"
    shutil.copyfile(bundled_dir / "experiment_01.csv", path)
    code, out, err = cli("predict", path, "--feedrate", "6", "--clamp-pressure", "4", "--json")
    assert code == 0, err
    assert json.loads(out)["files"][0]["setup"] == "feed 6 · clamp 4"
    (tmp_path / "mill3.meta.json").write_text('{"feedrate": 6, "clamp_pressure": 4}')
    code, out, err = cli("predict", path, "--json")
    assert code == 0, err
    [file] = json.loads(out)["files"]
    assert file["setup"] == "feed 6 · clamp 4" and file["unlabelled"]
    (tmp_path / "mill3.meta.json").write_text('{"feedrate": 6, "clamp": 4}')
    code, _, err = cli("predict", path)
    assert code == 2 and "mill3.meta.json" in err and "unknown key(s) ['clamp']" in err


def test_predict_help_shows_the_command(capsys):
    with pytest.raises(SystemExit) as done:
        main(["predict", "--help"])
    text = capsys.readouterr().out
    assert done.value.code == 0 and "cncwear predict" in text and "PATH [PATH ...]" in text
    assert "--out SCORES" in text and "--model MODEL" in text and "--json" in text
    from helpers import ROOT

    assert "cncwear predict PATH... [--model champion|RUN_ID] [--json] [--out scores.csv|scores.parquet]" in (
        ROOT / "README.md").read_text()


def _bad_files(folder, bundled_dir):
    """The issue's bad input, each made from a real experiment: (file, what the message says)."""
    import gzip
    import zipfile

    text = (bundled_dir / "experiment_04.csv").read_text()
    lines = text.replace(",", ";").replace(".", ",").splitlines()
    lines[300] = lines[300].replace(",", ".", 1)
    ambiguous = folder / "ambiguous.csv"
    ambiguous.write_text("\n".join(lines))
    packed = gzip.compress(text.encode())
    truncated = folder / "truncated.csv.gz"
    truncated.write_bytes(packed[: len(packed) * 2 // 3])
    frame = pd.read_csv(bundled_dir / "experiment_04.csv")
    frame["S1_OutputPower"] = frame["S1_OutputPower"].astype(str)
    wrong_type = folder / "wrong_type.parquet"
    frame.to_parquet(wrong_type, index=False)
    several = folder / "several.zip"
    with zipfile.ZipFile(several, "w") as archive:
        archive.writestr("a.csv", text)
        archive.writestr("b.csv", text)
    rows = text.splitlines()
    cut = folder / "cut.csv"
    cut.write_text("\n".join(rows + [rows[5][: len(rows[5]) // 2]]))
    return [(ambiguous, "ambiguous decimal separator"), (truncated, "gzip file is truncated"),
            (wrong_type, "'S1_OutputPower' holds string values"), (several, "holds 2 CSV files (a.csv, b.csv)"),
            (cut, "(the file looks truncated)")]


def test_each_bad_input_exits_2_and_writes_nothing(cli, bundled_dir, tmp_path):
    folder = tmp_path / "bad"
    folder.mkdir()
    for path, message in _bad_files(folder, bundled_dir):
        for out in (tmp_path / "scores.csv", tmp_path / "scores.parquet"):
            code, _, err = cli("predict", bundled_dir / "experiment_01.csv", path, "--out", out)
            assert code == 2 and message in err and str(path) in err, (path, err)
            assert not out.exists() and not [p for p in tmp_path.iterdir() if p.name.endswith(".part")]


def test_drift_and_explain_take_an_unlabelled_file(cli, bundled_dir, tmp_path):
    path = tmp_path / "mill3_2026-12-01.csv"
    shutil.copyfile(bundled_dir / "experiment_01.csv", path)
    code, out, err = cli("drift", path, "--json")
    assert code == 0, err
    [file] = json.loads(out)["files"]
    assert file["setup"] == "setup unknown" and file["unfamiliar"] and not file["drifted"]
    code, out, err = cli("drift", path, "--feedrate", "6", "--clamp-pressure", "4", "--json")
    assert code == 0, err
    [file] = json.loads(out)["files"]
    assert file["setup"] == "feed 6 · clamp 4" and not file["unfamiliar"]
    code, out, err = cli("explain", "--file", path, "--method", "lime", "--row", "100", "--json")
    assert code == 0, err
    result = json.loads(out)
    assert result["sample"]["source"] == path.name and result["sample"]["worn"] == -1
