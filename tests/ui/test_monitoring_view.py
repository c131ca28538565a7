"""The Monitoring view on real data, a real champion and real child processes: the snapshot and
its statistics, the drift checks a real live engine (on a stepped clock) makes of its replay windows and hands to the view,
an injected current shift,
a failing snapshot, Retrain now with a real pipeline, its Cancel, and the application metrics.

Six real experiments (three unworn, three worn; the Operator view's four demo runs among them)
keep the real pipeline run at about a minute: on all 18 its LOEO evaluation alone takes minutes.
"""

from __future__ import annotations

import os
from types import SimpleNamespace

import numpy as np
import pytest
from PySide6.QtCore import Qt, QThreadPool

pytestmark = pytest.mark.ui

SUBSET = (1, 2, 6, 8, 11, 18)
MACHINES = {"Mill 1": 1, "Mill 2": 6, "Mill 3": 11, "Mill 4": 18}  # four live replays, as in the app
SNAPSHOT_TIMEOUT_MS = 180_000
PIPELINE_TIMEOUT_MS = 400_000
CURRENTS = ("X1_CurrentFeedback", "X1_OutputCurrent", "Y1_CurrentFeedback", "Y1_OutputCurrent")


@pytest.fixture(scope="module")
def monitored(tmp_path_factory, bundled_dir):
    """A home whose champion was trained on the six experiments; the dataset scored by it; the
    snapshot a ``cncwear monitor`` child reports for it."""
    from cncwear_gui.data.dataset import load_dataset
    from cncwear_gui.models.champion import ensure_champion
    from cncwear_gui.models.scoring import score_dataset
    from cncwear_gui.tasks import Task
    from cncwear_gui.ui.views.monitoring_jobs import load_snapshot
    from cncwear_gui.ui.views.training_jobs import dataset_files

    home = tmp_path_factory.mktemp("monitoring-home")
    files = [bundled_dir / "train.csv", *(bundled_dir / f"experiment_{n:02d}.csv" for n in SUBSET)]
    previous = os.environ["CNCWEAR_HOME"]
    os.environ["CNCWEAR_HOME"] = str(home)
    try:
        dataset = load_dataset(files)
        model = ensure_champion(dataset)
        scores = score_dataset(model, dataset)
        snapshot = load_snapshot(dataset_files(dataset), Task())
    finally:
        os.environ["CNCWEAR_HOME"] = previous
    return SimpleNamespace(home=home, dataset=dataset, model=model, scores=scores, snapshot=snapshot)


class SteppedClock:
    """The replays' clock, advanced by the test: windows at known replay positions."""

    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def stepped_node(model, replays: dict, clock: SteppedClock):
    """A real live engine on the stepped clock: machine → the rows its replay releases."""
    from cncwear_gui.live.engine import LiveConfig, LiveNode, open_machine
    from cncwear_gui.live.replay import ReplaySource
    from cncwear_gui.live.sources import MachineSpec
    from cncwear_gui.monitoring.metrics import AppMetrics

    metrics, config = AppMetrics(process_metrics=False), LiveConfig()
    machines = [open_machine(MachineSpec(name, "replay", f"{name}.csv"), model, metrics, config,
                             source=ReplaySource(rows, clock=clock, label=name)) for name, rows in replays.items()]
    node = LiveNode(machines, model, metrics, config, clock=clock)
    node.start_sources()
    return node


@pytest.fixture
def app(qtbot, monitored, monkeypatch):
    """The state and a live engine whose four demo replays have run two minutes on a stepped clock."""
    from cncwear_gui.settings import Settings
    from cncwear_gui.ui.state import AppState

    monkeypatch.setenv("CNCWEAR_HOME", str(monitored.home))  # the view's children use this home
    state = AppState(Settings())
    state.set_dataset(monitored.dataset)
    state.set_model(monitored.model)
    state.set_scores(monitored.scores)
    clock = SteppedClock()
    samples = monitored.dataset.samples()
    node = stepped_node(monitored.model, {name: samples[samples["experiment"] == experiment]
                                          for name, experiment in MACHINES.items()}, clock)

    def run_for(seconds: float, engine=node) -> None:
        for _ in range(int(seconds / 10)):
            clock.now += 10.0
            engine.step()

    run_for(120)
    views = []

    def make_view(engine=node):
        """The view wired to an engine as the main window wires it to the app's: the snapshot's
        reference goes to the engine, Check now asks it, its passes come to the view (here the
        engine steps on the test's thread, so a pass reaches the view at once)."""
        from cncwear_gui.ui.views.monitoring_view import MonitoringView

        view = MonitoringView(state, engine.request_drift_check)
        view.reference_ready.connect(engine.set_reference)
        engine.listeners.append(view.on_pass)
        qtbot.addWidget(view)
        view.resize(1600, 950)
        views.append(view)
        return view

    yield SimpleNamespace(state=state, node=node, run_for=run_for, make_view=make_view, samples=samples, clock=clock)
    for view in views:
        view.shutdown()
        for runner in view.runners:
            runner.shutdown(60_000)
    assert QThreadPool.globalInstance().waitForDone(60_000)


def checks_shown(view) -> int:
    return sum(map(len, view.drift_history.values()))


@pytest.mark.slow
def test_the_snapshot_loads_when_first_shown_and_fills_the_statistics(app, qtbot):
    view = app.make_view()
    assert view.snapshot is None and "first shown" in view.snapshot_status.text()
    with qtbot.waitSignal(view.snapshot_runner.succeeded, timeout=SNAPSHOT_TIMEOUT_MS):
        view.show()
    snapshot = view.snapshot
    statistics = snapshot.statistics
    assert statistics is not None
    assert view.confusion.counts() == [[statistics.tn, statistics.fp], [statistics.fn, statistics.tp]]
    assert view.confusion.item(1, 1).text().startswith(f"{statistics.tp:,}\n(")
    assert view.confusion.verticalHeaderItem(1).text() == "true WORN"
    assert view.confusion.horizontalHeaderItem(0).text() == "predicted OK"
    assert f"AUC {statistics.roc_auc:.4f}" in view.roc_plot.getPlotItem().titleLabel.text
    assert len(view.roc_plot.curve.getData()[0]) == len(statistics.fpr)
    assert view.pr_plot.threshold.value() == pytest.approx(app.state.settings.worn_threshold)
    assert snapshot.statistics_source in view.statistics_source.text()
    # the header: the champion, its age, its recorded figures
    assert f"Champion: {snapshot.model['label']} · {snapshot.model['engine']}" == view.champion_label.text()
    assert "days ago" in view.champion_figures.text()
    assert f"seed accuracy {snapshot.figure('seed'):.1%}" in view.champion_figures.text()
    # triggers and history: three quiet triggers with their reasons, no firing yet
    assert [view.trigger_table.item(r, 0).text() for r in range(3)] == ["Schedule", "New data", "Degradation"]
    assert view.trigger_table.item(0, 1).text() == "● quiet"
    assert view.trigger_table.item(2, 2).text() == snapshot.triggers[2]["reason"]
    assert view.history_table.item(0, 0).text().startswith("No pipeline firing recorded yet")
    # the snapshot hands the engine its reference: the engine checks in its next pass, the view shows it
    assert not view.loaded and all(m.monitor.reference is None for m in app.node.machines)  # taken in the next pass
    app.node.step()
    assert checks_shown(view) == 4 and all(m.monitor.reference is not None for m in app.node.machines)
    assert view.loaded and view.machine_box.count() == 4
    assert view.heatmap.matrix.shape == (len(snapshot.reference.columns), 1)


@pytest.mark.slow


def test_drift_checks_of_the_live_windows_fill_the_heatmap(app, qtbot, monitored):
    from cncwear_gui.live.machine_monitor import DRIFT_WINDOW
    from cncwear_gui.monitoring.setup_drift import compare
    from cncwear_gui.settings import Settings
    from cncwear_gui.ui.live_service import live_config
    from cncwear_gui.ui.views.monitoring_view import DRIFT_CHECK_S

    assert DRIFT_CHECK_S == 10 == live_config(Settings()).drift_interval_s  # the engine checks this often
    view = app.make_view()
    feature_set = monitored.model.feature_set
    expected = []  # per check: the selected machine's report, computed here on the same window

    def expect():
        samples, probability = app.node.windows()["Mill 3"]
        phases, setups = app.node.machines[list(MACHINES).index("Mill 3")].monitor.window_phases_and_setups()
        assert set(setups) == {setups[-1]}  # one job in the window: all of it is compared
        expected.append(compare(monitored.snapshot.setup_reference, feature_set.build(samples), phases, setups[-1],
                                probability, samples["quality_flags"].to_numpy()))
        return samples

    def recorded(experiment: int, rows: np.ndarray) -> np.ndarray:
        run = app.samples[app.samples["experiment"] == experiment]
        return feature_set.build(run.iloc[rows]).to_numpy()

    first = expect()
    view.set_snapshot(monitored.snapshot)  # hands the engine the reference: it checks in its next pass
    app.node.step()
    assert checks_shown(view) == 4
    view.machine_box.setCurrentText("Mill 3")
    # the window: experiment 11's first 120 s at 10 Hz, exactly the rows the replay released
    assert len(first) == 1200 <= DRIFT_WINDOW
    np.testing.assert_array_equal(feature_set.build(first).to_numpy(), recorded(11, np.arange(1200)))
    looped, _ = app.node.windows()["Mill 1"]  # experiment 1 is shorter: its replay went round again
    length = int((app.samples["experiment"] == 1).sum())
    assert length < 1200 and len(looped) == 1200
    np.testing.assert_array_equal(feature_set.build(looped).to_numpy(), recorded(1, np.arange(1200) % length))

    app.run_for(60)
    second = expect()
    assert len(second) == 1800
    view.check_drift_now()  # a request: the engine checks in its next pass, nothing is computed here
    assert checks_shown(view) == 4 and not view.loaded
    app.node.step()
    assert checks_shown(view) == 8 and view.loaded
    mill_3 = app.node.machines[list(MACHINES).index("Mill 3")].monitor
    assert view.drift_history["Mill 3"][-1] is mill_3.last_check  # the view shows the engine's own check
    metrics = app.node.metrics.registry
    assert metrics.get_sample_value("cncwear_drift_checks_total", {"machine": "Mill 3"}) == 2
    assert metrics.get_sample_value("cncwear_drift_psi", {"machine": "Mill 3", "group": "X1"}) == mill_3.last_drift.group_psi["X1"]

    columns = view.heatmap.features
    assert columns == list(monitored.snapshot.setup_reference.columns) == list(monitored.snapshot.reference.columns)
    assert view.heatmap.matrix.shape == (len(columns), 2)  # one column per check
    for column, report in enumerate(expected):
        want = np.array([np.nan if report.feature(c).psi is None else report.feature(c).psi for c in columns])
        np.testing.assert_allclose(view.heatmap.matrix[:, column], want, rtol=1e-12, equal_nan=True)
    # the group trend, the latest check's table and the prediction histogram follow the same reports
    np.testing.assert_allclose(view.group_plot.curves["X1"].yData, [max(r.group_psi["X1"], 1e-3) for r in expected])
    latest = expected[-1]
    top = latest.top(1)[0]
    assert view.drift_table.item(0, 0).text() == top.name and view.drift_table.item(0, 2).text() == f"{top.psi:.3f}"
    assert top.level in view.drift_table.item(0, 4).text().lower()
    assert view.drift_verdict.text().startswith(f"Mill 3 · {mill_3.last_check.setup} · {len(second):,} samples")
    assert latest.reasons[0] in view.reasons_label.text() and "compared with the nearest of run(s) 11" in latest.reasons[0]
    edges = np.array([i / 10 for i in range(11)])
    bins = np.histogram(np.clip(app.node.windows()["Mill 3"][1], 0, 1), bins=edges)[0]
    np.testing.assert_allclose(view.prediction_plot.window, bins / bins.sum() * 100)
    # another machine's history is its own
    view.machine_box.setCurrentText("Mill 1")
    assert view.heatmap.matrix.shape == (len(columns), 2)
    mill_1 = view.drift_history["Mill 1"]
    assert mill_1[0].setup == "feed 6 · clamp 4" != view.drift_history["Mill 3"][0].setup  # each judged by its own job
    np.testing.assert_array_equal(view.heatmap.matrix[:, 0], mill_1[0].psi_of(columns))


def test_scaled_axis_currents_raise_alarms_and_say_why_a_new_job_is_unfamiliar(app, qtbot, monitored):
    """Ten minutes of a training run (experiment 6, its replay looping) against the runs of its setup:
    no drift; the same run with its X and Y currents doubled: drifted, naming them; the run under a
    job the champion never trained on: unfamiliar, said as such, neither drifted nor OK."""
    samples = monitored.dataset.samples(labelled_only=True)
    baseline = samples[samples["experiment"] == 6]
    scaled = baseline.copy()
    for column in CURRENTS:
        scaled[column] = scaled[column] * 2.0
    new_job = baseline.assign(feedrate=9.0)  # feed 9 · clamp 4: no training run
    engine = stepped_node(monitored.model, {"Like training": baseline, "Currents ×2": scaled, "New job": new_job},
                          app.clock)
    app.run_for(600, engine)  # 6,000 rows of each in the drift window
    view = app.make_view(engine)
    view.set_snapshot(monitored.snapshot)
    engine.step()
    assert checks_shown(view) == 3 and view.drift_history["Like training"][-1].rows == 6000
    version = monitored.snapshot.version
    unfamiliar = f"New job: setup feed 9 · clamp 4 is unfamiliar to model v{version} — no drift judgement"
    status = view.drift_status.text()
    assert "◆ Drifted: Currents ×2." in status and "● No drift: Like training." in status and "New job" not in status
    assert view.unfamiliar_label.text() == f"? {unfamiliar}" and not view.unfamiliar_label.isHidden()

    view.machine_box.setCurrentText("Currents ×2")
    levels = {view.drift_table.item(r, 0).text(): view.drift_table.item(r, 4).text() for r in range(view.drift_table.rowCount())}
    for column in CURRENTS:
        assert levels[column] == "◆ ALARM"
    assert view.drift_table.item(0, 4).background().color().name() == "#e7a5a0"  # colour with the text
    reasons = view.reasons_label.text()
    assert f"{len(CURRENTS)} of 48 features drifted" in reasons
    assert "X1_OutputCurrent PSI" in reasons and "Y1_OutputCurrent PSI" in reasons
    # within one setup and phase a few features at alarm level are a finding: the window drifted
    report = view.drift_history["Currents ×2"][-1].report
    assert sorted(f.name for f in report.alarms) == sorted(CURRENTS) and report.drifted
    assert report.prediction_psi is None  # no P(worn) reference per setup: shown, not judged
    assert "◆ DRIFTED (4 of 48 features at alarm level)" in view.drift_verdict.text()

    view.machine_box.setCurrentText("Like training")
    report = view.drift_history["Like training"][-1].report
    assert all(report.feature(column).level == "ok" for column in CURRENTS) and not report.drifted
    assert view.drift_verdict.text().endswith("● no drift")
    assert view.reasons_label.text() == "\n".join(f"• {reason}" for reason in report.reasons)
    assert "feed 6 · clamp 4" in report.reasons[0] and not any("features drifted" in r for r in report.reasons)

    view.machine_box.setCurrentText("New job")
    assert view.drift_verdict.text() == f"? {unfamiliar}"
    assert "not drift" in view.reasons_label.text() and view.drift_table.rowCount() == 0
    assert np.isnan(view.heatmap.matrix).all()  # nothing judged: an empty column, not a grey (no change) one
    assert engine.metrics.registry.get_sample_value("cncwear_drift_unfamiliar_setup", {"machine": "New job"}) == 1


def test_a_failing_snapshot_is_reported_in_the_view(app, qtbot, monkeypatch):
    from cncwear_gui.ui.views.monitoring_view import FAILED_STYLE

    monkeypatch.setenv("CNCWEAR_MLFLOW_URI", "sqlite:////proc/cncwear-no-such-dir/mlflow.db")  # the child cannot open it
    view = app.make_view()
    with qtbot.waitSignal(view.snapshot_runner.failed, timeout=SNAPSHOT_TIMEOUT_MS) as failed:
        view.show()
    assert "No such file or directory" in failed.args[0]
    assert view.snapshot is None
    assert view.snapshot_status.text().startswith("✖ Could not load the monitoring data:")
    assert "No such file or directory" in view.snapshot_status.text()
    assert view.snapshot_status.styleSheet() == FAILED_STYLE
    assert view.confusion.item(0, 0).text() == "—"
    view.check_drift_now()
    assert view.drift_status.text().startswith("Waiting for the monitoring data")
    assert view.retrain_button.isEnabled() and view.refresh_button.isEnabled()


@pytest.mark.slow
def test_retrain_runs_the_pipeline_and_the_history_gains_its_firing(app, qtbot, monitored):
    view = app.make_view()
    view.set_snapshot(monitored.snapshot)
    view.budget.setValue(5)
    promoted = []
    view.champion_changed.connect(lambda: promoted.append(True))
    messages = []
    view.pipeline_runner.progress.connect(lambda _fraction, message: messages.append(message))
    qtbot.mouseClick(view.retrain_button, Qt.LeftButton)
    assert view.pipeline_runner.running and view.cancel_button.isEnabled() and not view.retrain_button.isEnabled()
    with qtbot.waitSignal(view.pipeline_runner.succeeded, timeout=PIPELINE_TIMEOUT_MS) as done:
        pass
    outcome = done.args[0]
    result = outcome.result
    assert outcome.status in ("promoted", "kept"), outcome.text
    assert [step["name"] for step in result["steps"]] == ["validate", "features", "train", "evaluate", "register",
                                                        "gate", "promote"]
    assert any(m.startswith("pipeline: train") or m.startswith("train: ") for m in messages)
    gate = result["gate"]
    if outcome.status == "promoted":
        assert outcome.text.startswith(f"promoted v{result['model_version']}")
        assert promoted == [True]
    else:
        assert outcome.text == f"kept v{gate['champion_version']}: {gate['reason']}"
        assert promoted == []
    assert view.retrain_status.text() == f"{'✔' if outcome.status == 'promoted' else '●'} Retrain {outcome.text}"
    assert view.retrain_button.isEnabled() and not view.cancel_button.isEnabled()
    # the snapshot is read again: the history's newest row is this firing
    qtbot.waitUntil(lambda: view.snapshot is not monitored.snapshot and not view.snapshot_runner.running,
                    timeout=SNAPSHOT_TIMEOUT_MS)
    row = [view.history_table.item(0, c).text() for c in range(5)]
    assert row[0] == str(outcome.firing_id) and row[2] == "manual"
    assert row[3] == f"{'✔ promoted' if outcome.status == 'promoted' else '● kept'}"
    assert row[4] == view.snapshot.history[0]["reason"] and "requested by" in row[4]
    assert '"gate"' in view.history_table.item(0, 4).toolTip()
    # the newest firing is selected; its recorded outcome reads as the run reported itself
    assert view.firing_outcome.text() == f"#{outcome.firing_id} {'✔' if outcome.status == 'promoted' else '●'} {outcome.text}"
    if outcome.status == "promoted":
        assert view.champion_label.text().startswith(f"Champion: cncwear-tool-wear v{result['model_version']}")


@pytest.mark.slow
def test_cancel_stops_the_pipeline_child_and_records_the_firing(app, qtbot, monitored, monkeypatch):
    from cncwear_gui import child_process

    children = []
    popen = child_process.subprocess.Popen

    def recording_popen(*args, **kwargs):
        children.append(popen(*args, **kwargs))
        return children[-1]

    monkeypatch.setattr(child_process.subprocess, "Popen", recording_popen)
    view = app.make_view()
    view.set_snapshot(monitored.snapshot)
    view.budget.setValue(300)
    view.retrain()
    qtbot.waitUntil(lambda: "train:" in view.retrain_progress.format(), timeout=120_000)  # searching
    pipeline = next(c for c in children if "pipeline" in c.args)
    assert pipeline.poll() is None
    with qtbot.waitSignal(view.pipeline_runner.succeeded, timeout=120_000) as done:
        view.cancel_button.click()
        assert not view.cancel_button.isEnabled() and view.retrain_status.text().startswith("Cancelling")
    outcome = done.args[0]
    assert pipeline.poll() is not None  # the child is gone
    assert outcome.status == "cancelled"
    assert outcome.text == f"cancelled: firing #{outcome.firing_id} recorded as failed (cancelled)"
    assert view.retrain_status.text() == f"■ Retrain {outcome.text}"
    assert view.retrain_button.isEnabled()
    qtbot.waitUntil(lambda: view.snapshot is not monitored.snapshot and not view.snapshot_runner.running,
                    timeout=SNAPSHOT_TIMEOUT_MS)
    statuses = [firing["status"] for firing in view.snapshot.history]
    assert "running" not in statuses
    assert view.history_table.item(0, 0).text() == str(outcome.firing_id)
    assert view.history_table.item(0, 3).text() == "✖ failed"
    assert view.firing_outcome.text().startswith(f"#{outcome.firing_id} ✖ failed")
    assert view.firing_outcome.text().endswith("cancelled")
    assert '"error": "cancelled"' in view.history_table.item(0, 3).toolTip()


def test_application_metrics_are_read_from_the_registry(qtbot, monitored):
    from cncwear_gui.monitoring.metrics import AppMetrics
    from cncwear_gui.settings import Settings
    from cncwear_gui.ui.state import AppState
    from cncwear_gui.ui.views.monitoring_jobs import RetrainOutcome, count_retrain
    from cncwear_gui.ui.views.monitoring_view import METRICS_REFRESH_MS, MonitoringView

    state = AppState(Settings())
    view = MonitoringView(state)
    qtbot.addWidget(view)
    assert view.metric_value("Metrics") == "off: nothing is recorded in this window"
    assert view.metrics_status.text() == "/metrics: no metrics registry in this process"

    metrics = AppMetrics(process_metrics=False)
    metrics.add_machine("Mill 1", "replay")
    for seconds in [0.002] * 50 + [0.02] * 50:  # p50 at the top of the 1-2.5 ms bucket, p95 in 10-25 ms
        metrics.prediction_latency.labels("Mill 1").observe(seconds)
    metrics.predictions.labels("Mill 1", "ok").inc(1234)
    metrics.predictions.labels("Mill 1", "worn").inc(56)
    metrics.scoring_errors.labels("Mill 1").inc(2)
    for seconds in (0.3, 0.4, 4.0):
        metrics.explanation_latency.labels("lime").observe(seconds)
    metrics.training_runs.labels("flaml", "succeeded").inc()
    count_retrain(metrics, RetrainOutcome("cancelled", "cancelled"), "flaml")
    count_retrain(metrics, RetrainOutcome("kept", "kept v1", 3, {"steps": [{"name": "train", "status": "ok"}]}), "flaml")
    state.metrics = metrics
    state.metrics_status = "metrics endpoint off: port 9464 is in use by another program"
    view.refresh_metrics()
    assert view.metrics_status.text() == "/metrics: metrics endpoint off: port 9464 is in use by another program"
    assert view.metric_value("Predictions (samples)") == "OK 1,234 · WORN 56"
    assert view.metric_value("Scoring errors (batches)") == "2"
    assert view.metric_value("Prediction latency") == "p50 2.5 ms · p95 23.5 ms (100 batches)"
    assert view.metric_value("Explanation latency: lime") == "p95 4.62 s (3 explanations)"  # 2.5 + 2.5 × 0.85
    assert view.metric_value("Explanation latency: shap") is None  # methods without a call are left out
    assert view.metric_value("Training runs") == "succeeded 2 · failed 0 · cancelled 0"
    assert view.metric_value("Pipeline runs") == "promoted 0 · kept 1 · failed 1 · skipped 0"
    view.set_snapshot(monitored.snapshot)  # so showing the view reads no snapshot
    view.show()
    assert not view.snapshot_runner.running
    assert view.metrics_timer.isActive() and view.metrics_timer.interval() == METRICS_REFRESH_MS == 2000
    view.hide()
    assert not view.metrics_timer.isActive()
    view.shutdown()
