"""``cncwear serve`` switches to a champion promoted while it serves, and survives one it cannot load."""

from __future__ import annotations

import pytest
import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

from prometheus_client.parser import text_string_to_metric_families

from helpers import ROOT, free_port, run_cli

EVENT_TIMEOUT_S = 240


def _lines(stream) -> queue.Queue:
    """The serve process's stdout lines, read in a thread so the test can wait with a timeout."""
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in stream], daemon=True).start()
    return lines


def _next_event(lines: queue.Queue, name: str) -> dict:
    skipped = []
    while True:
        try:
            event = json.loads(lines.get(timeout=EVENT_TIMEOUT_S))
        except queue.Empty:
            raise AssertionError(f"no {name} event in {EVENT_TIMEOUT_S} s; other events: {skipped}") from None
        if event["event"] == name:
            return event
        skipped.append(event)


def _metrics(url: str) -> dict:
    text = urllib.request.urlopen(url, timeout=5).read().decode()
    return {family.name: family for family in text_string_to_metric_families(text)}


def _scored(families: dict) -> float:
    return sum(sample.value for sample in families["cncwear_predictions"].samples)


def _stored_model_file(model_id: str) -> Path:
    from cncwear_gui.store.tracking import MODEL_FILE, mlflow_client

    location = mlflow_client().get_logged_model(model_id).artifact_location
    return Path(urlparse(location).path) / MODEL_FILE


def _train(home, *extra) -> dict:
    done = run_cli("train", "--engine", "flaml", "--budget", "5", "--skip-loeo", "--protocol", "seed", "--margin", "0.99",
                   "--json", *extra, env={"CNCWEAR_HOME": str(home)})
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])["training"]


@pytest.mark.slow
def test_serve_switches_to_a_newly_promoted_champion_and_keeps_one_it_cannot_load(home, bundled_dir):
    from cncwear_gui.models.champion import find_champion

    port = free_port()
    arguments = [sys.executable, "-m", "cncwear_gui.cli", "serve", "--metrics-addr", f"127.0.0.1:{port}",
                 "--champion-check", "1", "--no-log",
                 "--machine", f"mill-1=replay:{bundled_dir / 'experiment_01.csv'}@20",
                 "--machine", f"mill-6=replay:{bundled_dir / 'experiment_06.csv'}@20"]
    process = subprocess.Popen(arguments, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
                               env={**os.environ, "CNCWEAR_HOME": str(home)})
    try:
        lines = _lines(process.stdout)
        serving = _next_event(lines, "serving")
        assert serving["model"] == "cncwear-tool-wear v1"  # the first-start champion

        promoted = _train(home, "--promote")
        assert promoted["promoted"] is True and promoted["model_version"] == "2"
        switched = _next_event(lines, "model")
        assert switched == {"event": "model", "model": "cncwear-tool-wear v2", "run_id": promoted["run_id"]}
        families = _metrics(serving["url"])
        assert families["cncwear_model_info"].samples[0].labels["version"] == "2"
        before = _scored(families)

        # a champion whose model file was changed after it was logged is refused, and v2 keeps scoring
        registered = _train(home, "--register")
        challenger = find_champion(alias="challenger")
        assert challenger.version == registered["model_version"] == "3"
        shutil.rmtree(home / "model-files" / challenger.model.model_id)  # this test's copy; serve reads the store
        with open(_stored_model_file(challenger.model.model_id), "ab") as handle:  # in the store, not a cached copy
            handle.write(b"\0")
        done = run_cli("promote", "--protocol", "seed", "--margin", "0.99", "--json", env={"CNCWEAR_HOME": str(home)})
        assert done.returncode == 0 and json.loads(done.stdout.strip().splitlines()[-1])["promotion"]["promoted"]
        refused = _next_event(lines, "model-error")
        assert refused["version"] == "3" and refused["model"] == "cncwear-tool-wear v2"
        assert "was changed after cncwear wrote it" in refused["error"]
        families = _metrics(serving["url"])
        assert families["cncwear_model_info"].samples[0].labels["version"] == "2"
        assert _scored(families) > before

        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0, process.stderr.read()[-2000:]
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
