"""Typed, versioned settings (never the user's file) and the smoothed wear state."""

import json

from cncwear_gui.live.wear_state import WearState, WearStateTracker
from cncwear_gui.settings import SETTINGS_VERSION, Settings, load_settings, save_settings, settings_path


def test_tests_never_touch_the_real_config_dir(tmp_path_factory):
    assert str(settings_path()).startswith(str(tmp_path_factory.getbasetemp()))


def test_round_trip_and_defaults(tmp_path):
    path = tmp_path / "settings.json"
    assert load_settings(path) == Settings()
    settings = Settings(worn_threshold=0.7, theme="dark", metrics_port=9999, data_dir=str(tmp_path))
    save_settings(settings, path)
    assert load_settings(path) == settings
    assert json.loads(path.read_text())["version"] == SETTINGS_VERSION


def test_old_versions_are_migrated_and_unknown_keys_kept(tmp_path):
    path = tmp_path / "settings.json"
    path.write_text(json.dumps({"threshold": 0.6, "colour": "blue"}))
    settings = load_settings(path)
    assert settings.worn_threshold == 0.6 and settings.version == SETTINGS_VERSION
    assert settings.extra == {"colour": "blue"}  # kept, and written back (tests/settings/test_settings_file.py)


def test_a_broken_file_is_copied_aside_not_fatal(tmp_path):
    path = tmp_path / "settings.json"
    path.write_text("{ not json")
    assert load_settings(path) == Settings()
    (copy,) = tmp_path.glob("settings.json.unreadable-*")
    assert copy.read_text() == "{ not json"
    path.write_text(json.dumps({"version": 1, "worn_threshold": 1.5, "theme": "dark"}))
    settings = load_settings(path)
    assert settings.worn_threshold == 0.5 and settings.theme == "dark"  # only the bad field falls back


def test_validation_messages():
    assert Settings().validate() == []
    problems = Settings(worn_threshold=0, theme="neon", metrics_port=70000, data_dir="/nonexistent/x").validate()
    assert len(problems) == 3  # a missing folder is no validation problem: the dialog saves it (a share mounted later)
    assert Settings(data_dir="/nonexistent/x").folder_problems() == ["data directory /nonexistent/x does not exist"]


def test_one_noisy_sample_never_flips_the_state():
    tracker = WearStateTracker(threshold=0.5, window=10, hysteresis=0.05)
    states = [tracker.update(0.1) for _ in range(10)]
    assert states[:9] == [WearState.UNKNOWN] * 9 and states[9] is WearState.OK
    assert tracker.update(1.0) is WearState.OK  # a single spike
    for _ in range(4):
        tracker.update(0.9)
    assert tracker.state is WearState.OK  # mean 0.46: still below threshold + hysteresis
    for _ in range(3):
        tracker.update(0.9)
    assert tracker.state is WearState.WORN
    tracker.update(0.5)
    assert tracker.state is WearState.WORN  # hysteresis: it needs < 0.45 to return
