"""The Explanations view on the real champion: a sample selected in the Predictions view is
explained in workers (LIME bars, SHAP waterfall, anchor card, plain-language summary), the global
tabs fill when shown, results are cached per sample, and the report exports."""

import numpy as np
import pytest

pytestmark = pytest.mark.ui


@pytest.fixture
def explanations(window_with_champion, qtbot):
    window = window_with_champion
    window.tabs.setCurrentWidget(window.explanations_view)
    return window, window.explanations_view


@pytest.mark.slow
def test_a_selected_sample_is_explained_in_every_panel(explanations, qtbot):
    window, view = explanations
    scores = window.state.scores.experiments[6]
    row = int(np.argmax(scores.probability))
    window.state.select_sample(6, row)
    qtbot.waitUntil(lambda: view.outcome is not None and view.outcome.sample.row == row, timeout=120_000)
    outcome = view.outcome
    assert abs(outcome.probability - scores.probability[row]) < 1e-6  # the same model, the same sample
    assert view.experiment.currentData() == 6 and view.row.value() == row
    assert "LIME" in view.lime.header.text() and view.lime.values.rowCount() == len(outcome.lime.feature_values)
    assert f"{outcome.shap.model_output:.3f}" in view.waterfall.header.text()
    assert "THEN" in view.anchor.rule.text()
    assert ("WORN" in view.summary.text()) and view.summary.text() == outcome.summary
    assert view.export_html.isEnabled()
    # the first global tab (ICE/PDP) fills because it is visible
    qtbot.waitUntil(lambda: view.dependence_result is not None, timeout=120_000)
    assert view.dependence.plot.getPlotItem().listDataItems()[1].getData()[0].size == len(view.dependence_result.grid)


@pytest.mark.slow
def test_the_surrogate_tab_shows_the_tree_with_its_fidelity(explanations, qtbot):
    _, view = explanations
    view.global_tabs.setCurrentIndex(1)
    qtbot.waitUntil(lambda: view.surrogate_result is not None, timeout=120_000)
    result = view.surrogate_result
    assert f"{result.fidelity:.2%}" in view.fidelity.text()
    view.depth.setValue(2)
    qtbot.waitUntil(lambda: view.surrogate_result is not None and view.surrogate_result.max_depth == 2, timeout=120_000)
    assert len(view.surrogate_result.nodes) <= 7


@pytest.mark.slow
def test_a_sample_explained_before_comes_from_the_cache(explanations, qtbot):
    window, view = explanations
    window.state.select_sample(1, 50)
    qtbot.waitUntil(lambda: view.outcome is not None and view.outcome.sample.experiment == 1, timeout=120_000)
    first = view.outcome
    window.state.select_sample(2, 50)
    qtbot.waitUntil(lambda: view.outcome.sample.experiment == 2, timeout=120_000)
    window.state.select_sample(1, 50)
    qtbot.waitUntil(lambda: view.outcome.sample.experiment == 1, timeout=120_000)
    assert view.outcome.anchor is first.anchor and view.outcome.lime is first.lime  # not recomputed


@pytest.mark.slow
def test_the_report_exports_as_html_and_pdf(explanations, qtbot, tmp_path):
    window, view = explanations
    window.state.select_sample(6, 400)
    qtbot.waitUntil(lambda: view.outcome is not None and view.outcome.sample.row == 400, timeout=120_000)
    for name in ("report.html", "report.pdf"):
        view.export_report(tmp_path / name)
        qtbot.waitUntil(lambda: not view.export_runner.running, timeout=180_000)
        assert "report written" in view.status.text(), view.status.text()
    assert 'id="anchor"' in (tmp_path / "report.html").read_text(encoding="utf-8")
    assert (tmp_path / "report.pdf").read_bytes().startswith(b"%PDF")
