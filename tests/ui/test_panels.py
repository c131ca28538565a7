"""The Monitoring and Training views' panels, each constructed alone: it shows its own state, and
its colours are the theme's."""

import pytest

pytestmark = pytest.mark.ui


@pytest.fixture
def state():
    from cncwear_gui.settings import Settings
    from cncwear_gui.ui.state import AppState

    return AppState(Settings())


def test_the_metrics_panel_says_when_nothing_is_recorded(qtbot, state):
    from cncwear_gui.ui.theme import WARN_STYLE
    from cncwear_gui.ui.views.monitoring.metrics_panel import MetricsPanel

    panel = MetricsPanel(state)
    qtbot.addWidget(panel)
    assert panel.metric_value("Metrics") == "off: nothing is recorded in this window"
    assert panel.metrics_status.text() == "/metrics: no metrics registry in this process"
    assert panel.metrics_status.styleSheet() == WARN_STYLE
    panel.show()
    assert panel.metrics_timer.isActive()
    panel.hide()
    assert not panel.metrics_timer.isActive()


def test_the_pipeline_panel_follows_the_trigger_watcher(qtbot, state):
    from cncwear_gui.ui.theme import WARN_STYLE
    from cncwear_gui.ui.views.monitoring.pipeline_panel import PipelineHistoryPanel

    panel = PipelineHistoryPanel(state)
    qtbot.addWidget(panel)
    assert panel.watcher_label.text() == "Trigger watcher: —" and panel.watcher_label.styleSheet() == ""
    state.set_pipeline_watcher_status("restarted (pid 7): it died", True)
    assert panel.watcher_label.text() == "⚠ Trigger watcher: restarted (pid 7): it died"
    assert panel.watcher_label.styleSheet() == WARN_STYLE
    with qtbot.waitSignal(panel.refresh_requested, timeout=1_000):
        panel.refresh_button.click()


def test_the_drift_panels_wait_for_their_data(qtbot, state):
    from cncwear_gui.ui.views.monitoring.drift_panels import DriftHeatmapPanel, LatestCheckPanel

    requests = []
    checker = DriftHeatmapPanel(state, request_check=lambda: requests.append(True))
    latest = LatestCheckPanel()
    qtbot.addWidget(checker), qtbot.addWidget(latest)
    assert not checker.checked  # no check from the live engine yet
    checker.check_drift_now()
    assert checker.drift_status.text().startswith("Waiting for the monitoring data")
    assert requests == []  # nothing is asked of the engine without the training reference
    checker.on_pass([])
    assert checker.drift_history == {}
    latest.show_check("Mill 1", None)
    assert latest.drift_verdict.text() == "No drift check yet." and latest.drift_table.rowCount() == 0
    checker.shutdown()


def test_the_champion_panel_waits_for_the_model(qtbot, state):
    from cncwear_gui.ui.views.monitoring.champion_panel import ChampionPanel, SnapshotStatus

    footer = SnapshotStatus()
    panel = ChampionPanel(state, footer)
    qtbot.addWidget(panel)
    assert panel.champion_label.text() == "Champion: —"
    assert panel.champion_figures.text() == "Waiting for the model …"
    assert panel.retrain_button.isEnabled() and not panel.cancel_button.isEnabled()
    assert footer.parent() is panel and footer.status.text().startswith("The monitoring data is read")


def test_the_search_panel_holds_the_choices_and_waits_for_data(qtbot, state):
    from cncwear_gui.ui.views.training.search_panel import SearchPanel

    panel = SearchPanel(state)
    qtbot.addWidget(panel)
    assert panel.choices() == {"engine": "flaml", "budget_s": 60, "feature_set": "signals", "register": True,
                               "gate_protocol": "loeo", "gate_margin": 0.0}
    panel.set_choices(gate_protocol="seed", gate_margin=0.05, budget_s=10)
    assert panel.gate() == ("seed", 0.05) and panel.choices()["budget_s"] == 10
    assert panel.leakage_label.text() == "Leakage check: after data are loaded." and panel.leakage_report is None
    panel.update_buttons(training=True, ready=False)
    assert not panel.start_button.isEnabled() and panel.cancel_button.isEnabled() and not panel.budget.isEnabled()


def test_a_view_keeps_its_panels_attributes_under_its_own_names(qtbot, state):
    from cncwear_gui.ui.views.training_view import TrainingView

    view = TrainingView(state)
    qtbot.addWidget(view)
    assert view.budget is view.search.budget and view.trainer is view.run.trainer
    assert view.verdict is view.registry_panel.verdict and view.comparison is view.comparison_panel.comparison
    assert view.runners == (view.trainer, view.baseliner, view.registry_runner, view.browser, view.leakage_runner)
    assert not view.start_button.isEnabled()  # no data yet
    assert view.registry is None and view.outcome is None and not view.loaded
