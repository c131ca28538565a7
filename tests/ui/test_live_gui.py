"""The newcomer's demo as a test: an OPC UA simulator serving a worn tool's run on loopback, the
app connected to it (``cncwear gui --machine``), the light turning WORN, the alarm acknowledged
through the real dialog, the audit rows in the Alarms view, a settings change audited, and the
server lost and found again without the GUI freezing."""

from __future__ import annotations

import pytest
from helpers import BUNDLED, free_port
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QDialog

pytestmark = pytest.mark.ui


def answer_next_dialog(fill) -> None:
    """When the next modal dialog opens, let ``fill(dialog)`` fill it in and accept it."""

    def attempt():
        dialog = QApplication.activeModalWidget()
        if isinstance(dialog, QDialog):
            fill(dialog)
            dialog.accept()
        else:
            QTimer.singleShot(50, attempt)

    QTimer.singleShot(50, attempt)


@pytest.mark.slow
def test_opcua_machine_alarm_acknowledged_and_audited(qtbot, champion_home, monkeypatch):
    from cncwear_gui.live.opcua_simulator import simulator_for_file
    from cncwear_gui.settings import Settings
    from cncwear_gui.store.audit_trail import AuditTrail
    from cncwear_gui.ui.main_window import MainWindow
    from cncwear_gui.ui.views.alarms_view import AcknowledgeDialog

    monkeypatch.setenv("CNCWEAR_HOME", str(champion_home))
    port = free_port()
    simulator = simulator_for_file(BUNDLED / "experiment_06.csv", port=port, speed=10)  # a worn tool
    simulator.start()
    window = MainWindow(Settings(), machines=[f"mill-7=opc.tcp://127.0.0.1:{port}"])
    qtbot.addWidget(window)
    window.show()
    try:
        view = window.operator_view
        qtbot.waitUntil(lambda: "mill-7" in view.tiles and view.tiles["mill-7"].acknowledge.isVisible(), timeout=120_000)
        tile = view.tiles["mill-7"]
        assert (tile.symbol.text(), tile.status.text()) == ("▲", "REPLACE TOOL")
        assert tile.alarm.text() == "ALARM — acknowledge"
        assert f"opc.tcp://127.0.0.1:{port}" in tile.source.text()

        # the operator acknowledges from the tile, with a comment, through the real dialog
        def fill(dialog):
            assert isinstance(dialog, AcknowledgeDialog)
            dialog.comment.setText("tool changed after this part")

        answer_next_dialog(fill)
        tile.acknowledge.click()
        qtbot.waitUntil(lambda: tile.alarm.text() == "alarm acknowledged", timeout=10_000)
        assert not tile.acknowledge.isVisible()
        alarms = window.alarms_view
        qtbot.waitUntil(lambda: alarms.table.rowCount() >= 1 and alarms.table.item(0, 2).text() == "acknowledged",
                        timeout=10_000)
        assert alarms.table.item(0, 1).text() == "mill-7" and alarms.table.item(0, 6).text() == "tool changed after this part"
        # the audit trail: the raise, then the acknowledgement, in the store and in the view
        trail = AuditTrail()
        try:
            entries = trail.entries(machine="mill-7")
        finally:
            trail.close()
        assert [e.action for e in reversed(entries)][:2] == ["alarm.raised", "alarm.acknowledged"]
        assert entries[0].comment == "tool changed after this part"
        window.tabs.setCurrentWidget(alarms)
        qtbot.waitUntil(lambda: any(e.action == "alarm.acknowledged" and e.machine == "mill-7" for e in alarms.audit_entries),
                        timeout=10_000)

        # the server goes away: the tile says so; it comes back: the machine is scored again
        simulator.stop()
        qtbot.waitUntil(lambda: tile.status.text() == "NO DATA" and "CONNECTION LOST" in tile.source.text(), timeout=20_000)
        scored = window.operator_view.views[0].scored
        simulator = simulator_for_file(BUNDLED / "experiment_06.csv", port=port, speed=10)
        simulator.start()
        qtbot.waitUntil(lambda: tile.status.text() == "REPLACE TOOL" and window.operator_view.views[0].scored > scored + 50,
                        timeout=60_000)
        assert "1 reconnect(s)" in tile.source.text()

        # a settings change is audited with its old and new value
        def slower_alarm(dialog):
            dialog.alarm_delay.setValue(25)

        answer_next_dialog(slower_alarm)
        window.edit_settings()
        qtbot.waitUntil(lambda: not window.settings_audit.running, timeout=10_000)
        trail = AuditTrail()
        try:
            changed = trail.entries(action_prefix="settings.changed", limit=1)[0]
        finally:
            trail.close()
        assert (changed.subject, changed.old_value, changed.new_value) == ("alarm_delay_samples", "20", "25")
        qtbot.waitUntil(lambda: window.live.node is not None and window.live.node.config.alarm_delay == 25, timeout=30_000)
    finally:
        window.close()
        simulator.stop()
