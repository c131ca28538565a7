"""The Training view with real FLAML runs on the bundled data: live progress, the results (LOEO
first), the registry and promotion, cancel, the feature-set choice and its leakage check, the engine
choice with and without auto-sklearn, the MLflow UI button and the main window's reload after a promotion."""

import urllib.request

import pytest
from helpers import needs_automl_runtime
from PySide6.QtCore import QThreadPool, Qt

pytestmark = pytest.mark.ui

BUDGET_S = 8
TRAINING_TIMEOUT_MS = 400_000  # search, seed refit, 18 LOEO refits, logging, the gate


def training_runs() -> list:
    """Runs in the training experiment of the current CNCWEAR_HOME's tracking store."""
    from cncwear_gui.models.training import TRAINING_EXPERIMENT
    from cncwear_gui.store.tracking import mlflow_client

    mlflow = mlflow_client()
    experiment = mlflow.get_experiment_by_name(TRAINING_EXPERIMENT)
    if experiment is None:
        return []
    return mlflow.search_runs(experiment_ids=[experiment.experiment_id], output_format="list")


@pytest.fixture
def view(qtbot, home, bundled_dataset):
    from cncwear_gui.settings import Settings
    from cncwear_gui.ui.state import AppState
    from cncwear_gui.ui.views.training_view import TrainingView

    state = AppState(Settings())
    widget = TrainingView(state)
    qtbot.addWidget(widget)
    widget.resize(1400, 900)
    widget.show()  # the first show reads the registry
    state.set_dataset(bundled_dataset)
    qtbot.waitUntil(lambda: widget.registry is not None and widget.start_button.isEnabled(), timeout=60_000)
    yield widget
    for runner in widget.runners:
        runner.shutdown()
    assert QThreadPool.globalInstance().waitForDone(60_000)


@pytest.mark.slow
def test_a_run_shows_live_progress_then_results_and_promotes(view, qtbot):
    from cncwear_gui.models.champion import find_champion

    assert view.registry.champion is None and view.registry.challenger is None
    assert not view.promote_button.isEnabled()  # nothing registered yet
    view.set_choices(engine="flaml", budget_s=BUDGET_S, register=True, feature_set="process")
    view.start_training()
    assert view.trainer.running and view.cancel_button.isEnabled() and not view.start_button.isEnabled()
    assert not view.budget.isEnabled() and not view.feature_set.isEnabled()
    assert "on process:" in view.status.text()

    # live: candidates reach the labels and the curve while the run is still going
    qtbot.waitUntil(lambda: view.curve.point_count >= 2, timeout=120_000)
    assert view.trainer.running
    assert view.trial_count >= 2 and view.best_score is not None
    assert f"of {BUDGET_S} s" in view.live.text() and "candidates" in view.live.text()
    assert view.progress.value() > 0
    plot_height = view.curve.height()

    qtbot.waitUntil(lambda: view.outcome is not None, timeout=TRAINING_TIMEOUT_MS)
    # the two-line summary fits the status line's reserved height: the plot keeps its size
    assert view.curve.height() == plot_height
    result = view.outcome.result
    assert view.status.text().startswith("✔ FLAML tried")
    assert result.feature_set == "process@v1" and "on process@v1" in view.status.text()  # the choice reached the run
    # the summary: LOEO first, seed labelled as the optimistic random row split
    summary = view.status.text()
    assert summary.index("LOEO (unseen tools) accuracy") < summary.index("seed (random rows, optimistic) accuracy")
    assert not view.cancel_button.isEnabled() and view.start_button.isEnabled()
    # the leaderboard
    assert view.leaderboard.rowCount() == len(result.leaderboard) > 0
    assert view.leaderboard.data(view.leaderboard.index(0, view.leaderboard.keys.index("model"))) == result.leaderboard[0]["model"]
    assert view.curve.point_count == sum(1 for e in result.events if e.kind == "trial")
    # the talk's table: the run under both protocols, LOEO columns first; the baselines wait for their button
    comparison = view.comparison
    headers = [comparison.headerData(c, Qt.Horizontal) for c in range(comparison.columnCount())]
    assert headers[1] == "loeo\naccuracy" and headers[6] == "loeo\nexperiments"
    assert headers[7] == "seed (random rows)\naccuracy" and headers[-1] == "seed\nMCC"
    assert all("optimistic" in comparison.headerData(c, Qt.Horizontal, Qt.ToolTipRole) for c in range(7, 12))
    assert "unseen tool" in comparison.headerData(1, Qt.Horizontal, Qt.ToolTipRole)
    row = comparison.models.index("FLAML")
    loeo, seed = result.evaluations["loeo"], result.evaluations["seed"]
    assert comparison.data(comparison.index(row, 1)) == f"{loeo.metrics['accuracy']:.2%}"
    assert comparison.data(comparison.index(row, 6)) == f"{loeo.experiments_correct}/{len(loeo.verdicts)}"
    assert comparison.data(comparison.index(row, 7)) == f"{seed.metrics['accuracy']:.2%}"
    assert [comparison.data(comparison.index(r, 0)) for r in range(3)] == [
        "Decision Tree (not computed)", "Random Forest (not computed)", "Gradient Boosting (not computed)"]
    names = view.comparison_table.fontMetrics()  # the model column was sized to its longest name
    assert view.comparison_table.columnWidth(0) >= names.horizontalAdvance("Gradient Boosting (not computed)")
    assert comparison.data(comparison.index(row, 0), Qt.FontRole).bold()  # the run's row stands out
    comparison.set_rows(view.outcome.rows)  # new rows: no cell is answered from before
    assert comparison.data(comparison.index(row, 0), Qt.FontRole) is None
    assert "Gradient Boosting" in view.baseline_status.text()
    # registered as the challenger; the gate's verdict at training time is shown
    assert view.registry.challenger.version == result.model_version
    assert find_champion(alias="challenger").version == result.model_version
    assert "Challenger: v1" in view.challenger_label.text()
    assert "Gate at training time: would promote" in view.verdict.text()
    assert [run.info.run_id for run in training_runs()] == [result.run_id]

    # baselines run in their own runner, with progress (LOEO first, on the run's feature set), and can be cancelled
    view.baseline_button.click()
    qtbot.waitUntil(lambda: "%" in view.baseline_status.text(), timeout=60_000)
    assert "process / loeo / " in view.baseline_status.text()
    assert view.baseline_button.text() == "Cancel baselines"
    view.baseline_button.click()
    assert view.baseline_status.text() == "Baselines cancelled."

    # promotion: the gate runs in a worker and its verdict is shown
    assert view.promote_button.isEnabled()
    with qtbot.waitSignal(view.champion_promoted, timeout=120_000) as promoted:
        view.promote_button.click()
    assert promoted.args == [result.model_version]
    assert view.verdict.text().startswith("✔ Promoted: v1 is the champion now")
    assert "there is no champion yet" in view.verdict.text()
    assert view.registry.champion.version == result.model_version and view.registry.challenger is None
    assert find_champion().version == result.model_version
    assert not view.promote_button.isEnabled()
    assert "Challenger: none registered" in view.challenger_label.text()


@pytest.mark.slow
def test_the_feature_set_choice_reaches_the_training_config(view, bundled_dataset):
    """The combo offers the three sets (tooltip: the set's description), defaults to the
    TrainingConfig's set, and the chosen one is what the training child's config gets."""
    from cncwear_gui.cli import build_parser
    from cncwear_gui.cli.models import training_config
    from cncwear_gui.features.sets import FEATURE_SETS
    from cncwear_gui.models.baselines import BASELINE_NAMES
    from cncwear_gui.models.training import TrainingConfig
    from cncwear_gui.ui.views.training_jobs import BASELINE_LABELS, BASELINES, train_arguments

    combo = view.feature_set
    assert [combo.itemData(i) for i in range(combo.count())] == ["seed_slides", "signals", "process"]
    assert [combo.itemData(i, Qt.ToolTipRole) for i in range(combo.count())] == [
        fs.description for fs in FEATURE_SETS.values()]
    assert combo.currentData() == view.choices()["feature_set"] == TrainingConfig().feature_set == "signals"
    assert combo.toolTip() == FEATURE_SETS["signals"].description
    assert view.gate_protocol.currentData() == "loeo"  # LOEO is the default protocol

    for name in ("process", "seed_slides"):
        combo.setCurrentIndex(combo.findData(name))
        assert combo.toolTip() == FEATURE_SETS[name].description
        choices = view.choices()
        assert choices["feature_set"] == name
        arguments = train_arguments(bundled_dataset, choices)
        config = training_config(build_parser().parse_args(arguments), register=choices["register"])
        assert config.feature_set == name and config.gate_protocol == "loeo"

    # the baselines include Gradient Boosting, named as the core names it
    assert "hgb" in BASELINES and BASELINE_LABELS == {code: BASELINE_NAMES[code] for code in BASELINES}


@pytest.mark.slow
def test_the_leakage_check_warns_for_seed_slides_and_not_for_process(view, qtbot):
    """The check runs in a worker for the chosen set on the loaded data, is shown as text (and
    colour for a warning), and is cached per dataset and feature set."""
    from cncwear_gui.ui.views.training_view import WARNING_STYLE

    combo, label, caveats = view.feature_set, view.leakage_label, view.feature_caveats
    # the default set places samples in machine coordinates: said whether or not its check has finished
    assert caveats.isVisible() and "machine coordinates and the NC program" in caveats.text()
    assert "LOEO cannot tell wear from setup" in caveats.text()

    combo.setCurrentIndex(combo.findData("seed_slides"))
    assert view.leakage_runner.running and label.text().startswith("Checking whether seed_slides")
    qtbot.waitUntil(lambda: view.leakage_report is not None, timeout=120_000)
    seed_report = view.leakage_report
    assert seed_report.feature_set == "seed_slides@v1" and seed_report.level == "warning"
    assert label.isVisible() and label.text() == f"▲ Warning {seed_report.message}"
    assert "nearly identifies the experiment" in label.text() and label.styleSheet() == WARNING_STYLE
    assert "Most identifying features alone" in label.toolTip()
    assert "machine coordinates" in caveats.text() and "per-experiment constants" in caveats.text()

    combo.setCurrentIndex(combo.findData("process"))
    assert label.text().startswith("Checking whether process") and label.styleSheet() == ""
    qtbot.waitUntil(lambda: view.leakage_report is not None, timeout=120_000)
    process_report = view.leakage_report
    assert process_report.feature_set == "process@v1" and process_report.level != "warning"
    assert label.isVisible() and not label.text().startswith("▲") and "Warning" not in label.text()
    assert process_report.message in label.text() and label.styleSheet() == ""
    assert not caveats.isVisible()  # setup-free, no train.csv constants

    # cached: back to seed_slides shows its report at once, without a new check
    combo.setCurrentIndex(combo.findData("seed_slides"))
    assert not view.leakage_runner.running
    assert view.leakage_report is seed_report and label.styleSheet() == WARNING_STYLE
    assert label.text().startswith("▲ Warning")


@pytest.mark.slow
def test_cancel_returns_to_idle_and_leaves_no_run(view, qtbot):
    before = [run.info.run_id for run in training_runs()]
    view.set_choices(engine="flaml", budget_s=120, register=True)
    view.start_training()
    qtbot.waitUntil(lambda: view.trial_count > 0, timeout=120_000)
    with qtbot.waitSignal(view.trainer.cancelled, timeout=5_000):
        view.cancel_button.click()
    assert view.status.text().startswith("■ Training cancelled")
    assert view.progress.format() == "cancelled"
    assert view.start_button.isEnabled() and not view.cancel_button.isEnabled() and view.budget.isEnabled()
    assert view.outcome is None
    assert QThreadPool.globalInstance().waitForDone(120_000)  # the search stops at its next candidate
    assert [run.info.run_id for run in training_runs()] == before
    from cncwear_gui.models.champion import find_champion

    assert find_champion(alias="challenger") is None


@pytest.mark.automl
@needs_automl_runtime
@pytest.mark.slow
def test_autosklearn_shows_live_progress_and_cancel_stops_its_job(view, qtbot):
    """The view drives the auto-sklearn job in its own runtime: its candidates reach the curve while
    it searches; Cancel stops the job's whole process group and leaves no run, model or challenger."""
    from cncwear_gui.automl.jobs import models_dir
    from cncwear_gui.models.champion import find_champion
    from cncwear_gui.process_groups import group_alive

    assert view.engine.model().item(view.engine.findData("auto-sklearn")).isEnabled()
    started = []
    view._job_event.connect(lambda _run, event: event.kind == "started" and started.append(event.data))
    view.set_choices(engine="auto-sklearn", budget_s=120, register=True)
    view.start_training()
    qtbot.waitUntil(lambda: view.curve.point_count >= 1, timeout=240_000)
    assert view.trainer.running and "Searching with auto-sklearn" in view.status.text()
    assert "of 120 s" in view.live.text() and view.best_score is not None
    job = started[0]["pid"]  # the job leads its own process group
    assert group_alive(job)

    with qtbot.waitSignal(view.trainer.cancelled, timeout=60_000):
        view.cancel_button.click()
    assert view.status.text().startswith("■ Training cancelled") and view.outcome is None
    qtbot.waitUntil(lambda: not group_alive(job), timeout=10_000)
    assert QThreadPool.globalInstance().waitForDone(60_000)
    assert training_runs() == [] and find_champion(alias="challenger") is None
    assert list(models_dir().iterdir()) == []


def test_a_failed_run_is_reported(qtbot, home, tmp_path, bundled_dir):
    """Without train.csv nothing is labelled: the run fails with a readable reason."""
    from cncwear_gui.data.dataset import load_dataset
    from cncwear_gui.settings import Settings
    from cncwear_gui.ui.state import AppState
    from cncwear_gui.ui.views.training_view import FAILED_STYLE, TrainingView

    lonely = tmp_path / "experiment_04.csv"
    lonely.write_bytes((bundled_dir / "experiment_04.csv").read_bytes())
    state = AppState(Settings())
    view = TrainingView(state)
    qtbot.addWidget(view)
    state.set_dataset(load_dataset([lonely]))
    with qtbot.waitSignal(view.trainer.failed, timeout=120_000) as failed:
        view.start_training()
    assert "no labelled experiments" in failed.args[0]
    assert view.status.text().startswith("✖ Training failed:") and "no labelled experiments" in view.status.text()
    assert view.status.styleSheet() == FAILED_STYLE
    assert view.start_button.isEnabled() and view.outcome is None
    assert QThreadPool.globalInstance().waitForDone(30_000)


def test_autosklearn_is_disabled_and_explained_without_its_runtime(qtbot, monkeypatch, tmp_path):
    from cncwear_gui.settings import Settings
    from cncwear_gui.ui.state import AppState
    from cncwear_gui.ui.views.training_view import TrainingView

    missing = tmp_path / "no-such-venv" / "bin" / "python"
    monkeypatch.setenv("CNCWEAR_AUTOML_PYTHON", str(missing))
    view = TrainingView(AppState(Settings()))
    qtbot.addWidget(view)
    index = view.engine.findData("auto-sklearn")
    assert not view.engine.model().item(index).isEnabled()
    assert view.engine.itemText(index) == "auto-sklearn (not installed)"
    tooltip = view.engine.itemData(index, Qt.ToolTipRole)
    assert "auto-sklearn is not installed here (needs Linux + Python 3.9)" in tooltip
    assert "not installed here" in view.engine_note.text()
    assert view.engine.currentData() == "flaml" and view.budget.minimum() == 5


@pytest.mark.slow
def test_open_mlflow_ui_serves_the_store_on_loopback(view, qtbot, monkeypatch):
    from cncwear_gui.store.mlflow_ui import shared_ui
    from cncwear_gui.ui.views.training import registry_panel

    opened = []

    class Desktop:  # no browser in a test: record what would be opened
        @staticmethod
        def openUrl(url):
            opened.append(url.toString())
            return True

    monkeypatch.setattr(registry_panel, "QDesktopServices", Desktop)
    try:
        with qtbot.waitSignal(view.browser.succeeded, timeout=120_000) as started:
            view.mlflow_button.click()
        url = started.args[0]
        assert url.startswith("http://127.0.0.1:") and opened == [url]
        assert view.mlflow_status.text() == f"MLflow UI: {url}"
        no_proxy = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with no_proxy.open(url + "health", timeout=10) as response:
            assert response.status == 200
    finally:
        shared_ui().stop()


@pytest.mark.slow
def test_the_window_reloads_the_champion_after_a_promotion(qtbot, home):
    from cncwear_gui.ui.main_window import MainWindow

    window = MainWindow()
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: window.state.scores is not None and window.state.scores.model_label.endswith(" v1"),
                    timeout=180_000)  # first start: a quick champion v1 (its predictions show before it is registered)
    view = window.training_view
    assert window.tabs.tabText(window.tabs.indexOf(view)) == "Training"
    assert view.trainer in window.runners  # the status bar's Cancel and the error messages cover it
    window.tabs.setCurrentWidget(view)
    qtbot.waitUntil(lambda: view.registry is not None and view.start_button.isEnabled(), timeout=60_000)
    assert view.registry.champion.version == "1" and "Champion: v1" in view.champion_label.text()

    # the seed gate with the widest margin: the champion's seed figure is one fit, and it passes
    view.set_choices(engine="flaml", budget_s=BUDGET_S, register=True, gate_protocol="seed", gate_margin=0.2)
    view.start_training()
    qtbot.waitUntil(lambda: view.outcome is not None, timeout=TRAINING_TIMEOUT_MS)
    version = view.outcome.result.model_version
    assert version == "2"
    with qtbot.waitSignal(window.state.model_changed, timeout=180_000) as changed:
        view.promote_button.click()
    assert changed.args[0].version == version
    assert view.verdict.text().startswith(f"✔ Promoted: v{version}")
    assert f"cncwear-tool-wear v{version}" in window.model_label.text()
    qtbot.waitUntil(lambda: window.state.scores is not None and window.state.scores.model_label.endswith(f"v{version}"),
                    timeout=120_000)
    window.close()


def test_the_loeo_experiments_cell_says_which_runs_were_missed(qtbot, bundled_dataset):
    from cncwear_gui.features.sets import get_feature_set
    from cncwear_gui.models.benchmark import run_benchmark
    from cncwear_gui.ui.views.training_view import LoeoFirstComparisonModel

    rows = run_benchmark(bundled_dataset, get_feature_set("signals"), ["loeo"], ["dt"], log_to_mlflow=False)
    model = LoeoFirstComparisonModel(("Decision Tree",))
    model.set_rows(rows)
    cell = model.index(0, model.EXPERIMENTS_COLUMN)
    correct = rows[0].experiments_correct
    assert model.data(cell) == f"{correct}/18"
    lines = model.data(cell, Qt.ToolTipRole).splitlines()[1:]
    assert len(lines) == 18 and sum(line.startswith("✖") for line in lines) == 18 - correct
    assert all(line.startswith("✖") for line in lines[:18 - correct])  # the misses first
