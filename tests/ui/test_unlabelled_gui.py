"""The window opens a file without experiment number (unlabelled) and scores it."""

import shutil


def test_the_data_view_opens_and_the_predictions_view_scores_an_unlabelled_file(window_with_champion, qtbot, tmp_path, bundled_dir):
    window = window_with_champion
    path = tmp_path / "mill3_2026-12-01.csv"
    shutil.copyfile(bundled_dir / "experiment_06.csv", path)
    window.load([path])
    qtbot.waitUntil(lambda: window.state.scores is not None and -1 in window.state.scores.experiments, timeout=120_000)

    view = window.data_view
    [report] = view.reports.reports
    assert view.reports.data(view.reports.index(0, 0)) == "▲ Warning: unlabelled"
    assert view.reports.data(view.reports.index(0, 2)) == "none"
    assert view.experiment_box.itemText(0) == "mill3_2026-12-01.csv (unlabelled)" and view.experiment_box.currentData() == -1
    assert "1 unlabelled file(s)" in view.summary.text()
    assert len(view.plot.getPlotItem().listDataItems()) == 2

    verdicts = window.predictions_view.verdicts
    assert verdicts.data(verdicts.index(0, 0)) == "mill3_2026-12-01.csv (unlabelled)"
    assert verdicts.data(verdicts.index(0, 4)) == "unknown"
    score = window.state.scores.experiments[-1]
    assert len(score.probability) == report.rows and score.correct is None
