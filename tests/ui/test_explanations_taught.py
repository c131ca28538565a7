"""The Explanations view's taught-monitor card, without a model (the taught monitor needs none):
the selected sample is judged in a worker against the reference ``cncwear teach`` stored, with
the tile's look; an untaught setup says how to teach it."""

import pytest

from cncwear_gui.cli import main

pytestmark = pytest.mark.ui


@pytest.fixture
def view_on(qtbot, home, tmp_path, monkeypatch, capsys, bundled_dir):
    """The view over experiments 1, 2 and 6, with mill-1 taught on experiment 1 in the settings' store."""
    from cncwear_gui.data.dataset import load_dataset
    from cncwear_gui.settings import Settings
    from cncwear_gui.ui.state import AppState
    from cncwear_gui.ui.views.explanations_view import ExplanationsView

    monkeypatch.setenv("CNCWEAR_CONFIG_DIR", str(tmp_path / "config"))
    url = f"sqlite:///{tmp_path / 'floor.db'}"
    assert main(["teach", str(bundled_dir / "experiment_01.csv"), "--machine", "mill-1", "--store", url]) == 0
    capsys.readouterr()
    state = AppState(Settings(feature_store_url=url))
    view = ExplanationsView(state)
    qtbot.addWidget(view)
    view.resize(1400, 800)
    view.show()
    state.set_dataset(load_dataset([bundled_dir / f"experiment_{n:02d}.csv" for n in (1, 2, 6)]))
    return state, view, url


def test_the_card_shows_the_judgement_of_the_selected_sample(qtbot, view_on):
    from cncwear_gui.explain.taught import taught_explanation
    from cncwear_gui.ui.theme import TAUGHT_LOOK

    state, view, url = view_on
    state.select_sample(6, 400)
    qtbot.waitUntil(lambda: view.taught_result is not None, timeout=30_000)
    shown = view.taught_result
    expected = taught_explanation(state.dataset, 6, 400, url)  # the same core, called here
    assert (shown.state, shown.sentence) == (expected.state, expected.sentence)
    assert shown.state == "alarm"
    symbol, _, colour = TAUGHT_LOOK["alarm"]
    load = shown.window.load_pct
    assert view.taught.state.text() == f"Taught monitor: {symbol} {load:.0f} % of taught — OVER THE LIMIT"
    assert colour in view.taught.state.styleSheet()
    assert view.taught.sentence.text() == shown.window.sentence and "Layer 1 Down" in shown.window.sentence
    assert view.taught.sentence.toolTip() == shown.sentence  # with which reference judged it
    assert "the only machine that taught feed 6 · clamp 4. Reference v1, taught on experiment_01.csv." in \
        view.taught.detail.text()
    assert view.taught.run.text().startswith("The run: ▲ ALARM — ")
    assert view.taught.bars.isVisible()
    labels = [item.textItem.toPlainText() for item in view.taught._items if hasattr(item, "textItem")]
    statistic = shown.window.judgement.statistic
    assert len(labels) == 7 and f"{load:.0f} %" in labels  # one bar per signal: the statistic carrying the load
    assert labels == [f"{v:.0f} %" if v == v else "idle when taught: not judged"
                      for v in shown.judgement.pcts[statistic]]
    assert "Waiting for the data and the model" in view.status.text()  # LIME and SHAP wait for a model


def test_an_untaught_setup_shows_not_taught_with_how_to_teach(qtbot, view_on):
    from cncwear_gui.ui.theme import TAUGHT_LOOK

    state, view, _ = view_on
    state.select_sample(2, 400)
    qtbot.waitUntil(lambda: view.taught_result is not None, timeout=30_000)
    symbol, text, colour = TAUGHT_LOOK["not_taught"]
    assert view.taught.state.text() == f"Taught monitor: {symbol} {text}" and colour in view.taught.state.styleSheet()
    assert "cncwear teach experiment_02.csv --machine M" in view.taught.sentence.text()
    assert not view.taught.bars.isVisible()
