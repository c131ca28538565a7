import pytest


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
