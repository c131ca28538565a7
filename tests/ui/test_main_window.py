"""The window opens on the bundled dataset, loads it off the GUI thread, and renders to PNG."""

import pytest

pytest.importorskip("PySide6")
pytestmark = pytest.mark.ui


def test_window_loads_the_bundled_dataset_in_a_worker(qtbot):
    from cncwear_gui.ui.main_window import MainWindow

    window = MainWindow()
    qtbot.addWidget(window)
    assert window.loader.running  # the load was started, not done on the GUI thread
    with qtbot.waitSignal(window.loader.succeeded, timeout=60_000):
        pass
    assert window.dataset.rows == 25_286
    assert window.data_view.model.rowCount() == 19
    assert "18 experiments" in window.data_view.summary.text()
    window.close()


def test_a_rejected_file_is_shown_as_text_not_colour_only(qtbot, tmp_path):
    from cncwear_gui.ui.main_window import MainWindow

    bad = tmp_path / "experiment_01.csv"
    bad.write_text("a;b;c\n1;2;3\n")
    window = MainWindow([bad])
    qtbot.addWidget(window)
    with qtbot.waitSignal(window.loader.succeeded, timeout=60_000):
        pass
    model = window.data_view.model
    assert model.data(model.index(0, 0)) == "✖ Rejected"
    assert "delimiter" in model.data(model.index(0, 6))
    window.close()


def test_cancel_stops_the_load(qtbot):
    from cncwear_gui.ui.main_window import MainWindow

    window = MainWindow()
    qtbot.addWidget(window)
    with qtbot.waitSignal(window.loader.cancelled, timeout=5_000):
        window.cancel_button.click()
    assert not window.loader.running and window.dataset is None
    window.close()


def test_screenshot_mode_writes_a_png_per_view(tmp_path):
    from conftest import run_cli

    done = run_cli("gui", "--screenshot", str(tmp_path), env={"QT_QPA_PLATFORM": "offscreen"})
    assert done.returncode == 0, done.stderr
    pngs = sorted(tmp_path.glob("*.png"))
    assert [p.name for p in pngs] == ["01_data.png"]
    assert pngs[0].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and pngs[0].stat().st_size > 10_000
