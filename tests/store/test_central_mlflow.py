"""A central MLflow tracking server (``mlflow server`` on loopback, its own artifact store), as IT
runs one for several PCs: the app's runs and models go there, artifacts included, and load back.
On a SQLite backend, and on PostgreSQL (docs/guide/it.md): train, register and promote on one PC,
then another PC's process scores with the champion it finds on the server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request

import pytest
from helpers import BUNDLED, free_port, run_cli

from cncwear_gui.store import tracking


def start_mlflow_server(backend: str, folder):
    """``mlflow server`` on a free loopback port with ``backend`` and an artifact store in ``folder``."""
    port = free_port()
    artifacts = folder / "server-artifacts"
    env = {**os.environ, "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false", "MLFLOW_DISABLE_TELEMETRY": "true"}
    with open(folder / "server.log", "w") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "mlflow", "server", "--backend-store-uri", backend,
             "--artifacts-destination", str(artifacts), "--host", "127.0.0.1", "--port", str(port), "--workers", "1"],
            stdout=log, stderr=subprocess.STDOUT, env=env, cwd=folder, start_new_session=True,
        )
    return server, port, artifacts


@pytest.fixture
def central_server(tmp_path):
    yield from _serving(*start_mlflow_server(f"sqlite:///{tmp_path / 'server.db'}", tmp_path), tmp_path)


@pytest.fixture
def central_server_on_postgres(tmp_path, postgres_url):
    """The server IT runs: its runs and registry in a PostgreSQL database of their own."""
    yield from _serving(*start_mlflow_server(postgres_url, tmp_path), tmp_path)


def _serving(server, port, artifacts, folder):
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if opener.open(f"http://127.0.0.1:{port}/health", timeout=2).status == 200:
                    break
            except OSError:
                assert server.poll() is None and time.monotonic() < deadline, (
                    f"mlflow server did not start: {(folder / 'server.log').read_text()[-3000:]}")
                time.sleep(0.5)
        yield f"http://127.0.0.1:{port}", artifacts
    finally:
        os.killpg(server.pid, 9)
        server.wait()


@pytest.mark.slow
def test_runs_and_models_go_to_the_central_server_and_load_back(central_server, home, monkeypatch):
    from sklearn.tree import DecisionTreeClassifier

    uri, artifacts = central_server
    monkeypatch.setenv("CNCWEAR_MLFLOW_URI", uri)
    mlflow = tracking.mlflow_client()
    experiment_id = tracking.ensure_experiment("cncwear-central-check")
    assert not mlflow.get_experiment(experiment_id).artifact_location.startswith("file:")  # the server's, not this PC's
    model = DecisionTreeClassifier(max_depth=2, random_state=0).fit([[0.0], [1.0], [2.0], [3.0]], [0, 0, 1, 1])
    with mlflow.start_run(experiment_id=experiment_id):
        logged = tracking.log_trusted_model(model)
    assert any(artifacts.rglob(tracking.MODEL_FILE)), "the model file is not in the server's artifact store"
    assert not (home / "mlartifacts" / "cncwear-central-check").exists()
    loaded = tracking.load_trusted_model(logged.model_id)
    assert loaded.predict([[0.5], [2.5]]).tolist() == [0, 1]


def _cli_json(*args: str, env: dict) -> dict:
    done = run_cli(*args, "--json", env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    lines = done.stdout.splitlines()  # the document is last (MLflow may print a line before it)
    start = next(i for i in range(len(lines) - 1, -1, -1) if lines[i].startswith("{"))
    return json.loads("\n".join(lines[start:]))


@pytest.mark.slow
def test_train_register_promote_on_one_pc_and_score_with_the_champion_on_another(central_server_on_postgres, tmp_path,
                                                                                  postgres_url):
    from sqlalchemy import create_engine, text

    uri, artifacts = central_server_on_postgres
    trainer = {"CNCWEAR_HOME": str(tmp_path / "pc-1"), "CNCWEAR_MLFLOW_URI": uri}
    registered = _cli_json("train", "--engine", "flaml", "--budget", "5", "--skip-loeo", "--protocol", "seed",
                           "--register", env=trainer)["training"]
    assert registered["model_version"] == "1"
    promoted = _cli_json("promote", "--protocol", "seed", "--margin", "0.99", env=trainer)["promotion"]
    assert promoted["promoted"] is True
    registry = _cli_json("registry", env=trainer)["registry"]
    assert str(registry["champion"]["version"]) == "1", registry

    # it is all on the server: the registry's alias in PostgreSQL, the model file in its artifact store
    engine = create_engine(postgres_url)
    try:
        with engine.connect() as conn:
            aliases = conn.execute(text("SELECT alias, version FROM registered_model_aliases")).all()
    finally:
        engine.dispose()
    assert ("champion", 1) in [(alias, int(version)) for alias, version in aliases]
    assert any(artifacts.rglob(tracking.MODEL_FILE))
    assert not (tmp_path / "pc-1" / "mlflow.db").exists() and not (tmp_path / "pc-1" / "mlartifacts").exists()

    # another PC (another home, no copy of anything) loads the champion from the server and scores a file
    scorer = {"CNCWEAR_HOME": str(tmp_path / "pc-2"), "CNCWEAR_MLFLOW_URI": uri}
    scored = _cli_json("predict", str(BUNDLED / "experiment_06.csv"), env=scorer)
    assert str(scored["model"]["version"]) == "1", scored.get("model")
    assert scored["model"]["run_id"] == registered["run_id"]
    assert not (tmp_path / "pc-2" / "mlflow.db").exists()
