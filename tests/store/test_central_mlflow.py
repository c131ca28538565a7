"""A central MLflow tracking server (``mlflow server`` on loopback, its own artifact store), as IT
runs one for several PCs: the app's runs and models go there, artifacts included, and load back."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request

import pytest
from helpers import free_port

from cncwear_gui.store import tracking


@pytest.fixture
def central_server(tmp_path):
    port = free_port()
    artifacts = tmp_path / "server-artifacts"
    env = {**os.environ, "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false", "MLFLOW_DISABLE_TELEMETRY": "true"}
    server = subprocess.Popen(
        [sys.executable, "-m", "mlflow", "server", "--backend-store-uri", f"sqlite:///{tmp_path / 'server.db'}",
         "--artifacts-destination", str(artifacts), "--host", "127.0.0.1", "--port", str(port), "--workers", "1"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, cwd=tmp_path, start_new_session=True,
    )
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if opener.open(f"http://127.0.0.1:{port}/health", timeout=2).status == 200:
                    break
            except OSError:
                assert server.poll() is None and time.monotonic() < deadline, "mlflow server did not start"
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
