"""`cncwear benchmark`: both protocols on the bundled data, real models, a real MLflow store.

The benchmark runs for this module through the real command line, into one fresh user data
directory, on the smallest configuration that shows its contract: the talk's feature set with
Decision Tree + Gradient Boosting under seed + LOEO (the talk's comparison), then the other two
feature sets with the Decision Tree under both protocols (every feature set's leakage check and
rows). The full grid is `cncwear benchmark` itself (benchmarks/ and the user guide).
"""

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from helpers import run_cli

pytestmark = pytest.mark.slow

KEYS = {"model", "protocol", "accuracy", "precision", "recall", "f1", "mcc", "fit_seconds"}


@pytest.fixture(scope="module")
def benchmark(tmp_path_factory):
    home = tmp_path_factory.mktemp("bench-home")
    workdir = tmp_path_factory.mktemp("bench-cwd")
    out = {"rows": [], "feature_sets": []}
    for feature_sets, models in (("seed_slides", "dt,hgb"), ("signals,process", "dt")):
        done = run_cli("benchmark", "--json", "--protocol", "both", "--models", models, "--feature-set", feature_sets,
                       env={"CNCWEAR_HOME": str(home)}, cwd=workdir)
        assert done.returncode == 0, done.stderr[-3000:]
        part = json.loads(done.stdout)
        out["rows"] += part["rows"]
        out["feature_sets"] += part["feature_sets"]
    return out, home, workdir


GRID = {("seed_slides@v1", m, p) for m in ("dt", "hgb") for p in ("seed", "loeo")} | {
    (fs, "dt", p) for fs in ("signals@v1", "process@v1") for p in ("seed", "loeo")}


def slides_rows(out) -> list[dict]:
    return [r for r in out["rows"] if r["feature_set"] == "seed_slides@v1"]


@pytest.mark.slow
def test_every_feature_set_and_model_under_both_protocols_with_the_contract_keys(benchmark):
    out, _, _ = benchmark
    rows = out["rows"]
    assert {(r["feature_set"], r["model"], r["protocol"]) for r in rows} == GRID and len(rows) == len(GRID)
    assert [fs["feature_set"] for fs in out["feature_sets"]] == ["seed_slides@v1", "signals@v1", "process@v1"]
    for fs in out["feature_sets"]:
        assert 0 <= fs["leakage_score"] <= 1 and fs["leakage"]["per_feature"]
        for summary in fs["models"]:
            row = {p: next(r for r in rows if (r["feature_set"], r["model"], r["protocol"]) == (fs["feature_set"], summary["model"], p))
                   for p in ("seed", "loeo")}
            assert summary["seed_accuracy"] == row["seed"]["accuracy"] and summary["loeo_accuracy"] == row["loeo"]["accuracy"]
            assert summary["loeo_experiments_correct"] == row["loeo"]["experiments_correct"] and summary["experiments"] == 18
    for row in rows:
        assert KEYS <= set(row)
        assert 0 <= row["accuracy"] <= 1 and -1 <= row["mcc"] <= 1
        if row["protocol"] == "loeo":
            assert row["experiments"] == 18 and 0 <= row["experiments_correct"] <= 18
            assert len(row["per_experiment"]) == 18


def test_seed_protocol_reproduces_the_talks_level(benchmark):
    out, _, _ = benchmark
    seed = {r["model"]: r for r in slides_rows(out) if r["protocol"] == "seed"}
    assert seed["hgb"]["accuracy"] >= 0.99
    assert seed["dt"]["accuracy"] >= 0.98
    assert seed["hgb"]["accuracy"] > seed["dt"]["accuracy"]


def test_loeo_shows_what_the_seed_figure_hides(benchmark):
    out, _, _ = benchmark
    by = {(r["model"], r["protocol"]): r for r in slides_rows(out)}
    for model in ("dt", "hgb"):
        assert by[(model, "loeo")]["accuracy"] < by[(model, "seed")]["accuracy"] - 0.1
        assert by[(model, "loeo")]["experiments_correct"] < 18
    # the per-experiment verdicts add up to the reported count
    for row in (r for r in out["rows"] if r["protocol"] == "loeo"):
        assert sum(v["correct"] for v in row["per_experiment"]) == row["experiments_correct"]
        assert all(0.5 <= v["confidence"] <= 1 for v in row["per_experiment"])


def test_the_leakage_score_ranks_the_feature_sets_by_how_well_they_identify_the_experiment(benchmark):
    out, _, _ = benchmark
    leakage = {fs["feature_set"]: fs for fs in out["feature_sets"]}
    slides, signals, process = (leakage[k] for k in ("seed_slides@v1", "signals@v1", "process@v1"))
    assert slides["leakage"]["level"] == "warning" and "nearly identifies the experiment" in slides["leakage"]["message"]
    assert slides["leakage_score"] > signals["leakage_score"] > process["leakage_score"]
    assert slides["uses_experiment_constants"] and not process["uses_experiment_constants"]
    assert "Z1_ActualPosition" in signals["setup_dependent_columns"] and process["setup_dependent_columns"] == []


def test_mlflow_store_holds_every_run_in_the_user_data_dir(benchmark, monkeypatch):
    out, home, workdir = benchmark
    rows = out["rows"]
    assert (home / "mlflow.db").exists()
    assert not (workdir / "mlruns").exists() and not (workdir / "mlartifacts").exists()
    monkeypatch.setenv("CNCWEAR_HOME", str(home))
    from cncwear_gui.store.tracking import ensure_experiment, mlflow_client

    mlflow = mlflow_client()
    experiment_id = ensure_experiment("cncwear-benchmark")
    runs = mlflow.search_runs([experiment_id], output_format="list")
    assert len(runs) == len(GRID)
    logged = {(r.data.tags["cncwear.feature_set"], r.data.tags["cncwear.model"], r.data.tags["cncwear.protocol"]): r
              for r in runs}
    for row in rows:
        name = {"dt": "Decision Tree", "hgb": "Gradient Boosting"}[row["model"]]
        run = logged[(row["feature_set"], name, row["protocol"])]
        assert run.info.run_id == row["mlflow_run_id"]
        assert run.data.metrics["accuracy"] == pytest.approx(row["accuracy"], abs=1e-6)
        assert run.data.metrics["mcc"] == pytest.approx(row["mcc"], abs=1e-6)
        artifacts = Path(run.info.artifact_uri.replace("file://", ""))
        assert str(artifacts).startswith(str(home / "mlartifacts"))


def test_logged_models_load_under_the_trust_policy_and_tampering_is_refused(benchmark, bundled_dataset, monkeypatch):
    _, home, _ = benchmark
    monkeypatch.setenv("CNCWEAR_HOME", str(home))
    from cncwear_gui.features.sets import get_feature_set
    from cncwear_gui.store.tracking import ModelTrustError, ensure_experiment, load_trusted_model, mlflow_client

    mlflow = mlflow_client()
    experiment_id = ensure_experiment("cncwear-benchmark")
    models = mlflow.search_logged_models(experiment_ids=[experiment_id], output_format="list")
    assert len(models) == len(GRID)
    slides_runs = {r.info.run_id for r in mlflow.search_runs([experiment_id], output_format="list")
                   if r.data.tags["cncwear.feature_set"] == "seed_slides@v1"}
    tree = next(m for m in models if m.source_run_id in slides_runs and "DecisionTree" in str(load_trusted_model(m.model_id)))
    model = load_trusted_model(tree.model_id)
    X = get_feature_set("seed_slides").build(bundled_dataset.samples()).to_numpy()
    proba = model.predict_proba(X[:50])
    assert proba.shape == (50, 2) and np.allclose(proba.sum(axis=1), 1)

    cached = home / "model-files" / tree.model_id
    (cached / "model.skops").write_bytes((cached / "model.skops").read_bytes() + b"\0")  # this PC's copy
    with pytest.raises(ModelTrustError, match="changed after cncwear wrote it"):
        load_trusted_model(tree.model_id)
    shutil.rmtree(cached)
    skops_file = next(Path(tree.artifact_location.replace("file://", "")).rglob("model.skops"))  # the store's
    skops_file.write_bytes(skops_file.read_bytes() + b"\0")
    with pytest.raises(ModelTrustError, match="changed after cncwear wrote it"):
        load_trusted_model(tree.model_id)


@pytest.mark.slow
def test_human_readable_table_says_what_each_protocol_means(tmp_path):
    done = run_cli("benchmark", "--protocol", "seed", "--models", "dt", "--feature-set", "seed_slides", "--no-mlflow",
                   env={"CNCWEAR_HOME": str(tmp_path)})
    assert done.returncode == 0, done.stderr
    assert "Decision Tree" in done.stdout and "stratified random 80/20 row split" in done.stdout
    assert "nearly identifies the experiment" in done.stdout and "per-experiment constants" in done.stdout
    assert not (tmp_path / "mlflow.db").exists()


def test_benchmark_bad_arguments_exit_2(tmp_path):
    done = run_cli("benchmark", "--models", "xgb", "--no-mlflow")
    assert done.returncode == 2 and "unknown model" in done.stderr
    done = run_cli("benchmark", "--feature-set", "signals,nope", "--no-mlflow")
    assert done.returncode == 2 and "unknown feature set 'nope'" in done.stderr
