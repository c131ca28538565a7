"""The desktop app's /metrics endpoint: served from the settings' address, fed by the replays,
and a busy port reported without stopping the app."""

import math
import socket
import urllib.request
from dataclasses import replace

import pytest
from prometheus_client.parser import text_string_to_metric_families

from cncwear_gui.settings import Settings
from helpers import free_port

pytestmark = pytest.mark.ui



def _scrape(url: str) -> dict:
    body = urllib.request.urlopen(url, timeout=5).read().decode()
    return {family.name: family for family in text_string_to_metric_families(body)}


def _window(qtbot, settings):
    from cncwear_gui.ui.main_window import MainWindow

    window = MainWindow(settings=settings)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: window.state.scores is not None and window.state.metrics_status.startswith(("serving", "metrics endpoint off")),
                    timeout=120_000)
    return window


@pytest.mark.slow
def test_the_app_serves_what_its_operator_view_shows(qtbot, champion_home, monkeypatch):
    monkeypatch.setenv("CNCWEAR_HOME", str(champion_home))
    port = free_port()
    window = _window(qtbot, Settings(metrics_port=port, demo_replay_speed=20))
    try:
        assert window.state.metrics_status == f"serving http://127.0.0.1:{port}/metrics"
        view = window.operator_view
        qtbot.waitUntil(lambda: len(view.views) == 8 and min(v.scored for v in view.views) >= 600, timeout=60_000)
        window.live.stop()  # freeze the machines, then compare what the view shows with what is served
        qtbot.wait(300)
        families = _scrape(f"http://127.0.0.1:{port}/metrics")
        states = {(s.labels["machine"], s.labels["state"]): s.value for s in families["cncwear_wear_state"].samples}
        alarms = {(s.labels["machine"], s.labels["state"]): s.value for s in families["cncwear_alarm_state"].samples}
        for shown in view.views:
            assert states[(shown.machine, shown.state.value)] == 1.0, shown.machine
            assert alarms[(shown.machine, shown.alarm["state"])] == 1.0, shown.machine
        counted = {}
        for sample in families["cncwear_predictions"].samples:
            counted[sample.labels["machine"]] = counted.get(sample.labels["machine"], 0) + sample.value
        assert all(counted[v.machine] >= v.scored for v in view.views)  # every sample shown was counted (the registry is per process)
        model = families["cncwear_model_info"].samples[0].labels
        assert model["version"] == window.state.model.version and model["engine"] == window.state.model.engine
        latency = {s.labels["machine"]: s.value for s in families["cncwear_prediction_latency_seconds"].samples
                   if s.name.endswith("_count")}
        assert latency["loaded-files"] >= 1
    finally:
        window.close()
    with pytest.raises(OSError):  # closing the window released the port
        urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2)


@pytest.mark.slow
def test_a_busy_port_is_shown_and_another_port_can_be_chosen(qtbot, champion_home, monkeypatch):
    monkeypatch.setenv("CNCWEAR_HOME", str(champion_home))
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        busy = squatter.getsockname()[1]
        window = _window(qtbot, Settings(metrics_port=busy))
        try:
            assert window.state.metrics_status.startswith("metrics endpoint off")
            assert f"port {busy} on 127.0.0.1 is already in use" in window.state.metrics_status
            assert f"port {busy}" in window.statusBar().currentMessage()
            assert window.state.scores is not None and window.state.metrics is not None  # the app works on
            free = free_port()
            window.metrics_service.apply(replace(window.state.settings, metrics_port=free))
            qtbot.waitUntil(lambda: window.state.metrics_status.startswith("serving"), timeout=20_000)
            assert "cncwear_app_info" in _scrape(f"http://127.0.0.1:{free}/metrics")
        finally:
            window.close()


@pytest.mark.slow


def test_the_window_serves_the_drift_gauges_of_its_engine_checks(qtbot, champion_home, monkeypatch):
    """One drift loop: the window's live engine checks drift as ``cncwear serve`` does, once the
    Monitoring view's snapshot has handed it the per-setup reference; /metrics carries the gauges of
    those checks, and the Monitoring view shows the engine's own reports."""
    monkeypatch.setenv("CNCWEAR_HOME", str(champion_home))
    port = free_port()
    window = _window(qtbot, Settings(metrics_port=port, demo_replay_speed=20))
    try:
        view = window.monitoring_view
        qtbot.waitUntil(lambda: window.live.node is not None, timeout=60_000)
        node = window.live.node
        window.tabs.setCurrentWidget(view)  # the snapshot is read when the view is first shown
        qtbot.waitUntil(lambda: view.snapshot is not None and len(view.drift_history.get("Mill 1", ())) >= 1,
                        timeout=240_000)
        view.check_drift_now()  # Check now: the engine checks again, in its next pass
        qtbot.waitUntil(lambda: len(view.drift_history["Mill 1"]) >= 2 and view.loaded, timeout=30_000)
        window.live.stop()  # freeze the engine; its last pass still reaches the view
        monitor = next(m.monitor for m in node.machines if m.name == "Mill 1")
        qtbot.waitUntil(lambda: view.drift_history["Mill 1"][-1] is monitor.last_check, timeout=10_000)
        report = monitor.last_drift
        assert report is not None and monitor.last_check.report is report
        assert view.selected_machine() == "Mill 1"
        assert view.drift_verdict.text().startswith(f"Mill 1 · feed 6 · clamp 4 · {monitor.last_check.rows:,} samples")
        assert view.drift_table.item(0, 0).text() == report.top(1)[0].name

        families = _scrape(f"http://127.0.0.1:{port}/metrics")
        checks = {s.labels["machine"]: s.value for s in families["cncwear_drift_checks"].samples
                  if s.name.endswith("_total")}
        assert checks["Mill 1"] >= 2 and set(checks) >= {f"Mill {n}" for n in range(1, 9)}
        psi = {(s.labels["machine"], s.labels["group"]): s.value for s in families["cncwear_drift_psi"].samples}
        for group, value in report.group_psi.items():
            assert psi[("Mill 1", group)] == pytest.approx(value)
        drifted = {s.labels["machine"]: s.value for s in families["cncwear_drift_features_drifted"].samples}
        assert drifted["Mill 1"] == len(report.alarms)
        shift = {s.labels["machine"]: s.value for s in families["cncwear_prediction_drift_psi"].samples}
        assert report.prediction_psi is None and math.isnan(shift["Mill 1"])  # per setup: no P(worn) reference
        # the demo machines replay runs the champion trained on: every setup is familiar
        # (the gauge is process-wide: machines of earlier tests in this process may be on it too)
        unfamiliar = {s.labels["machine"]: s.value for s in families["cncwear_drift_unfamiliar_setup"].samples}
        assert {m.name: unfamiliar.get(m.name) for m in node.machines} == {f"Mill {n}": 0.0 for n in range(1, 9)}
    finally:
        window.close()
