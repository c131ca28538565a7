"""``cncwear benchmark --protocol paired`` for real: the JSON report, the champion trained on first
start beside the taught monitor (and the warning that it saw these runs), bad input."""

import json

import pytest

from helpers import run_cli

from cncwear_gui.models.paired import PAIRS


def test_paired_json_without_a_classifier(home):
    done = run_cli("benchmark", "--protocol", "paired", "--no-classifier", "--json", env={"CNCWEAR_HOME": str(home)})
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(done.stdout)["paired"]
    assert report["protocol"] == "paired" and report["classifier"] is None
    assert [(p["unworn"], p["worn"]) for p in report["pairs"]] == list(PAIRS)
    assert report["limits"] == {"warn_pct": 15.0, "alarm_pct": 30.0, "delay_windows": 3}
    five = next(p for p in report["pairs"] if p["unworn"] == 5)
    assert five["taught"] is False and five["not_taught"]
    assert report["totals"]["detected"] == sum(bool(p["worn_run"] and p["worn_run"]["detected"]) for p in report["pairs"])


def test_paired_text_and_given_limits(home):
    done = run_cli("benchmark", "--protocol", "paired", "--no-classifier", "--alarm-pct", "999", "--warn-pct", "999",
                   env={"CNCWEAR_HOME": str(home)})
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Worn runs detected: 0 of 8" in done.stdout and "alarm +999 %" in done.stdout
    assert "not taught: only" in done.stdout  # 5/16, with the reason


@pytest.mark.parametrize("arguments, message", [
    (["--delay-windows", "0"], "alarm delay"),
    (["--warn-pct", "40", "--alarm-pct", "30"], "warning"),
    (["--threshold", "1.5"], "--threshold"),
])
def test_paired_bad_input_is_exit_2(home, arguments, message):
    done = run_cli("benchmark", "--protocol", "paired", "--no-classifier", *arguments, env={"CNCWEAR_HOME": str(home)})
    assert done.returncode == 2 and message in done.stderr


def test_progress_json_needs_the_paired_protocol(home):
    done = run_cli("benchmark", "--protocol", "seed", "--progress-json", env={"CNCWEAR_HOME": str(home)})
    assert done.returncode == 2 and "only with --protocol paired" in done.stderr


@pytest.mark.slow
def test_paired_json_trains_the_champion_on_first_start_and_says_it_saw_the_runs(home):
    env = {"CNCWEAR_HOME": str(home)}
    done = run_cli("benchmark", "--protocol", "paired", "--json", env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(done.stdout)["paired"]
    assert report["classifier"].startswith("cncwear-tool-wear v")
    assert "optimistic" in report["classifier_note"]  # a first-start champion was trained on every labelled run
    for pair in report["pairs"]:
        verdicts = pair["classifier"]
        assert verdicts["worn_run"]["verdict"] in ("worn", "unworn") and verdicts["worn_run"]["samples"] > 0
    # the progress lines the Training view reads, then the report
    lines = run_cli("benchmark", "--protocol", "paired", "--progress-json", env=env).stdout.splitlines()
    messages = [json.loads(line) for line in lines if line.startswith("{")]
    assert any("progress" in m for m in messages) and "paired" in messages[-1]
