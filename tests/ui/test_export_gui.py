"""The Export buttons of the Alarms and Monitoring views: the dialog runs the export in a worker,
shows its progress and the rows written, and a failure in a message box with no file left."""

from datetime import datetime, timedelta, timezone

import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

pytestmark = pytest.mark.ui


@pytest.fixture
def url(tmp_path):
    from cncwear_gui.store.audit_trail import AuditTrail
    from cncwear_gui.store.prediction_log import PredictionLog
    from cncwear_gui.store.tool_changes import ToolChangeLog

    url = f"sqlite:///{tmp_path / 'features.db'}"
    with AuditTrail(url) as trail:
        trail.record("alarm.raised", "mill-1#1", None, "unacknowledged", "mill-1")
        trail.record("alarm.raised", "mill-2#1", None, "unacknowledged", "mill-2")
        trail.record("model.promoted", "cncwear-wear", "2", "3")
    with ToolChangeLog(url) as log:
        log.record("mill-1", "worn", "anna")
    start = datetime.now(timezone.utc) - timedelta(hours=2)
    with PredictionLog(url) as log:
        log.append([{"machine": f"mill-{i % 2 + 1}", "probability": i / 100, "logged_at": start + timedelta(minutes=i)}
                    for i in range(100)])
        assert log.flush()
    return url


def state_for(url):
    from cncwear_gui.settings import Settings
    from cncwear_gui.ui.state import AppState

    return AppState(Settings(feature_store_url=url))


def run(qtbot, dialog):
    dialog.export_button.click()
    assert not dialog.export_button.isEnabled()  # running: Export waits, Cancel is there
    qtbot.waitUntil(lambda: dialog.result is not None or dialog.error_box is not None, timeout=60_000)
    qtbot.waitUntil(lambda: dialog.export_button.isEnabled(), timeout=5_000)


def test_the_alarms_view_exports_alarms_and_the_audit_trail(qtbot, tmp_path, url):
    from cncwear_gui.ui.views.alarms_view import AlarmsView

    view = AlarmsView(state_for(url))
    qtbot.addWidget(view)
    view.export_button.click()
    dialog = view.export_dialog
    assert dialog is not None and dialog.isVisible()
    kinds = [dialog.kind.itemData(i) for i in range(dialog.kind.count())]
    assert kinds == ["alarms", "audit", "tool-changes", "labels"]

    dialog.path.setText(str(tmp_path / "alarms.parquet"))
    dialog.format.setCurrentIndex(dialog.format.findData("parquet"))
    dialog.machines.setText("mill-2")
    run(qtbot, dialog)
    assert dialog.result.rows == 1 and dialog.progress.value() == 1000
    assert dialog.status.text() == f"✔ 1 rows written to {tmp_path / 'alarms.parquet'}."
    table = pq.read_table(tmp_path / "alarms.parquet")
    assert table.column("alarm_id").to_pylist() == ["mill-2#1"]

    dialog.kind.setCurrentIndex(dialog.kind.findData("audit"))
    dialog.format.setCurrentIndex(dialog.format.findData("csv"))
    assert dialog.path.text() == str(tmp_path / "alarms.csv")  # the suffix follows the format
    dialog.machines.setText("")
    run(qtbot, dialog)
    assert dialog.result.rows == 4  # three entries and the tool change's
    assert pacsv.read_csv(tmp_path / "alarms.csv").column("action").to_pylist() == [
        "alarm.raised", "alarm.raised", "model.promoted", "tool.changed"]


def test_a_failed_export_says_why_and_leaves_no_file(qtbot, tmp_path, url):
    from PySide6.QtWidgets import QMessageBox

    from cncwear_gui.ui.views.alarms_view import AlarmsView

    view = AlarmsView(state_for(url))
    qtbot.addWidget(view)
    dialog = view.open_export()
    dialog.path.setText(str(tmp_path / "no-such-folder" / "alarms.csv"))
    run(qtbot, dialog)
    assert dialog.result is None
    box = dialog.error_box
    assert isinstance(box, QMessageBox) and box.isVisible()
    assert box.text() == f"The export wrote no file.\n\nthe folder {tmp_path / 'no-such-folder'} does not exist"
    assert dialog.status.text().startswith("✖ The export failed: the folder")
    assert not (tmp_path / "no-such-folder").exists()
    box.close()


def test_the_monitoring_view_exports_the_prediction_log_by_time(qtbot, tmp_path, url):
    from cncwear_gui.ui.views.monitoring_view import MonitoringView

    view = MonitoringView(state_for(url))
    qtbot.addWidget(view)
    view.export_button.click()
    dialog = view.export_dialog
    assert [dialog.kind.itemData(i) for i in range(dialog.kind.count())] == ["predictions"]
    since = datetime.now(timezone.utc) - timedelta(hours=1)
    dialog.set_range(since.replace(second=0, microsecond=0), None)
    dialog.path.setText(str(tmp_path / "predictions.csv"))
    seen = []
    dialog.runner.progress.connect(lambda fraction, _message: seen.append(fraction))
    run(qtbot, dialog)
    table = pacsv.read_csv(tmp_path / "predictions.csv")
    stamps = table.column("logged_at").to_pylist()
    assert dialog.result.rows == table.num_rows and 39 <= table.num_rows <= 41  # rows 60-99 of one a minute from 2 h ago
    assert min(stamps) >= since.replace(second=0, microsecond=0)
    assert seen and seen[-1] == 1.0
