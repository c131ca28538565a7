"""The MLflow UI server: real ``mlflow ui`` processes on 127.0.0.1, serving our store."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import urllib.request

import pytest

from cncwear_gui.store.mlflow_ui import MlflowUi, MlflowUiError, shared_ui
from cncwear_gui.store.tracking import artifact_root, ensure_experiment, mlflow_client

NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _get_json(url: str, body: dict | None = None) -> dict:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    with NO_PROXY.open(request, timeout=10) as response:
        assert response.status == 200
        return json.loads(response.read())


def _non_loopback_address() -> str | None:
    """An IPv4 address of this machine that is not loopback, or None."""
    candidates = []
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(("192.0.2.1", 9))  # UDP connect sends nothing; it picks the interface
            candidates.append(probe.getsockname()[0])
    except OSError:
        pass
    try:
        candidates += socket.gethostbyname_ex(socket.gethostname())[2]
    except OSError:
        pass
    return next((a for a in candidates if not a.startswith("127.") and a != "0.0.0.0"), None)


def _group_gone(group: int) -> bool:
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return True
    return False


@pytest.fixture
def store(home):
    """A real tracking store in the fresh data dir: one experiment with one run and a metric."""
    experiment_id = ensure_experiment("ui-test")
    mlflow = mlflow_client()
    with mlflow.start_run(experiment_id=experiment_id) as run:
        mlflow.log_metric("vb_mm", 0.21)
    return experiment_id, run.info.run_id


@pytest.mark.slow
def test_serves_our_store_on_loopback_only_and_stops_cleanly(store):
    experiment_id, run_id = store
    ui = MlflowUi()
    try:
        url = ui.start()
        assert url.startswith("http://127.0.0.1:") and ui.url == url and ui.running
        port = int(url.rstrip("/").rsplit(":", 1)[1])

        # /ajax-api/ is what the web UI itself calls; /api/ serves the same handlers.
        found = _get_json(url + "ajax-api/2.0/mlflow/experiments/search?max_results=10")
        ours = {e["name"]: e for e in found["experiments"]}["ui-test"]
        assert ours["experiment_id"] == experiment_id
        assert ours["artifact_location"] == (artifact_root() / "ui-test").as_uri()
        runs = _get_json(url + "api/2.0/mlflow/runs/search", {"experiment_ids": [experiment_id]})["runs"]
        assert [r["info"]["run_id"] for r in runs] == [run_id]
        assert runs[0]["data"]["metrics"][0]["key"] == "vb_mm"

        address = _non_loopback_address()
        if address is not None:
            with pytest.raises(OSError):
                socket.create_connection((address, port), timeout=3).close()
        group = ui.pid
        assert os.getpgid(group) == group  # its own process group
    finally:
        ui.stop()
    assert _group_gone(group)
    assert not ui.running and ui.url is None
    ui.stop()  # idempotent


def test_a_busy_port_is_reported_with_the_port(home):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        ui = MlflowUi(port=port)
        with pytest.raises(MlflowUiError, match=f"port {port}"):
            ui.start()
        assert not ui.running and ui.url is None


def test_a_server_that_exits_early_is_reported_with_its_log(home, tmp_path):
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    ui = MlflowUi(tracking_uri=f"sqlite:///{blocker / 'mlflow.db'}")
    with pytest.raises(MlflowUiError) as raised:
        ui.start()
    message = str(raised.value)
    assert "exited" in message and "not-a-directory" in message and ui.log_path in message
    assert not ui.running


@pytest.mark.slow
def test_starting_twice_reuses_the_one_server(store):
    ui = shared_ui()
    assert shared_ui() is ui
    try:
        url = ui.start()
        group = ui.pid
        assert ui.start() == url
        assert shared_ui().start() == url
        assert ui.pid == group and ui.running
    finally:
        ui.stop()
    assert _group_gone(group)


@pytest.mark.slow
def test_the_server_shuts_down_with_the_app(store):
    script = "from cncwear_gui.store.mlflow_ui import shared_ui; ui = shared_ui(); ui.start(); print(ui.pid)"
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert _group_gone(int(done.stdout.split()[-1]))  # stopped by the atexit hook


def test_a_central_server_is_not_started_but_returned(home):
    ui = MlflowUi(tracking_uri="http://mlflow.example.com:5000")
    assert ui.start() == "http://mlflow.example.com:5000"
    assert ui.url == "http://mlflow.example.com:5000" and not ui.running and ui.pid is None
