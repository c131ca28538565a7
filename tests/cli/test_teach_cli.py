"""``cncwear teach`` and ``cncwear tool-change``, in-process on the bundled data and a real SQLite store."""

import json
import shutil

import pytest

from cncwear_gui.cli import main
from cncwear_gui.data.dataset import load_dataset
from cncwear_gui.data.schema import CUTTING_PHASES
from cncwear_gui.monitoring.teach_in import TaughtReference, windows_of_samples
from cncwear_gui.settings import Settings, save_settings
from cncwear_gui.store.audit_trail import AuditTrail
from cncwear_gui.store.taught_references import TaughtReferenceStore
from cncwear_gui.store.tool_changes import ToolChangeLog

SETUP = "feed 6 · clamp 4"  # experiment 01's (train.csv)


@pytest.fixture
def cli(home, tmp_path, monkeypatch, capsys):
    """``cncwear ARGS`` in this process with its own settings (the demo machines) and store;
    returns (exit code, stdout, stderr)."""
    monkeypatch.setenv("CNCWEAR_CONFIG_DIR", str(tmp_path / "config"))

    def run(*args):
        code = main([str(a) for a in args])
        out, err = capsys.readouterr()
        return code, out, err

    return run


def json_of(out):
    return json.loads(out)


def store_of(home):
    """The store the commands wrote to: the default one, in the test's user data directory."""
    store = TaughtReferenceStore()
    assert store.url == f"sqlite:///{home / 'features.db'}"
    return store


def windows_of(bundled_dir, name):
    dataset = load_dataset([bundled_dir / name])
    return windows_of_samples(next(iter(dataset.experiments.values())).samples)


def test_teach_stores_v1_with_the_six_cutting_phases_then_v2(cli, home, bundled_dir):
    code, out, err = cli("teach", bundled_dir / "experiment_01.csv", "--machine", "mill-1", "--user", "anna",
                         "--comment", "first good run after the change", "--json")
    assert code == 0, err
    taught = json_of(out)["taught"]
    assert (taught["machine"], taught["setup"], taught["version"]) == ("mill-1", SETUP, 1)
    assert taught["phases"] == list(CUTTING_PHASES)
    assert taught["runs"] == ["experiment_01.csv"]
    assert taught["cutting_s"] == windows_of(bundled_dir, "experiment_01.csv").cutting_s
    assert taught["defective_share"] == 0.0

    code, out, err = cli("teach", bundled_dir / "experiment_06.csv", "--machine", "mill-1", "--user", "ben")
    assert code == 0, err
    assert "taught mill-1 · feed 6 · clamp 4 · v2 on experiment_06.csv" in out
    assert "6 phase(s)" in out

    with store_of(home) as store:
        active = store.active("mill-1", SETUP)
        assert (active.version, active.user, active.runs) == (2, "ben", ["experiment_06.csv"])
        assert TaughtReference.from_json(active.data, active.version).phases == list(CUTTING_PHASES)
        assert [(r.version, r.comment) for r in store.history("mill-1")] == [
            (1, "first good run after the change"), (2, "")]
    with AuditTrail() as trail:
        assert [(e.action, e.os_user, e.new_value) for e in reversed(trail.entries(action_prefix="teach."))] == [
            ("teach.learned", "anna", "v1"), ("teach.learned", "ben", "v2")]


def test_too_little_cutting_exits_2_with_the_reason(cli, home, bundled_dir):
    short = len(windows_of(bundled_dir, "experiment_05.csv"))
    code, out, err = cli("teach", bundled_dir / "experiment_05.csv", "--machine", "mill-2")
    assert code == 2 and out == ""
    assert f"only {short} cutting window(s)" in err and "teaching needs at least 10" in err
    assert "experiment_05.csv" in err


def test_a_truncated_run_exits_2_with_the_reason(cli, home, bundled_dir, tmp_path):
    folder = tmp_path / "short"
    folder.mkdir()
    shutil.copyfile(bundled_dir / "train.csv", folder / "train.csv")
    lines = (bundled_dir / "experiment_01.csv").read_text().splitlines()
    (folder / "experiment_01.csv").write_text("\n".join(lines[:200]) + "\n")  # the logger stopped early
    short = len(windows_of(folder, "experiment_01.csv"))
    code, _, err = cli("teach", folder / "experiment_01.csv", "--machine", "mill-1")
    assert code == 2 and f"only {short} cutting window(s)" in err
    with store_of(home) as store:
        assert store.history() == []


def test_a_rejected_file_exits_2_with_file_line_and_column(cli, home, bundled_dir, tmp_path):
    folder = tmp_path / "bad"
    folder.mkdir()
    shutil.copyfile(bundled_dir / "train.csv", folder / "train.csv")
    lines = (bundled_dir / "experiment_01.csv").read_text().splitlines()
    lines[-1] = ",".join(lines[-1].split(",")[:20])  # a truncated last line
    (folder / "experiment_01.csv").write_text("\n".join(lines))
    code, _, err = cli("teach", folder / "experiment_01.csv", "--machine", "mill-1")
    assert code == 2
    assert f"experiment_01.csv, line {len(lines)}, column 20:" in err


def test_files_of_two_setups_or_without_metadata_are_refused(cli, home, bundled_dir, tmp_path):
    code, _, err = cli("teach", bundled_dir / "experiment_01.csv", bundled_dir / "experiment_03.csv",
                       "--machine", "mill-1")
    assert code == 2 and "different setups" in err
    assert "experiment_01.csv: feed 6 · clamp 4" in err and "experiment_03.csv: feed 6 · clamp 3" in err
    lone = tmp_path / "experiment_01.csv"
    shutil.copyfile(bundled_dir / "experiment_01.csv", lone)  # no train.csv beside it
    code, _, err = cli("teach", lone, "--machine", "mill-1")
    assert code == 2 and "experiment_01.csv: no metadata" in err
    with store_of(home) as store:
        assert store.history() == []


def test_list_forget_and_relearn(cli, home, bundled_dir):
    assert cli("teach", bundled_dir / "experiment_01.csv", "--machine", "mill-1")[0] == 0
    code, out, _ = cli("teach", "--list", "--json")
    assert code == 0
    [entry] = json_of(out)["references"]
    assert (entry["machine"], entry["setup"], entry["state"], entry["version"]) == ("mill-1", SETUP, "active", 1)
    assert entry["phases"] == list(CUTTING_PHASES) and entry["limits"] is None

    code, out, err = cli("teach", "--forget", "--machine", "mill-1", "--setup", "feed 6.0 · clamp 4", "--json")
    assert code == 0, err
    assert json_of(out)["forgotten"] == {"machine": "mill-1", "setup": SETUP, "version": 1}
    code, out, _ = cli("teach", "--list", "--machine", "mill-1")
    assert "NOT TAUGHT (v1 forgotten)" in out
    code, _, err = cli("teach", "--forget", "--machine", "mill-1", "--setup", SETUP)
    assert code == 2 and "nothing taught for mill-1 · feed 6 · clamp 4" in err

    assert cli("teach", bundled_dir / "experiment_01.csv", "--machine", "mill-1")[0] == 0
    with store_of(home) as store:
        assert store.active("mill-1", SETUP).version == 2


def test_limits_are_validated_and_stored(cli, home):
    code, out, _ = cli("teach", "--limits", "--machine", "mill-1", "--setup", SETUP, "--json")
    assert code == 0 and json_of(out)["limits"]["changed"] is False
    code, out, err = cli("teach", "--limits", "--machine", "mill-1", "--setup", SETUP,
                         "--warn", "10", "--alarm", "25", "--delay", "5", "--json")
    assert code == 0, err
    assert json_of(out)["limits"]["limits"] == {"warn_pct": 10.0, "alarm_pct": 25.0, "delay_windows": 5}
    code, _, err = cli("teach", "--limits", "--machine", "mill-1", "--setup", SETUP, "--warn", "40")
    assert code == 2 and "warning (40 %)" in err  # over the stored alarm limit of 25 %
    code, _, err = cli("teach", "--limits", "--machine", "mill-1", "--setup", SETUP, "--delay", "0")
    assert code == 2 and "alarm delay" in err
    with store_of(home) as store:
        assert store.limits("mill-1", SETUP) == {"warn_pct": 10.0, "alarm_pct": 25.0, "delay_windows": 5}


@pytest.mark.parametrize("setup", ["feed six · clamp 4", "6 / 4", ""])
def test_a_setup_text_that_does_not_parse_exits_2(cli, setup):
    code, _, err = cli("teach", "--limits", "--machine", "mill-1", "--setup", setup, "--warn", "10")
    assert code == 2 and "--setup" in err


def test_tool_change_is_recorded_and_read_back_by_since(cli, home):
    code, out, err = cli("tool-change", "--machine", "mill-3", "--reason", "broken", "--comment", "insert lost",
                         "--user", "anna", "--json")
    assert code == 0, err
    change = json_of(out)["tool_change"]
    assert (change["machine"], change["reason"], change["label"], change["user"]) == ("mill-3", "broken", "worn", "anna")
    code, out, _ = cli("tool-change", "--machine", "mill-3", "--reason", "scheduled")
    assert code == 0 and "no label" in out
    with ToolChangeLog() as log:
        seen = log.since()
        assert [(c.reason, c.label, c.comment) for c in seen] == [("broken", "worn", "insert lost"),
                                                                 ("scheduled", None, "")]
        assert log.since(after_id=seen[0].id) == seen[1:]


def test_tool_change_for_an_unknown_machine_exits_2_naming_the_configured_ones(cli, home, tmp_path):
    code, _, err = cli("tool-change", "--machine", "mill-9", "--reason", "worn")
    assert code == 2 and "unknown machine 'mill-9'" in err and "mill-1, mill-2, mill-3, mill-4" in err
    save_settings(Settings(machines=[f"press-7=tail:{tmp_path / 'press-7' / 'log.csv'}"]))  # a folder not made yet
    code, _, err = cli("tool-change", "--machine", "mill-1", "--reason", "worn")
    assert code == 2 and "the configured machines are press-7" in err
    assert cli("tool-change", "--machine", "press-7", "--reason", "precaution")[0] == 0
    code, _, err = cli("tool-change", "--machine", "press-7", "--reason", "tired")
    assert code == 2 and "worn, broken, scheduled, precaution" in err
    with ToolChangeLog() as log:
        assert [c.machine for c in log.since()] == ["press-7"]


@pytest.mark.parametrize("args, message", [
    (("--list", "FILE"), "take none"),
    (("--warn", "10", "--machine", "mill-1"), "go with --limits"),
    (("FILE", "--machine", "mill-1", "--setup", SETUP), "from the files' metadata"),
    ((), "give the experiment file(s)"),
])
def test_options_that_do_not_go_together_exit_2(cli, bundled_dir, args, message):
    args = [str(bundled_dir / "experiment_01.csv") if a == "FILE" else a for a in args]
    code, _, err = cli("teach", *args)
    assert code == 2 and message in err
