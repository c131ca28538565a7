"""OPC UA end to end through the live engine: a simulator on loopback serving a worn tool's run,
the engine connected to it scoring every sample, the alarm raised and acknowledged, the audit trail
and prediction log written, and the server stopped and restarted under a running engine."""

from __future__ import annotations

import pytest
import threading

from helpers import BUNDLED, free_port, wait_for

from cncwear_gui.live.engine import LiveConfig, LiveNode, open_machine
from cncwear_gui.live.opcua_simulator import simulator_for_file
from cncwear_gui.live.sources import MachineSpec, SourceState
from cncwear_gui.monitoring.metrics import AppMetrics

SPEED = 10  # 100 samples/s: the alarm is up within seconds


@pytest.mark.slow
def test_opcua_machine_scored_alarmed_acknowledged_and_reconnected(tmp_path, champion):
    from cncwear_gui.store.audit_trail import AuditTrail
    from cncwear_gui.store.pipeline_history import PipelineHistory
    from cncwear_gui.store.prediction_log import PredictionLog

    port = free_port()
    simulator = simulator_for_file(BUNDLED / "experiment_06.csv", port=port, speed=SPEED)  # a worn tool
    simulator.start()
    url = f"sqlite:///{tmp_path / 'live.db'}"
    stores = {"audit": AuditTrail(url), "predictions": PredictionLog(url), "feedback": PipelineHistory(url)}
    metrics = AppMetrics(process_metrics=False)
    spec = MachineSpec.parse(f"mill-7=opc.tcp://127.0.0.1:{port}")
    config = LiveConfig(alarm_delay=20)
    node = LiveNode([open_machine(spec, champion, metrics, config)], champion, metrics, config, **stores)
    engine = threading.Thread(target=node.run, name="live-engine", daemon=True)
    engine.start()
    machine = node.machines[0]
    try:
        # connect, receive, score, raise
        wait_for(lambda: node.alarm_of("mill-7")["needs_action"], 60, "the worn tool's alarm")
        assert machine.source.health().state is SourceState.CONNECTED
        assert machine.monitor.tracker.state.value == "worn"
        assert metrics.registry.get_sample_value("cncwear_source_up", {"machine": "mill-7", "kind": "opcua"}) == 1
        # the operator acknowledges; the audit trail has the raise and the acknowledgement
        node.acknowledge("mill-7", "olga", "new tool fitted after this part")
        entries = stores["audit"].entries(machine="mill-7")
        assert [e.action for e in reversed(entries)][:2] == ["alarm.raised", "alarm.acknowledged"]
        assert entries[0].os_user == "olga" and entries[0].comment == "new tool fitted after this part"
        # every delivered sample is scored and logged
        assert stores["predictions"].flush()
        scored = machine.monitor.scored
        assert scored >= 50 and stores["predictions"].count("mill-7") >= scored - 50  # the last batch may be queued

        # the server goes away: the source says so, the metrics too; the engine keeps running
        simulator.stop()
        wait_for(lambda: machine.source.health().state is SourceState.RECONNECTING, 15, "the lost connection")
        wait_for(lambda: metrics.registry.get_sample_value("cncwear_source_up", {"machine": "mill-7", "kind": "opcua"}) == 0,
                 5, "source_up 0")
        before = machine.monitor.scored
        # … and comes back on the same port: the client reconnects and scoring resumes
        simulator = simulator_for_file(BUNDLED / "experiment_06.csv", port=port, speed=SPEED)
        simulator.start()
        wait_for(lambda: machine.source.health().state is SourceState.CONNECTED and machine.monitor.scored > before + 50,
                 60, "reconnected scoring")
        assert machine.source.health().reconnects >= 1
        assert metrics.registry.get_sample_value("cncwear_source_reconnects_total", {"machine": "mill-7"}) >= 1
        assert engine.is_alive()
    finally:
        node.stop_event.set()
        engine.join(10)
        simulator.stop()
        for store in stores.values():
            store.close()
    assert not engine.is_alive()
