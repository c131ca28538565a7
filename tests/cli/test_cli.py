"""The command line contract: names, JSON keys, exit codes."""

import json
import shutil
import subprocess
import sys

from helpers import ROOT, run_cli


def test_validate_bundled_dataset_json():
    done = run_cli("validate", "--json")
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["experiments"] == 18 and out["rows"] == 25_286
    assert len(out["files"]) == 19
    for entry in out["files"]:
        assert {"path", "rows", "status", "flags", "errors"} <= set(entry)
        assert entry["status"] == "ok" and entry["errors"] == []


def test_validate_warning_is_still_exit_0(tmp_path, bundled_dir):
    path = tmp_path / "experiment_04.csv"
    path.write_bytes((bundled_dir / "experiment_04.csv").read_bytes())  # no train.csv beside it
    done = run_cli("validate", "--json", str(path))
    assert done.returncode == 0
    assert json.loads(done.stdout)["files"][0]["status"] == "warning"


def test_manual_metadata_options(tmp_path, bundled_dir):
    path = tmp_path / "spindle_log.csv"
    path.write_bytes((bundled_dir / "experiment_04.csv").read_bytes())
    done = run_cli("validate", "--json", str(path))  # no experiment number: unlabelled, not rejected
    assert done.returncode == 0 and json.loads(done.stdout)["files"][0]["unlabelled"]
    done = run_cli("validate", "--json", "--experiment", "31", "--feedrate", "6", "--clamp-pressure", "4",
                   "--tool-condition", "worn", str(path))
    assert done.returncode == 0, done.stdout
    assert json.loads(done.stdout)["files"][0]["experiment"] == 31
    done = run_cli("validate", "--tool-condition", "worn", str(path))  # a label needs a number
    assert done.returncode == 2 and "--experiment" in done.stderr


def test_missing_path_is_bad_input(tmp_path):
    done = run_cli("validate", "--json", str(tmp_path / "nope.csv"))
    assert done.returncode == 2
    assert json.loads(done.stdout)["files"][0]["errors"][0]["message"] == "no such file or directory"


def test_main_py_is_the_gui_command():
    text = (ROOT / "main.py").read_text()
    assert 'main(["gui"' in text
    done = subprocess.run([sys.executable, "-m", "cncwear_gui.cli", "--help"], capture_output=True, text=True, cwd=ROOT)
    for command in ("gui", "validate", "import", "benchmark"):
        assert command in done.stdout


def test_the_console_scripts_entry_points_resolve():
    from importlib.metadata import EntryPoint

    for target in ("cncwear_gui.cli:main", "cncwear_gui.cli:gui_main"):
        assert callable(EntryPoint(name="x", value=target, group="console_scripts").load())


def test_pipeline_run_progress_json_names_its_firing_first(home, tmp_path, bundled_dir):
    """The window matches a firing by the id on the first line, not by host, user and time."""
    from cncwear_gui import events

    broken = tmp_path / "broken"
    broken.mkdir()
    shutil.copy(bundled_dir / "train.csv", broken)
    lines = (bundled_dir / "experiment_04.csv").read_text().splitlines()
    lines[3] = lines[3].replace(",", ",x", 1)  # validation rejects the file: the pipeline fails at once
    (broken / "experiment_04.csv").write_text("\n".join(lines) + "\n")
    done = run_cli("pipeline", "run", "--data", str(broken), "--budget", "5", "--progress-json",
                   env={"CNCWEAR_HOME": str(home)})
    assert done.returncode == 1, done.stderr[-2000:]
    emitted = events.parse_lines(done.stdout)
    first, last = emitted[0], emitted[-1]
    assert events.firing_of(first) == {"id": last["firing_id"], "trigger": "manual", "status": "running"}
    assert last["fired"] is True and last["status"] == "failed" and last["steps"][-1]["name"] == "validate"
    assert all(events.is_progress(line) for line in emitted[1:-1])
