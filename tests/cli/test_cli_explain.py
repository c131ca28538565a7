"""``cncwear explain`` for real: the champion (a Random Forest trained on first start), a model
picked by its MLflow run id, the HTML and PDF reports, the taught monitor's judgement of the
sample, and bad input (exit 2, nothing written)."""

import html
import json
import re

import numpy as np
import pytest

from helpers import run_cli

WORN_EXPERIMENT, ROW = 6, 400  # experiment 6 is worn (train.csv); row 400 is in a cutting phase


@pytest.fixture(scope="module")
def champion_env(champion_home):
    env = {"CNCWEAR_HOME": str(champion_home)}  # the process's first-start champion: found, not trained
    done = run_cli("champion", "--json", env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    champion = json.loads(done.stdout.strip().splitlines()[-1])["champion"]
    return env, champion


def explain(env, *args):
    return run_cli("explain", *args, env=env, timeout=600)


@pytest.mark.slow
def test_every_local_method_and_the_summary_as_json(champion_env):
    env, champion = champion_env
    done = explain(env, "--method", "all", "--experiment", str(WORN_EXPERIMENT), "--row", str(ROW), "--json",
                   "--feature", "X1_OutputCurrent", "--depth", "3")
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout)
    assert result["model"]["version"] == champion["version"] and result["model"]["run_id"] == champion["run_id"]
    assert result["sample"] == {"experiment": WORN_EXPERIMENT, "row": ROW, "source": "experiment_06.csv",
                                "line": ROW + 2, "worn": 1}
    lime = result["lime"]
    assert abs(sum(lime["probabilities"].values()) - 1) < 1e-6
    assert lime["conditions"] and all(re.search(r"[<>=]", condition) for condition, _ in lime["conditions"])
    shap = result["shap"]
    total = shap["base_value"] + sum(c[2] for c in shap["contributions"])
    assert abs(total - shap["model_output"]) < 1e-6  # additivity, recomputed here
    assert abs(shap["model_output"] - lime["probabilities"]["worn"]) < 1e-6  # one model, one probability
    assert 0 <= result["anchor"]["precision"] <= 1 and 0 <= result["anchor"]["coverage"] <= 1
    assert result["ice"]["feature"] == "X1_OutputCurrent" and len(result["ice"]["grid"]) == len(result["ice"]["pdp"])
    assert result["surrogate"]["depth"] <= 3 and 0.5 <= result["surrogate"]["fidelity"] <= 1
    assert result["summary"] and ("WORN" in result["summary"] or "UNWORN" in result["summary"])


@pytest.mark.slow
def test_the_html_and_pdf_reports_hold_every_panel(champion_env, tmp_path):
    env, champion = champion_env
    html_path, pdf_path = tmp_path / "report.html", tmp_path / "report.pdf"
    for path in (html_path, pdf_path):
        done = explain(env, "--method", "shap", "--experiment", str(WORN_EXPERIMENT), "--row", str(ROW),
                       "--depth", "3", "--out", str(path))
        assert done.returncode == 0, done.stderr[-2000:]
    text = html_path.read_text(encoding="utf-8")
    for section in ("summary", "lime", "shap", "anchor", "taught", "ice-pdp", "surrogate", "shap-global"):
        assert f'id="{section}"' in text
    assert champion["run_id"] in text and f"v{champion['version']}" in text
    assert text.count("data:image/png;base64,") == 4  # LIME, waterfall, ICE/PDP, global SHAP (nothing taught here)
    assert "SETUP NOT TAUGHT: no machine has a reference for feed 6 · clamp 4" in text
    pdf = pdf_path.read_bytes()
    assert pdf.startswith(b"%PDF") and pdf.count(b"/Subtype /Image") >= 4
    assert not list(tmp_path.glob("*.part"))


@pytest.mark.slow
def test_a_model_chosen_by_its_run_id(champion_env):
    env, champion = champion_env
    done = explain(env, "--method", "lime", "--model", champion["run_id"], "--experiment", "1", "--row", "10", "--json")
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout)["model"]["run_id"] == champion["run_id"]


@pytest.mark.parametrize("args, message", [
    (("--experiment", "99", "--row", "0"), "experiment 99 is not in the loaded data"),
    (("--experiment", "6", "--row", "99999"), "row 99999 does not exist"),
])
def test_a_sample_not_in_the_data_exits_2_before_any_model_is_loaded(tmp_path, args, message):
    home = tmp_path / "home"  # no champion: loading one would train it on first start
    done = run_cli("explain", "--method", "lime", *args, env={"CNCWEAR_HOME": str(home)}, timeout=300)
    assert done.returncode == 2, (done.stdout[-500:], done.stderr[-2000:])
    assert message in done.stderr and done.stdout == ""
    assert not (home / "mlflow.db").exists()  # no model store was opened, no model trained


@pytest.mark.parametrize("args, message", [
    (("--experiment", "6", "--method", "ice", "--feature", "Spindle_Torque"), "'Spindle_Torque' is not a feature"),
    (("--experiment", "6", "--model", "0123456789abcdef0123456789abcdef"), "--model 0123456789abcdef"),
    (("--experiment", "6", "--out", "/no/such/folder/report.html"), "does not exist"),
])
@pytest.mark.slow
def test_bad_input_exits_2_with_a_clear_message(champion_env, args, message):
    env, _ = champion_env
    done = explain(env, "--method", "lime", *args) if "--method" not in args else explain(env, *args)
    assert done.returncode == 2, (done.stdout[-500:], done.stderr[-2000:])
    assert message in done.stderr


@pytest.mark.slow
def test_a_row_with_a_missing_value_is_refused_naming_the_feature(champion_env, data_copy):
    env, _ = champion_env
    path = data_copy / "experiment_06.csv"
    lines = path.read_text().splitlines()
    header = lines[0].split(",")
    column = header.index("X1_OutputCurrent")
    cells = lines[ROW + 1].split(",")
    cells[column] = ""
    lines[ROW + 1] = ",".join(cells)
    path.write_text("\n".join(lines) + "\n")
    done = explain(env, "--method", "lime", "--file", str(path), "--row", str(ROW))
    assert done.returncode == 2, done.stderr[-2000:]
    assert "X1_OutputCurrent" in done.stderr


@pytest.mark.slow
def test_the_taught_monitors_judgement_in_the_json_the_text_and_the_report(champion_env, tmp_path, bundled_dir):
    """Taught on experiment 1 by ``cncwear teach``; row 400 of experiment 6 as ``judge()`` says offline."""
    from cncwear_gui.data.dataset import load_dataset
    from cncwear_gui.monitoring.teach_in import OVER, WINDOW_SAMPLES, Limits, TaughtReference, judge, windows_of_samples
    from cncwear_gui.store.taught_references import TaughtReferenceStore

    env, _ = champion_env
    setup = "feed 6 · clamp 4"
    done = run_cli("teach", str(bundled_dir / "experiment_01.csv"), "--machine", "mill-1", env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    try:
        with TaughtReferenceStore(f"sqlite:///{env['CNCWEAR_HOME']}/features.db") as store:
            stored = store.active("mill-1", setup)
        reference = TaughtReference.from_json(stored.data, stored.version)
        windows = windows_of_samples(load_dataset([bundled_dir / "experiment_06.csv"]).experiments[6].samples)
        index = int(np.flatnonzero((windows.start <= ROW) & (ROW < windows.start + WINDOW_SAMPLES))[0])
        offline = judge(reference, windows, Limits())
        over = 0
        for item in offline[:index + 1]:
            over = over + 1 if item.level == OVER else 0
        window = offline[index]

        report = tmp_path / "report.html"
        done = explain(env, "--method", "lime", "--experiment", str(WORN_EXPERIMENT), "--row", str(ROW), "--json",
                       "--out", str(report), "--depth", "2")
        assert done.returncode == 0, done.stderr[-2000:]
        taught = json.loads(done.stdout)["taught"]
        judged = taught["window"]["window"]
        assert (judged["phase"], judged["signal"], judged["statistic"]) == (window.phase, window.signal, window.statistic)
        assert taught["window"]["load_pct"] == round(window.load_pct, 1) and taught["window"]["over_windows"] == over
        assert (taught["machine"], taught["reference_version"], taught["setup"]) == ("mill-1", stored.version, setup)
        assert taught["run"]["state"] == "alarm"  # the worn tool's run
        text = report.read_text(encoding="utf-8")
        assert 'id="taught"' in text and html.escape(taught["sentence"]) in text
        assert text.count("data:image/png;base64,") == 5  # and the taught monitor's bars

        done = explain(env, "--method", "lime", "--experiment", str(WORN_EXPERIMENT), "--row", str(ROW),
                       "--machine", "mill-2")
        assert done.returncode == 0, done.stderr[-2000:]
        assert ("[taught monitor] NOT TAUGHT\n  SETUP NOT TAUGHT: feed 6 · clamp 4 has no reference on mill-2; "
                "it is taught on mill-1.") in done.stdout
    finally:
        run_cli("teach", "--forget", "--machine", "mill-1", "--setup", setup, env=env)


def test_an_unknown_machine_exits_2_before_anything_is_explained(tmp_path):
    done = run_cli("explain", "--experiment", "6", "--row", str(ROW), "--machine", "mill-99",
                   env={"CNCWEAR_HOME": str(tmp_path / "home")}, timeout=300)
    assert done.returncode == 2, (done.stdout[-500:], done.stderr[-2000:])
    assert "--machine: unknown machine 'mill-99'; the configured machines are mill-1, mill-2, mill-3, mill-4" in done.stderr
    assert done.stdout == ""
