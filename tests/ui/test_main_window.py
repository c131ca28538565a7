"""The main window on the bundled data: views, workers, cancel, errors, shutdown, screenshots."""

import os
import shutil

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt, QThreadPool

pytestmark = pytest.mark.ui
SCREENSHOTS = ["alarms.png", "data.png", "explanations.png", "explanations_global_shap.png", "explanations_surrogate_tree.png",
               "monitoring.png", "operator.png", "predictions.png", "training.png", "training_paired.png"]


@pytest.mark.slow
def test_first_start_trains_a_champion_with_visible_progress(qtbot, home):
    from cncwear_gui.ui.main_window import MainWindow

    window = MainWindow()
    qtbot.addWidget(window)
    seen, scored = [], []
    window.modeller.progress.connect(lambda fraction, message: seen.append(message))
    window.scorer.succeeded.connect(lambda scores: scored.append((scores.model_label, window.live.node)))
    qtbot.waitUntil(lambda: window.state.scores is not None, timeout=180_000)
    # predictions come from the fitted model while the child still evaluates, logs and registers it
    assert window.state.scores.model_label == "cncwear-tool-wear (first start, being registered)"
    assert scored == [("cncwear-tool-wear (first start, being registered)", None)]  # no live machine scores with it yet
    early = window.state.model.estimator
    qtbot.waitUntil(lambda: window.state.model.version == "1", timeout=180_000)
    assert any(message.startswith("first start: ") for message in seen)
    assert window.state.model.label == "cncwear-tool-wear v1" and window.state.model.run_id
    assert window.state.model.estimator is early and len(scored) == 1  # the same model: relabelled, not rescored
    assert window.state.scores.model_label == "cncwear-tool-wear v1"
    assert "cncwear-tool-wear v1" in window.model_label.text()
    qtbot.waitUntil(lambda: window.live.node is not None, timeout=60_000)  # the demo machines start once registered
    qtbot.waitUntil(lambda: window.progress.format() == "ready", timeout=30_000)
    from cncwear_gui.paths import user_data_dir

    assert not list((user_data_dir() / "model-files").glob("first-start-*"))  # read, then removed
    window.close()
    # the next start finds the champion instead of training again
    again = MainWindow()
    qtbot.addWidget(again)
    qtbot.waitUntil(lambda: again.state.model is not None, timeout=120_000)
    assert again.state.model.version == "1"
    again.close()


@pytest.mark.slow
def test_data_view_shows_the_bundled_data_and_its_flags(window_with_champion, qtbot):
    view = window_with_champion.data_view
    assert view.reports.rowCount() == 19
    assert view.samples.rowCount() == 25_286
    reports = {r.experiment: r for r in view.reports.reports if r.experiment}
    row = [r.experiment for r in view.reports.reports].index(2)
    assert view.reports.data(view.reports.index(row, 5)) == f"{reports[2].flags['m1_feedrate_50']:,}"
    assert view.reports.data(view.reports.index(row, 0)) == "✔ OK"
    # click through from the file to its rows
    rect = view.report_table.visualRect(view.reports.index(row, 1))
    qtbot.mouseClick(view.report_table.viewport(), Qt.LeftButton, pos=rect.center())
    selected = view.sample_table.selectionModel().selectedRows()
    assert selected and view.samples.data(view.samples.index(selected[0].row(), 0)) == "2"
    assert view.experiment_box.currentData() == 2
    assert len(view.plot.getPlotItem().listDataItems()) == 2  # the two default signals


@pytest.mark.slow
def test_clicking_the_curve_selects_that_sample(window_with_champion, qtbot):
    view = window_with_champion.predictions_view
    window_with_champion.tabs.setCurrentWidget(view)
    view.show_experiment(6)
    qtbot.waitUntil(lambda: view.experiment == 6)
    view.plot.getPlotItem().vb.setXRange(0, 60, padding=0)
    view.plot.getPlotItem().vb.setYRange(0, 1, padding=0)
    qtbot.wait(50)
    scene_point = view.plot.getPlotItem().vb.mapViewToScene(QPointF(42.0, 0.5))
    widget_point = view.plot.mapFromScene(scene_point)
    with qtbot.waitSignal(window_with_champion.state.sample_selected, timeout=5_000) as blocker:
        qtbot.mouseClick(view.plot.viewport(), Qt.LeftButton, pos=widget_point)
    experiment, row = blocker.args
    assert experiment == 6 and abs(row - 420) <= 3  # 42 s at 10 Hz
    assert window_with_champion.state.selected == (6, row)
    assert "experiment 6, sample" in view.selection_label.text()


@pytest.mark.slow
def test_operator_tiles_state_in_text_and_shape(qtbot, champion_home, monkeypatch):
    """Eight demo machines replay recorded runs through the live engine (20× here): each tile's
    state, in text and shape, follows the tool's recorded condition."""
    from cncwear_gui.settings import Settings
    from cncwear_gui.ui.live_service import DEMO_MACHINES
    from cncwear_gui.ui.main_window import MainWindow

    monkeypatch.setenv("CNCWEAR_HOME", str(champion_home))
    window = MainWindow(Settings(demo_replay_speed=20))
    qtbot.addWidget(window)
    window.show()
    view = window.operator_view
    try:
        qtbot.waitUntil(lambda: len(view.views) == 8 and min(v.scored for v in view.views) >= 1200, timeout=120_000)
        assert list(view.tiles) == list(DEMO_MACHINES)
        truth = {name: window.state.dataset.experiments[n].meta.tool_condition for name, n in DEMO_MACHINES.items()}
        assert sorted(truth.values()) == ["unworn"] * 4 + ["worn"] * 4
        for name, tile in view.tiles.items():
            expected = ("▲", "REPLACE TOOL") if truth[name] == "worn" else ("●", "TOOL OK")
            assert (tile.symbol.text(), tile.status.text()) == expected, name
            assert tile.acknowledge.isVisible() == (truth[name] == "worn"), name  # the worn tools' alarms are up
            assert f"experiment {DEMO_MACHINES[name]} at 20×" in tile.source.text()
        qtbot.waitUntil(lambda: all(t.curve.getData()[0] is not None and len(t.curve.getData()[0]) > 1000
                                    for t in view.tiles.values()), timeout=5_000)  # the trends: 100+ s each
        assert "4 alarm(s) to acknowledge" in view.summary.text()
        assert view.latencies and max(view.latencies) < 30  # arrival → screen, seconds (sanity only: how many depends on load)
    finally:
        window.close()
    assert window.live.node is None  # closing the window stopped the engine


@pytest.mark.slow
def test_a_first_start_cancelled_before_registration_keeps_its_predictions_and_says_so(qtbot, home):
    from cncwear_gui.ui.main_window import MainWindow

    window = MainWindow()
    qtbot.addWidget(window)
    try:
        # cancelled the moment the fitted model is handed over: the child is killed before it registers it
        window.modeller.interim.connect(lambda _model: window.modeller.cancel())
        qtbot.waitUntil(lambda: window.state.scores is not None, timeout=180_000)
        assert not window.modeller.running
        assert window.state.model.label == "cncwear-tool-wear (first start, not registered)"
        assert window.state.scores.model_label == window.state.model.label  # the predictions stay, relabelled
        assert "was not registered" in window.statusBar().currentMessage()
        window.start_live()
        assert window.live.node is None  # no machine is scored, nothing logged under a version the registry lacks
    finally:
        window.close()


@pytest.mark.slow
def test_cancel_stops_a_running_task(qtbot, window_with_champion, bundled_dir):
    window = window_with_champion
    window.load([bundled_dir])
    assert window.loader.running
    with qtbot.waitSignal(window.loader.cancelled, timeout=5_000):
        window.cancel_button.click()
    assert not window.busy


@pytest.mark.slow
def test_an_exception_in_a_worker_reaches_the_user(qtbot, home, tmp_path, bundled_dir):
    """A file without train.csv and an empty registry: training must fail, visibly."""
    from PySide6.QtWidgets import QMessageBox

    from cncwear_gui.ui.main_window import MainWindow

    lonely = tmp_path / "experiment_04.csv"
    lonely.write_bytes((bundled_dir / "experiment_04.csv").read_bytes())
    window = MainWindow(initial_paths=[lonely])
    qtbot.addWidget(window)
    qtbot.waitUntil(lambda: window.last_error is not None, timeout=60_000)
    assert "no labelled experiments" in window.last_error
    boxes = [w for w in window.findChildren(QMessageBox) if w.isVisible()]
    assert boxes and "no labelled experiments" in boxes[0].text()
    window.close()


@pytest.mark.slow


def test_closing_leaves_no_thread_running(qtbot, champion_home, monkeypatch, bundled_dir):
    from cncwear_gui.ui.main_window import MainWindow

    monkeypatch.setenv("CNCWEAR_HOME", str(champion_home))
    window = MainWindow()
    qtbot.addWidget(window)
    qtbot.waitUntil(lambda: window.loader.running, timeout=5_000)  # loading starts once the loop runs
    window.close()  # while loading
    assert QThreadPool.globalInstance().waitForDone(10_000)
    assert QThreadPool.globalInstance().activeThreadCount() == 0


@pytest.mark.slow


def test_a_retraining_watcher_that_dies_is_shown_and_restarted(qtbot, champion_home, tmp_path, monkeypatch):
    import signal

    from cncwear_gui.settings import Settings, save_settings
    from cncwear_gui.ui import main_window
    from cncwear_gui.ui.views.monitoring_view import WARN_STYLE

    monkeypatch.setenv("CNCWEAR_HOME", str(champion_home))
    monkeypatch.setenv("CNCWEAR_CONFIG_DIR", str(tmp_path / "config"))  # the watcher child reads this settings file
    monkeypatch.setattr(main_window, "WATCHER_CHECK_MS", 300)
    (tmp_path / "incoming").mkdir()
    settings = Settings(pipeline_watch_dir=str(tmp_path / "incoming"))
    save_settings(settings)
    window = main_window.MainWindow(settings)
    qtbot.addWidget(window)
    label = window.monitoring_view.watcher_label
    qtbot.waitUntil(lambda: window.pipeline_watcher.running, timeout=10_000)
    first = window.pipeline_watcher.process.pid
    assert label.text() == f"Trigger watcher: watching (pid {first})" and label.styleSheet() == ""
    os.kill(first, signal.SIGKILL)
    qtbot.waitUntil(lambda: "SIGKILL" in label.text(), timeout=20_000)
    restarted = window.pipeline_watcher.process
    assert restarted.pid != first and restarted.poll() is None
    assert label.text().startswith(f"⚠ Trigger watcher: restarted (pid {restarted.pid})")
    assert label.styleSheet() == WARN_STYLE
    window.close()
    assert restarted.wait(timeout=30) is not None  # closing the app stops its watcher


@pytest.mark.slow
def test_a_champion_the_trigger_watcher_promotes_is_loaded_in_the_window(qtbot, home, tmp_path, bundled_dir, monkeypatch):
    """No champion, and unlabelled data open: the watcher's pipeline (new data) promotes the first one."""
    from cncwear_gui.pipeline import watcher as pipeline_watcher
    from cncwear_gui.settings import Settings, save_settings
    from cncwear_gui.ui import main_window

    monkeypatch.setenv("CNCWEAR_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setattr(main_window, "WATCHER_CHECK_MS", 300)
    monkeypatch.setattr(pipeline_watcher, "CHECK_INTERVAL_S", 1)
    training, watched = tmp_path / "training", tmp_path / "incoming"
    training.mkdir(), watched.mkdir()
    for name in ("train.csv", "experiment_01.csv", "experiment_02.csv", "experiment_06.csv", "experiment_08.csv"):
        shutil.copy(bundled_dir / name, training)
    lonely = tmp_path / "open" / "experiment_04.csv"
    lonely.parent.mkdir()
    shutil.copy(bundled_dir / "experiment_04.csv", lonely)
    settings = Settings(data_dir=str(training), pipeline_watch_dir=str(watched), pipeline_engine="flaml",
                        pipeline_budget_s=5)
    save_settings(settings)
    window = main_window.MainWindow(settings, initial_paths=[lonely])
    qtbot.addWidget(window)
    qtbot.waitUntil(lambda: window.last_error is not None, timeout=60_000)  # no labels here: no first-start champion
    assert window.state.model is None
    shutil.copy(bundled_dir / "experiment_11.csv", watched)
    qtbot.waitUntil(lambda: window.state.model is not None, timeout=400_000)
    assert window.state.model.version == "1" and window.state.model.engine == "flaml"  # the pipeline's, not a first-start forest
    message = window.statusBar().currentMessage()
    assert message.startswith("Automatic retraining (new-data, #1): promoted"), message
    qtbot.waitUntil(lambda: window.state.scores is not None, timeout=60_000)  # the open file, scored by it
    window.close()


@pytest.mark.slow
def test_a_champion_promoted_outside_the_window_is_loaded(qtbot, home, monkeypatch):
    """`cncwear promote`, a pipeline run by hand or another PC: the audit trail says so, the window follows."""
    import getpass
    import socket

    from helpers import run_cli

    from cncwear_gui.ui import main_window

    monkeypatch.setattr(main_window, "WATCHER_CHECK_MS", 300)
    window = main_window.MainWindow()
    qtbot.addWidget(window)
    qtbot.waitUntil(lambda: window.state.scores is not None and window.state.scores.model_label.endswith(" v1"),
                    timeout=300_000)  # first start: champion v1 (its predictions show before it is registered)
    assert window.state.model.version == "1"
    first_scores = window.state.scores
    done = run_cli("train", "--engine", "flaml", "--budget", "5", "--skip-loeo", "--protocol", "seed",
                   "--margin", "0.99", "--promote", "--json")
    assert done.returncode == 0, done.stderr[-3000:]
    qtbot.waitUntil(lambda: window.state.model is not None and window.state.model.version == "2", timeout=120_000)
    assert window.state.model.engine == "flaml"
    message = window.statusBar().currentMessage()
    assert message.startswith(f"Champion v2 promoted by {getpass.getuser()} on {socket.gethostname()}: loading it"), message
    qtbot.waitUntil(lambda: window.state.scores is not first_scores, timeout=60_000)  # the open data, rescored by v2
    window.close()


def test_window_geometry_is_restored(qtbot, champion_home, monkeypatch):
    from cncwear_gui.settings import Settings
    from cncwear_gui.ui.main_window import MainWindow

    monkeypatch.setenv("CNCWEAR_HOME", str(champion_home))
    first = MainWindow()
    qtbot.addWidget(first)
    first.resize(700, 500)  # within the offscreen screen (restoreGeometry clamps to it)
    geometry = bytes(first.saveGeometry().toBase64()).decode()
    first.close()
    second = MainWindow(Settings(window_geometry=geometry))
    qtbot.addWidget(second)
    assert (second.width(), second.height()) == (700, 500)
    second.close()


@pytest.mark.slow
def test_screenshot_mode_renders_every_view(tmp_path, champion_home):
    """Every view rendered to a non-blank PNG of the asked-for size. Under Xvfb when it is there
    (the xcb platform, as on a desktop; packaging/dev.sh test installs it), else offscreen. (One
    full run of the mode is minutes; the bundle's smoke test, packaging/smoke_test.py, runs it
    offscreen.)"""
    import subprocess
    import sys

    from helpers import ROOT
    from PySide6.QtGui import QImage

    command = [sys.executable, "-m", "cncwear_gui.cli", "gui", "--screenshot", str(tmp_path), "--size", "1400x900"]
    env = {**os.environ, "CNCWEAR_HOME": str(champion_home)}
    if shutil.which("xvfb-run"):
        command = ["xvfb-run", "-a", "-s", "-screen 0 1920x1200x24", *command]
        env["QT_QPA_PLATFORM"] = "xcb"
    done = subprocess.run(command, capture_output=True, text=True, env=env, cwd=ROOT, timeout=900)
    assert done.returncode == 0, done.stderr[-2000:]
    names = sorted(p.name for p in tmp_path.glob("*.png"))
    assert names == SCREENSHOTS
    for name in names:
        image = QImage(str(tmp_path / name)).convertToFormat(QImage.Format_Grayscale8)
        assert (image.width(), image.height()) == (1400, 900)
        pixels = np.frombuffer(image.constBits(), dtype=np.uint8)[: image.bytesPerLine() * image.height()]
        assert pixels.std() > 20, f"{name} looks blank"
