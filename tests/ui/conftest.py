import pytest


@pytest.fixture(scope="session")
def champion_home(tmp_path_factory, bundled_dataset):
    """A user data dir whose registry already has a champion (trained once, for real)."""
    import os

    home = tmp_path_factory.mktemp("home-with-champion")
    previous = os.environ["CNCWEAR_HOME"]
    os.environ["CNCWEAR_HOME"] = str(home)
    from cncwear_gui.models.champion import ensure_champion

    ensure_champion(bundled_dataset)
    os.environ["CNCWEAR_HOME"] = previous
    return home


@pytest.fixture
def window_with_champion(qtbot, champion_home, monkeypatch):
    from cncwear_gui.ui.main_window import MainWindow

    monkeypatch.setenv("CNCWEAR_HOME", str(champion_home))
    window = MainWindow()
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: window.state.scores is not None, timeout=120_000)
    yield window
    window.close()
