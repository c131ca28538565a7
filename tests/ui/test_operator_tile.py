"""The operator tile of a taught machine, fed by a real live node (experiment 1 taught, experiment 6
judged on the same setup): the trend is the load against the taught band and limits, and stays so
on the passes that carry no trend; the headline names the load the sentence below explains."""

from __future__ import annotations

import pandas as pd
import pytest
from helpers import replay_node

from cncwear_gui.data.setup import SetupKey
from cncwear_gui.monitoring.teach_in import teach, windows_of_samples

pytestmark = pytest.mark.ui


def test_a_taught_tile_draws_the_load_against_the_band_and_keeps_it_between_trends(qtbot, tmp_path, champion,
                                                                                    bundled_dataset):
    from cncwear_gui.store.taught_references import TaughtReferenceStore
    from cncwear_gui.ui.views.operator_view import MachineTile

    samples = bundled_dataset.samples()
    one, six = (samples[samples["experiment"] == n].reset_index(drop=True) for n in (1, 6))
    url = f"sqlite:///{tmp_path / 'floor.db'}"
    with TaughtReferenceStore(url) as store:
        reference = teach(windows_of_samples(one), "mill", SetupKey(6, 4), runs=["experiment_01.csv"])
        store.save("mill", reference.setup.text, reference.to_json(), "anna")
    node, run_samples, stores, _ = replay_node({"mill": pd.DataFrame(six)}, champion, url)
    try:
        run_samples(len(six) - 200)
        with_trend, without = node.views(True)[0], node.views(False)[0]
    finally:
        for opened in stores.values():
            opened.close()
    assert with_trend.taught.state in ("ok", "warning", "alarm") and len(with_trend.taught_loads) > 5

    tile = MachineTile("mill")
    qtbot.addWidget(tile)
    tile.show_view(with_trend, 0.5, 0.0)
    left = tile.trend.getAxis("left")
    assert left.labelText == "% of taught" and tile.band.isVisible() and tile.alarm_line.isVisible()
    assert tile.band.getRegion() == pytest.approx(with_trend.taught_band)
    assert tile.alarm_line.value() == 100 + with_trend.limits.alarm_pct
    _, loads = tile.curve.getData()
    assert list(loads) == pytest.approx(list(with_trend.taught_loads))

    tile.show_view(without, 0.5, 0.0)  # most passes carry no trend: nothing drawn may change
    assert left.labelText == "% of taught" and tile.band.isVisible() and not tile.threshold.isVisible()
    assert list(tile.curve.getData()[1]) == pytest.approx(list(with_trend.taught_loads))

    taught = with_trend.taught
    if taught.state in ("warning", "alarm"):  # the headline's load is the sentence's, the latest beside it
        assert f"{taught.judgement.load_pct:.0f} %" in tile.taught.text() and "(now " in tile.taught.text()
        assert f"{taught.judgement.load_pct:.0f} %" in taught.sentence

    # the window's service keeps only the newest pass: one without trends must not drop the trends
    # (the P(worn) values and the taught loads) of the pass it replaces before the screen took it
    from cncwear_gui.ui.live_service import LiveService

    service = LiveService()
    shown = []
    service.updated.connect(lambda views, at: shown.append(views))
    import threading

    engine = threading.Thread(target=lambda: (service._on_pass([with_trend], 1.0), service._on_pass([without], 2.0)))
    engine.start()  # as the engine thread does: both passes arrive before the GUI thread takes one
    engine.join()
    qtbot.waitUntil(lambda: bool(shown), timeout=5000)
    assert len(shown) == 1 and shown[-1][0].taught_loads is not None and len(shown[-1][0].taught_loads) == len(with_trend.taught_loads)
