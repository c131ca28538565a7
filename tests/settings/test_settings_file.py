"""The settings file never loses what the user saved: a missing folder is no reset, a bad field falls back
alone and is named, unknown keys and newer versions are kept, an unreadable file is copied aside byte for byte."""

import json

import pytest

from helpers import run_cli

from cncwear_gui.settings import SETTINGS_VERSION, Settings, load_settings, load_settings_report, save_settings

SAVED = {"version": 1, "worn_threshold": 0.7, "machines": ["mill-1=opc.tcp://192.168.0.20:4840", "mill-2=tail:/tmp/x.csv"],
         "theme": "dark", "pipeline_budget_s": 120}


def _write(path, content: dict) -> None:
    path.write_text(json.dumps(content))


def _copies(path, tag):
    return sorted(path.parent.glob(f"{path.name}.{tag}-*"))


def test_a_missing_data_directory_resets_nothing(tmp_path):
    path = tmp_path / "settings.json"
    _write(path, {**SAVED, "data_dir": str(tmp_path / "share-not-mounted")})
    settings, notices = load_settings_report(path)
    assert settings.worn_threshold == 0.7 and settings.machines == SAVED["machines"] and settings.theme == "dark"
    assert settings.data_dir == str(tmp_path / "share-not-mounted") and notices == []
    assert settings.validate() == []  # nothing for the dialog to refuse
    assert settings.folder_problems() == [f"data directory {tmp_path / 'share-not-mounted'} does not exist"]
    assert path.exists() and list(tmp_path.iterdir()) == [path]  # not moved aside, no copies
    (tmp_path / "share-not-mounted").mkdir()  # mounted later
    assert load_settings(path).folder_problems() == []


def test_a_missing_watched_folder_resets_nothing(tmp_path):
    path = tmp_path / "settings.json"
    _write(path, {**SAVED, "pipeline_watch_dir": str(tmp_path / "incoming"), "pipeline_schedule_hours": 6})
    for _ in range(3):  # cncwear pipeline watch reloads every round
        settings, notices = load_settings_report(path)
        assert notices == [] and settings.pipeline_watch_dir == str(tmp_path / "incoming")
        assert settings.worn_threshold == 0.7 and settings.machines == SAVED["machines"]
        assert settings.pipeline_schedule_hours == 6.0
    assert settings.watch_dir_problem() == f"watched folder {tmp_path / 'incoming'} does not exist"
    assert json.loads(path.read_text())["pipeline_watch_dir"] == str(tmp_path / "incoming")


def test_the_watch_loop_says_the_watched_folder_is_missing_and_keeps_the_settings(tmp_path, home):
    from cncwear_gui.pipeline import triggers
    from cncwear_gui.store.pipeline_history import PipelineHistory

    config = tmp_path / "config"
    config.mkdir()
    watched = tmp_path / "incoming"
    _write(config / "settings.json", {**SAVED, "pipeline_watch_dir": str(watched)})
    before = (config / "settings.json").read_bytes()
    done = run_cli("pipeline", "watch", "--interval", "0.3", "--duration", "1.5", timeout=120,
                   env={"CNCWEAR_CONFIG_DIR": str(config), "CNCWEAR_HOME": str(home)})
    assert done.returncode == 0, done.stderr[-2000:]
    said = [line for line in done.stderr.splitlines() if "does not exist" in line]
    assert said == [f"watching: watched folder {watched} does not exist (not mounted?); the new-data trigger waits for it"]
    assert (config / "settings.json").read_bytes() == before and sorted(config.iterdir()) == [config / "settings.json"]
    history = PipelineHistory(None)
    try:
        check = triggers.new_data(history, str(watched))
    finally:
        history.close()
    assert not check.fires and check.reason.startswith(f"watched folder {watched} does not exist")


def test_a_string_for_a_number_falls_back_alone_and_is_named(tmp_path):
    path = tmp_path / "settings.json"
    _write(path, {**SAVED, "worn_threshold": "0.7", "smoothing_window": "thirty", "metrics_port": 70000})
    settings, notices = load_settings_report(path)
    assert settings.worn_threshold == 0.5 and settings.smoothing_window == 30 and settings.metrics_port == 9464
    assert settings.machines == SAVED["machines"] and settings.theme == "dark" and settings.pipeline_budget_s == 120
    named = {name for name in ("worn_threshold", "smoothing_window", "metrics_port") for notice in notices if name in notice}
    assert named == {"worn_threshold", "smoothing_window", "metrics_port"} and len(notices) == 3
    assert 'worn_threshold' in notices[0] and '"0.7"' in notices[0] and "default 0.5" in notices[0]
    copies = _copies(path, "invalid")
    assert len(copies) == 1 and copies[0].read_bytes() == path.read_bytes() and str(copies[0]) in notices[0]
    load_settings_report(path)
    assert _copies(path, "invalid") == copies  # the watcher's next round keeps no second copy of the same bytes


def test_unknown_fields_round_trip(tmp_path):
    path = tmp_path / "settings.json"
    _write(path, {**SAVED, "worn_treshold": 0.9, "colour": {"accent": "blue"}})
    settings, notices = load_settings_report(path)
    assert settings.worn_threshold == 0.7 and settings.extra == {"worn_treshold": 0.9, "colour": {"accent": "blue"}}
    assert len(notices) == 1 and "colour" in notices[0] and "worn_treshold" in notices[0]
    save_settings(settings, path)
    saved = json.loads(path.read_text())
    assert saved["worn_treshold"] == 0.9 and saved["colour"] == {"accent": "blue"} and "extra" not in saved
    assert load_settings(path) == settings


def test_a_file_from_a_newer_version_is_read_and_never_downgraded(tmp_path):
    path = tmp_path / "settings.json"
    newer = {**SAVED, "version": SETTINGS_VERSION + 1, "teach_in": {"mill-1": [1, 2]}, "drift_per_setup": True}
    _write(path, newer)
    original = path.read_bytes()
    settings, notices = load_settings_report(path)
    assert settings.worn_threshold == 0.7 and settings.machines == SAVED["machines"]
    assert settings.extra == {"teach_in": {"mill-1": [1, 2]}, "drift_per_setup": True}
    assert len(notices) == 1 and "newer" in notices[0] and "teach_in" in notices[0]
    copies = _copies(path, f"v{SETTINGS_VERSION + 1}")
    assert len(copies) == 1 and copies[0].read_bytes() == original and str(copies[0]) in notices[0]
    settings.theme = "light"
    save_settings(settings, path)  # what the window does on close
    saved = json.loads(path.read_text())
    assert saved["version"] == SETTINGS_VERSION + 1 and saved["teach_in"] == {"mill-1": [1, 2]}
    assert saved["drift_per_setup"] is True and saved["theme"] == "light" and saved["worn_threshold"] == 0.7


@pytest.mark.parametrize("content", [b"", b"   \n", b'{"version": 1, "worn_threshold": 0.7, "machi', b"\xff\xfe{", b"[1, 2]"],
                         ids=["empty", "blank", "truncated", "not-utf8", "not-an-object"])
def test_an_unreadable_file_is_kept_byte_for_byte(tmp_path, content):
    path = tmp_path / "settings.json"
    path.write_bytes(content)
    settings, notices = load_settings_report(path)
    assert settings == Settings() and len(notices) == 1 and "default settings" in notices[0]
    copies = _copies(path, "unreadable")
    assert len(copies) == 1 and copies[0].read_bytes() == content and str(copies[0]) in notices[0]
    assert path.read_bytes() == content  # left where it was, too
    load_settings_report(path)
    assert _copies(path, "unreadable") == copies  # loaded again: no second copy of the same bytes
    path.write_bytes(content + b"x")  # other broken bytes later: an earlier copy is never overwritten
    load_settings_report(path)
    later = _copies(path, "unreadable")
    assert len(later) == 2 and copies[0].read_bytes() == content


def test_the_empty_file_notice_says_empty(tmp_path):
    path = tmp_path / "settings.json"
    path.write_text("")
    assert "is empty" in load_settings_report(path)[1][0]


def test_no_settings_file_means_defaults_and_no_notices(tmp_path):
    assert load_settings_report(tmp_path / "settings.json") == (Settings(), [])


def test_the_machine_list_check_lives_with_the_sources(tmp_path):
    from cncwear_gui.live.sources import machine_list_problems

    replay = tmp_path / "run.csv"
    replay.write_text("x\n")
    problems = machine_list_problems([f"a=replay:{replay}", f"a=replay:{replay}", "nonsense"])
    assert problems == ["machine id a is given more than once",
                        "machine 'nonsense': expected ID=SOURCE, e.g. mill-1=replay:experiment_06.csv"]
    assert not hasattr(Settings, "machine_problems")
