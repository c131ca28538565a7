"""``cncwear train`` and ``cncwear benchmark --models ...,automl`` through the real command line."""

from __future__ import annotations

import pytest
import json
import shutil

from helpers import run_cli


@pytest.mark.slow
def test_train_registers_and_reports_run_version_metrics_and_gate(home):
    done = run_cli("train", "--engine", "flaml", "--budget", "6", "--skip-loeo", "--protocol", "seed",
                   "--register", "--json", env={"CNCWEAR_HOME": str(home)})
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])["training"]
    assert result["run_id"] and result["model_version"] == "1"
    assert set(result["metrics"]) == {"seed"} and 0.5 < result["metrics"]["seed"]["accuracy"] <= 1.0
    assert result["gate"]["decision"] == "promote" and result["gate"]["protocol"] == "seed"
    assert result["promoted"] is False  # --register alone only records the verdict
    assert result["trials"] == sum(row["trials"] for row in result["leaderboard"]) > 0

    # the registry as the Training view reads it, then the gate from the command line
    registry = json.loads(run_cli("registry", "--json", env={"CNCWEAR_HOME": str(home)}).stdout)["registry"]
    assert registry["champion"] is None and registry["challenger"]["version"] == "1"
    assert round(registry["challenger"]["metrics"]["seed_accuracy"], 6) == result["metrics"]["seed"]["accuracy"]
    done = run_cli("promote", "--protocol", "seed", "--json", env={"CNCWEAR_HOME": str(home)})
    assert done.returncode == 0, done.stderr[-3000:]
    promotion = json.loads(done.stdout.strip().splitlines()[-1])["promotion"]
    assert promotion["promoted"] is True and "there is no champion yet" in promotion["decision"]["reason"]
    assert promotion["registry"]["champion"]["version"] == "1" and promotion["registry"]["challenger"] is None
    again = run_cli("promote", "--protocol", "seed", env={"CNCWEAR_HOME": str(home)})
    assert again.returncode == 2 and "no challenger is registered" in again.stderr


@pytest.mark.slow
def test_train_refuses_bad_input_with_exit_2(home, tmp_path, bundled_dir):
    env = {"CNCWEAR_HOME": str(home)}
    done = run_cli("train", "--engine", "flaml", "--budget", "2", env=env)
    assert done.returncode == 2 and "at least 5 s" in done.stderr
    done = run_cli("train", "--engine", "auto-sklearn", env={**env, "CNCWEAR_AUTOML_PYTHON": str(tmp_path / "none")})
    assert done.returncode == 2 and "FLAML" in done.stderr and "--engine flaml" in done.stderr
    # only worn experiments: one class
    worn_only = tmp_path / "worn"
    worn_only.mkdir()
    shutil.copy(bundled_dir / "train.csv", worn_only / "train.csv")
    for number in (6, 8, 9):  # worn in train.csv
        shutil.copy(bundled_dir / f"experiment_{number:02d}.csv", worn_only)
    done = run_cli("train", "--engine", "flaml", "--budget", "5", "--data", str(worn_only), env=env)
    assert done.returncode == 2 and "only one class" in done.stderr, done.stderr[-2000:]
    assert not (home / "mlflow.db").exists()  # refused before anything started: no store, no run


@pytest.mark.slow
def test_benchmark_adds_the_automl_row_to_the_talks_table(home):
    done = run_cli("benchmark", "--models", "dt,automl", "--engine", "flaml", "--budget", "6", "--no-mlflow",
                   env={"CNCWEAR_HOME": str(home)})
    assert done.returncode == 0, done.stderr[-3000:]
    table = done.stdout
    assert table.startswith("== feature set seed_slides@v1")  # with automl the talk's feature set by default
    before_seed, seed_block = table.split("seed: stratified random 80/20")
    loeo_block = before_seed.split("loeo: leave-one-experiment-out")[1]
    for block in (loeo_block, seed_block):  # LOEO first, then seed: each with the baseline and the AutoML row
        lines = [line.strip() for line in block.splitlines()]
        assert any(line.startswith("Decision Tree") for line in lines) and any(line.startswith("FLAML") for line in lines)
    assert "/18" in loeo_block.split("FLAML")[1].splitlines()[0]  # LOEO counts experiments for the AutoML row too
    assert "AutoML rows" in table
    assert "FLAML search: 6 s budget, holdout resampling, tree-ensembles search space" in table  # the benchmark's defaults
