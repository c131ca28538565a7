"""The Training view's paired-protocol panel for real: a ``cncwear benchmark --protocol paired``
child with the session's champion, its progress, the table of the eight pairs, cancel."""

import pytest
from PySide6.QtCore import QThreadPool, Qt

pytestmark = pytest.mark.ui


@pytest.fixture
def panel(qtbot, champion_home, monkeypatch, bundled_dataset):
    from cncwear_gui.settings import Settings
    from cncwear_gui.ui.state import AppState
    from cncwear_gui.ui.views.training.paired_panel import PairedPanel

    monkeypatch.setenv("CNCWEAR_HOME", str(champion_home))  # the child finds the champion there
    state = AppState(Settings())
    widget = PairedPanel(state)
    qtbot.addWidget(widget)
    assert not widget.paired_button.isEnabled()  # no data yet
    state.set_dataset(bundled_dataset)
    assert widget.paired_button.isEnabled() and widget.paired_button.text() == "Run paired protocol"
    yield widget
    widget.paired_runner.shutdown()
    assert QThreadPool.globalInstance().waitForDone(60_000)


@pytest.mark.slow
def test_the_panel_runs_the_protocol_and_shows_every_pair(panel, qtbot):
    from cncwear_gui.models.paired import COLUMNS, PAIRS

    qtbot.mouseClick(panel.paired_button, Qt.LeftButton)
    assert panel.paired_runner.running and panel.paired_button.text() == "Cancel"
    qtbot.waitUntil(lambda: panel.loaded, timeout=180_000)
    assert not panel.failure, panel.failure
    model = panel.paired_model
    assert model.rowCount() == len(PAIRS) and model.columnCount() == len(COLUMNS)
    cells = {model.data(model.index(row, 0)): [model.data(model.index(row, c)) for c in range(len(COLUMNS))]
             for row in range(model.rowCount())}
    assert cells["1/6"][2] == "6 of 6" and cells["1/6"][4] == "yes"
    assert cells["5/16"][2].startswith("not taught: ")
    assert cells["1/6"][7].split()[0] in ("worn", "unworn")  # the champion's verdict beside it
    assert panel.paired_summary.text().startswith("Worn runs detected: ")
    assert "cncwear-tool-wear" in panel.paired_status.text() and "optimistic" in panel.paired_status.text()
    assert panel.paired_button.text() == "Run paired protocol"


@pytest.mark.slow
def test_cancel_stops_the_child_and_says_so(panel, qtbot):
    panel.run()
    qtbot.waitUntil(lambda: "Paired protocol:" in panel.paired_status.text(), timeout=10_000)
    qtbot.mouseClick(panel.paired_button, Qt.LeftButton)  # Cancel
    assert not panel.paired_runner.running
    assert panel.paired_status.text() == "Paired protocol cancelled." and panel.report is None
    assert panel.paired_button.text() == "Run paired protocol" and panel.paired_button.isEnabled()
