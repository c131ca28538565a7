"""Every view fits the panel PCs' screens (1024 × 768 and up) with every text whole (issue 26)."""

import pytest
from PySide6.QtWidgets import QLabel, QPushButton, QVBoxLayout, QWidget

from cncwear_gui.ui.fit_check import fit_problems

pytestmark = pytest.mark.ui
SCREENS = [(1024, 768), (1280, 800), (1366, 768), (1920, 1080)]


def test_the_check_names_a_window_too_large_and_cut_texts(qtbot):
    """The check itself can fail: a minimum wider than the screen, a wrapped label squeezed into
    one line, a button narrower than its text."""
    window = QWidget()
    qtbot.addWidget(window)
    layout = QVBoxLayout(window)
    wide = QLabel("a label that asks for more than a small screen")
    wide.setMinimumWidth(1300)
    wrapped = QLabel("a long sentence that needs three lines at this width, " * 3)
    wrapped.setWordWrap(True)
    wrapped.setFixedSize(200, 16)
    button = QPushButton("Acknowledge the alarm…")
    button.setFixedWidth(40)
    for widget in (wide, wrapped, button):
        layout.addWidget(widget)
    window.resize(1024, 768)
    window.show()
    qtbot.waitExposed(window)
    problems = "\n".join(fit_problems(window, 1024, 768))
    assert "the window needs at least 13" in problems and "the window is 13" in problems
    assert "word-wrapped text needs" in problems and "a long sentence" in problems
    assert "'Acknowledge the alarm…'" in problems
    wide.hide()
    wrapped.setFixedSize(800, 200)
    button.setMinimumWidth(0)
    button.setMaximumWidth(16_777_215)
    qtbot.wait(20)
    window.resize(1024, 768)  # it stays as large as it had to be
    qtbot.wait(20)
    assert fit_problems(window, 1024, 768) == []


@pytest.fixture
def themed(qapp):
    """The app's style sheet, as ``cncwear gui`` applies it (40 px buttons and tabs, the tiles' large
    state texts); the session's plain look again afterwards."""
    import pyqtgraph as pg

    from cncwear_gui.ui.theme import apply_theme

    options = {name: pg.getConfigOption(name) for name in ("background", "foreground", "antialias", "useOpenGL")}
    apply_theme(qapp, "light")
    yield
    qapp.setStyleSheet("")
    pg.setConfigOptions(**options)


@pytest.mark.slow
def test_every_view_fits_every_panel_pc_screen(themed, window_with_champion, qtbot):
    """The real window on the bundled data, its demo machines running: at each screen size every
    tab is shown in turn; the window stays within the size and no label or button is cut."""
    window = window_with_champion
    qtbot.waitUntil(lambda: window.operator_view.loaded, timeout=60_000)  # the tiles carry their texts
    problems = []
    for width, height in SCREENS:
        window.resize(width, height)
        for index in range(window.tabs.count()):
            window.tabs.setCurrentIndex(index)
            qtbot.wait(30)  # laid out, and a pass of the machines shown
            found = fit_problems(window, width, height)
            if found:  # a text changed in this very pass: its label takes its new height in the next layout round
                qtbot.wait(300)
                found = fit_problems(window, width, height)
            problems += [f"{width} × {height}, {window.tabs.tabText(index)}: {p}" for p in found]
    qtbot.waitUntil(lambda: not window.busy, timeout=180_000)  # what showing the tabs started (a leakage check, the snapshot)
    assert not problems, "\n".join(problems)
