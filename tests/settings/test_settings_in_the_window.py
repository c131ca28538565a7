"""Where a missing folder is shown in the window (Settings dialog, Data view, watcher status), and the
settings notices the window shows once, without blocking."""

import pytest
from PySide6.QtWidgets import QDialog, QMessageBox

from cncwear_gui.settings import Settings, load_settings_report, save_settings

pytestmark = pytest.mark.ui


def test_the_settings_dialog_warns_about_a_missing_folder_and_saves_it(qtbot, tmp_path):
    from cncwear_gui.ui.settings_dialog import SettingsDialog

    share, watched = tmp_path / "share", tmp_path / "incoming"
    dialog = SettingsDialog(Settings(data_dir=str(share), pipeline_watch_dir=str(watched), worn_threshold=0.7))
    qtbot.addWidget(dialog)
    text = dialog.folder_warning.text()
    assert not dialog.folder_warning.isHidden()
    assert f"data directory {share} does not exist" in text and f"watched folder {watched} does not exist" in text
    dialog.accept()  # a warning, not a refusal: the share may be mounted later
    assert dialog.result() == QDialog.Accepted
    assert dialog.edited().data_dir == str(share) and dialog.edited().worn_threshold == 0.7
    share.mkdir()
    dialog.data_dir.setText(str(share) + "/")  # edited: the warning follows
    assert "data directory" not in dialog.folder_warning.text() and "watched folder" in dialog.folder_warning.text()
    watched.mkdir()
    dialog.watch_dir.setText(str(watched) + "/")
    assert dialog.folder_warning.isHidden()


def test_the_settings_dialog_still_refuses_a_bad_machine_list(qtbot, monkeypatch):
    from cncwear_gui.ui.settings_dialog import SettingsDialog

    shown = []
    monkeypatch.setattr(QMessageBox, "warning", lambda parent, title, text: shown.append(text))  # no modal in tests
    dialog = SettingsDialog(Settings(machines=["nonsense"]))
    qtbot.addWidget(dialog)
    dialog.accept()
    assert dialog.result() != QDialog.Accepted and shown and "machine 'nonsense'" in shown[0]


def test_the_data_view_says_the_data_directory_is_missing(qtbot, tmp_path):
    from cncwear_gui.ui.state import AppState
    from cncwear_gui.ui.views.data_view import DataView

    share = tmp_path / "share"
    state = AppState(Settings(data_dir=str(share)))
    view = DataView(state)
    qtbot.addWidget(view)
    assert not view.warning_panel.isHidden()
    assert f"data directory {share} does not exist" in view.folder_warning.text()
    assert "Nothing was changed" in view.folder_warning.text()
    with qtbot.waitSignal(view.reload_requested):
        view.reload_button.click()
    share.mkdir()  # mounted
    with qtbot.waitSignal(view.reload_requested):
        view.reload_button.click()
    assert view.warning_panel.isHidden()
    state.set_settings(Settings(data_dir=str(tmp_path / "gone")))
    assert not view.warning_panel.isHidden()
    state.set_settings(Settings())  # the bundled dataset
    assert view.warning_panel.isHidden()


def test_the_window_keeps_missing_folders_and_says_so_where_they_are_used(qtbot, home, tmp_path, monkeypatch):
    """No other data in place of the missing data directory, the watcher status names the missing folder,
    and the settings file is what it was (nothing reset, nothing set aside)."""
    from cncwear_gui.ui import main_window

    config = tmp_path / "config"
    monkeypatch.setenv("CNCWEAR_CONFIG_DIR", str(config))  # the watcher child reads this settings file
    monkeypatch.setattr(main_window, "WATCHER_CHECK_MS", 300)
    share, watched = tmp_path / "share", tmp_path / "incoming"
    saved = Settings(data_dir=str(share), pipeline_watch_dir=str(watched), worn_threshold=0.7, machines=[])
    save_settings(saved)
    settings, notices = load_settings_report()
    assert settings == saved and notices == []
    window = main_window.MainWindow(settings)
    qtbot.addWidget(window)
    qtbot.waitUntil(lambda: window.state.dataset is not None, timeout=60_000)
    assert [report.path for report in window.state.dataset.reports] == [str(share)]  # the configured folder, nothing else
    assert not window.data_view.warning_panel.isHidden() and str(share) in window.data_view.folder_warning.text()
    label = window.monitoring_view.watcher_label
    qtbot.waitUntil(lambda: window.pipeline_watcher.running, timeout=10_000)
    qtbot.waitUntil(lambda: f"watched folder {watched} does not exist" in label.text(), timeout=10_000)
    assert label.text().startswith("⚠ Trigger watcher: watching (pid ")
    window.close()
    assert load_settings_report() == (saved, [])
    assert sorted(p.name for p in config.iterdir()) == ["settings.json"]


def test_settings_notices_are_shown_once_without_blocking(qtbot, tmp_path, monkeypatch):
    from cncwear_gui.ui.main_window import MainWindow

    path = tmp_path / "settings.json"
    path.write_text('{"version": 1, "worn_threshold": "high", "theme": "dark"}')
    settings, notices = load_settings_report(path)
    assert settings.theme == "dark" and len(notices) == 1
    monkeypatch.setattr(MainWindow, "load", lambda self, paths: None)  # this test is about the message only
    window = MainWindow(settings)
    qtbot.addWidget(window)
    window.show_settings_notices(notices)  # returns at once: the box is open, not exec()'d
    box = window.settings_notice_box
    assert box.isVisible() and "worn_threshold" in box.text()
    assert "worn_threshold" in window.statusBar().currentMessage()
    box.close()
    quiet = MainWindow(settings)
    qtbot.addWidget(quiet)
    quiet.show_settings_notices(notices, message_box=False)  # --screenshot: the status bar only
    assert not hasattr(quiet, "settings_notice_box") and "worn_threshold" in quiet.statusBar().currentMessage()
    window.close()
    quiet.close()
