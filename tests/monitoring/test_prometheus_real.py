"""The shipped monitoring files against real components: promtool, a real Prometheus, a real ``cncwear serve``.

A real Prometheus on 127.0.0.1 loads a config derived from packaging/monitoring/prometheus.yml (its
shipped rule file included) and scrapes ``cncwear serve`` replaying the bundled data: a worn tool
(experiment 6) and an unworn one (experiment 1). Every PromQL expression of the Grafana dashboard must
return data, every rule must evaluate cleanly, every alert's expression must select real series, and
ToolWorn must go active for the worn tool only.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
import yaml

from helpers import BUNDLED, ROOT, free_port

MONITORING = ROOT / "packaging" / "monitoring"
CONFIG = MONITORING / "prometheus.yml"
RULES = MONITORING / "cncwear-alerts.yml"
DASHBOARD = MONITORING / "grafana" / "cncwear-dashboard.json"
DATASOURCES = MONITORING / "grafana" / "provisioning" / "datasources" / "cncwear-prometheus.yml"
PROVIDERS = MONITORING / "grafana" / "provisioning" / "dashboards" / "cncwear.yml"

WORN, UNWORN = "mill-worn", "mill-new"  # experiment 6 is worn, experiment 1 unworn (train.csv)
EXPECTED_ALERTS = {"ToolWorn", "DriftHigh", "PredictionDriftHigh", "NoModel", "ModelStale", "SourceDown",
                   "WearAlarmUnacknowledged", "SamplesRejected", "TargetDown", "TrainingFailing", "ScoringErrors",
                   "DiskLow", "PredictionLogPaused"}
GRAFANA_INTERVALS = {"__rate_interval": "1m", "__interval": "15s", "__range": "5m"}
SERVING_TIMEOUT_S = 180  # a fresh home trains a quick champion first
NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]  # a real Prometheus scrapes a real node


def _require(*tools: str) -> dict[str, str]:
    found = {tool: shutil.which(tool) for tool in tools}
    missing = [tool for tool, path in found.items() if path is None]
    if missing:
        reason = (f"{' and '.join(missing)} not on PATH: install Prometheus (Debian package 'prometheus'; "
                  "packaging/dev.sh test does so when run as root)")
        if os.environ.get("CNCWEAR_REQUIRE_PROMETHEUS") == "1":
            pytest.fail(f"CNCWEAR_REQUIRE_PROMETHEUS=1 but {reason}")
        pytest.skip(reason)
    return found


# ---------------------------------------------------------------------------------------------- helpers



def _get_json(url: str, timeout: float = 10) -> dict:
    with NO_PROXY.open(url, timeout=timeout) as response:
        return json.loads(response.read())


def _tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no output)"


def _stop(process: subprocess.Popen, timeout: float = 30) -> int | None:
    """SIGTERM, wait; then SIGKILL the process group it leads (it was started in a session of its own)."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            return process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)
            return None
    return process.returncode


def _panels(panels: list[dict]):
    """Every panel, including those nested in collapsed rows."""
    for panel in panels:
        yield panel
        yield from _panels(panel.get("panels", []))


def dashboard_queries(dashboard: dict) -> list[tuple[str, str]]:
    """(where, PromQL) for every panel target and every query variable (label_values → a PromQL query)."""
    queries = []
    for panel in _panels(dashboard["panels"]):
        for target in panel.get("targets", []):
            if target.get("expr"):
                queries.append((f"panel '{panel['title']}' {target['refId']}", target["expr"]))
    for variable in dashboard["templating"]["list"]:
        if variable["type"] != "query":
            continue
        query = variable["query"]["query"] if isinstance(variable["query"], dict) else variable["query"]
        match = re.fullmatch(r"\s*label_values\((.+),\s*(\w+)\)\s*", query)
        expr = f"group by ({match[2]}) ({match[1]})" if match else query
        queries.append((f"variable '{variable['name']}'", expr))
    return queries


def substitute(expr: str, machine: str) -> str:
    """Grafana's variables → values Prometheus understands."""
    expr = re.sub(r"\$\{machine(?::\w+)?\}|\$machine\b", machine, expr)
    for name, value in GRAFANA_INTERVALS.items():
        expr = re.sub(rf"\$\{{{name}\}}|\${name}\b", value, expr)
    assert "$" not in expr, f"unsubstituted Grafana variable in {expr}"
    return expr


def _mask(expr: str) -> str:
    """The expression with strings, label matchers, range selectors and parenthesised parts blanked out."""
    out, depth, quote = [], 0, ""
    for char in expr:
        if quote:
            out.append(" ")
            quote = "" if char == quote else quote
            continue
        if char in "\"'`":
            quote = char
        elif char in "({[":
            depth += 1
        elif char in ")}]":
            depth -= 1
            out.append(" ")
            continue
        out.append(char if depth == 0 and not quote else " ")
    return "".join(out)


def _bool_comparisons(expr: str) -> str:
    """Filtering comparisons → ``bool`` ones, everywhere outside label matchers and strings."""
    out, braces, quote, i = [], 0, "", 0
    while i < len(expr):
        char = expr[i]
        if quote:
            quote = "" if char == quote else quote
        elif char in "\"'`":
            quote = char
        elif char == "{":
            braces += 1
        elif char == "}":
            braces -= 1
        elif braces == 0:
            match = re.match(r"(==|!=|>=|<=|>|<)(\s*)(bool\b)?", expr[i:])
            if match:
                out.append(match[1] + " bool " if not match[3] else match[0])
                i += len(match[0])
                continue
        out.append(char)
        i += 1
    return "".join(out)


def condition_free_parts(expr: str) -> list[str]:
    """The alert expression's top-level ``and``/``or`` operands, each with its comparisons made ``bool``:
    each must select series while the alert does not fire, or a misspelt metric hides behind 'no alert'."""
    masked = _mask(expr)
    cuts = [m.span() for m in re.finditer(r"(?<![\w:])(and|or)(?![\w:])", masked)]
    parts, start = [], 0
    for begin, end in cuts:
        parts.append(expr[start:begin])
        start = end
    parts.append(expr[start:])
    modifier = re.compile(r"^\s*(on|ignoring)\s*\([^)]*\)\s*(group_(left|right)\s*(\([^)]*\))?)?")
    return [_bool_comparisons(modifier.sub("", part)).strip() for part in parts]


def test_condition_free_parts():
    assert condition_free_parts('cncwear_drift_psi > 0.25') == ["cncwear_drift_psi > bool 0.25"]
    assert condition_free_parts('up{job="cncwear"} == 0') == ['up{job="cncwear"} == bool 0']
    assert condition_free_parts('time() - x > 30 * 86400 and x > 0') == ["time() - x > bool 30 * 86400", "x > bool 0"]
    assert condition_free_parts('rate(a{b!="c"}[5m]) >= 1 or on (machine) (d < bool 2 and e)') == [
        'rate(a{b!="c"}[5m]) >= bool 1', "(d < bool 2 and e)"]
    assert substitute('x{machine=~"$machine"}[$__rate_interval] ${__range}', ".*") == 'x{machine=~".*"}[1m] 5m'


# -------------------------------------------------------------------------------- files, without Prometheus


def test_dashboard_and_provisioning_agree():
    dashboard = json.loads(DASHBOARD.read_text())
    assert dashboard["uid"] == "cncwear-overview" and "__inputs" not in dashboard
    assert 36 <= dashboard["schemaVersion"] <= 41
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource" and variables["datasource"]["query"] == "prometheus"
    machine = variables["machine"]
    assert machine["multi"] and machine["includeAll"] and "label_values(cncwear_wear_state, machine)" in json.dumps(machine)

    sources = yaml.safe_load(DATASOURCES.read_text())["datasources"]
    assert [s["type"] for s in sources] == ["prometheus"]
    assert variables["datasource"]["current"]["value"] == sources[0]["uid"]
    job = next(j for j in yaml.safe_load(CONFIG.read_text())["scrape_configs"] if j["job_name"] == "cncwear")
    assert sources[0]["jsonData"]["timeInterval"] == job["scrape_interval"], "$__rate_interval assumes the scrape interval"
    providers = yaml.safe_load(PROVIDERS.read_text())["providers"]
    assert [p["type"] for p in providers] == ["file"] and providers[0]["options"]["path"]

    for panel in _panels(dashboard["panels"]):
        if panel["type"] == "row":
            continue
        assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}, panel["title"]
        for target in panel["targets"]:
            assert target["datasource"]["uid"] == "${datasource}", panel["title"]
            # $machine is multi-valued with "All" = .*: only a regex matcher can take it.
            assert not re.search(r'machine\s*(=|!=)\s*"\$', target["expr"]), f"{panel['title']}: use machine=~\"$machine\""


def test_promtool_accepts_config_and_rules():
    tools = _require("promtool")
    outputs = []
    for args in (["check", "config", str(CONFIG)], ["check", "rules", str(RULES)]):
        done = subprocess.run([tools["promtool"], *args], capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, f"promtool {' '.join(args)}:\n{done.stdout}{done.stderr}"
        outputs.append(done.stdout)
    assert "SUCCESS: 1 rule files found" in outputs[0], outputs[0]  # check config followed rule_files


# ------------------------------------------------------------------------------ the real stack: serve + Prometheus


class Stack:
    def __init__(self, prometheus_url: str, serve_target: str, dead_target: str):
        self.url = prometheus_url
        self.serve_target = serve_target
        self.dead_target = dead_target

    def api(self, path: str, **params) -> dict:
        query = f"?{urllib.parse.urlencode(params)}" if params else ""
        body = _get_json(f"{self.url}/api/v1/{path}{query}")
        assert body["status"] == "success", body
        return body["data"]

    def query(self, expr: str) -> dict:
        """An instant query; the raw answer, errors included (never raises for a bad query)."""
        try:
            with NO_PROXY.open(f"{self.url}/api/v1/query?{urllib.parse.urlencode({'query': expr})}", timeout=10) as r:
                return json.loads(r.read())
        except urllib.error.HTTPError as error:
            return json.loads(error.read() or b"{}") or {"status": "error", "error": str(error)}

    def alerts(self) -> list[dict]:
        return self.api("alerts")["alerts"]


def _wait(condition, timeout: float, what: str, processes=()):
    deadline = time.monotonic() + timeout
    while True:
        for process, log in processes:
            if process.poll() is not None:
                pytest.fail(f"{' '.join(map(str, process.args[:4]))} exited with {process.returncode} "
                            f"while waiting for {what}:\n{_tail(log)}")
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.5)


def _serving_line(out: Path):
    for line in out.read_text().splitlines():
        try:
            event = json.loads(line)
        except ValueError:
            continue
        if event.get("event") == "serving":
            return event
    return None


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    tools = _require("prometheus", "promtool")
    work = tmp_path_factory.mktemp("prometheus-real")
    serve_port, prometheus_port, dead_port = free_port(), free_port(), free_port()
    serve_out, serve_err, prometheus_log = work / "serve.out", work / "serve.err", work / "prometheus.log"
    running: list[tuple[subprocess.Popen, Path]] = []
    serve_rc = "not started"
    try:
        # A home of its own: the first-start champion is always the same model, trained on the bundled data.
        env = {**os.environ, "CNCWEAR_HOME": str(work / "home"), "CNCWEAR_CONFIG_DIR": str(work / "config")}
        with open(serve_out, "w") as out, open(serve_err, "w") as err:
            serve = subprocess.Popen(
                [sys.executable, "-m", "cncwear_gui.cli", "serve", "--metrics-addr", f"127.0.0.1:{serve_port}",
                 "--machine", f"{WORN}=replay:{BUNDLED / 'experiment_06.csv'}@20",
                 "--machine", f"{UNWORN}=replay:{BUNDLED / 'experiment_01.csv'}@20",
                 "--drift-interval", "2"],
                stdout=out, stderr=err, stdin=subprocess.DEVNULL, cwd=ROOT, env=env,
                start_new_session=True)
        running.append((serve, serve_err))
        event = _wait(lambda: _serving_line(serve_out), SERVING_TIMEOUT_S, "cncwear serve's 'serving' line",
                      [(serve, serve_err)])
        assert event["url"] == f"http://127.0.0.1:{serve_port}/metrics", event
        assert event["machines"] == [WORN, UNWORN], event

        # The shipped config, pointed at the app under test (plus one dead target for TargetDown), 1 s cadence.
        config = yaml.safe_load(CONFIG.read_text())
        config["global"].update(scrape_interval="1s", scrape_timeout="1s", evaluation_interval="1s")
        config["rule_files"] = [str((CONFIG.parent / name).resolve()) for name in config["rule_files"]]
        config.pop("alerting", None)
        jobs = [job for job in config["scrape_configs"] if job["job_name"] == "cncwear"]
        assert len(jobs) == 1, "prometheus.yml must have exactly one active job 'cncwear'"
        job = jobs[0]
        labels = job.get("static_configs", [{}])[0].get("labels", {})
        for discovery in [key for key in job if key.endswith("_sd_configs")]:
            del job[discovery]
        job.update(scrape_interval="1s", scrape_timeout="1s", static_configs=[
            {"targets": [f"127.0.0.1:{serve_port}", f"127.0.0.1:{dead_port}"], "labels": labels}])
        test_config = work / "prometheus.yml"
        test_config.write_text(yaml.safe_dump(config, sort_keys=False))

        with open(prometheus_log, "w") as log:
            prometheus = subprocess.Popen(
                [tools["prometheus"], f"--config.file={test_config}", f"--storage.tsdb.path={work / 'tsdb'}",
                 f"--web.listen-address=127.0.0.1:{prometheus_port}", "--log.level=warn"],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=work, start_new_session=True)
        running.append((prometheus, prometheus_log))
        result = Stack(f"http://127.0.0.1:{prometheus_port}", f"127.0.0.1:{serve_port}", f"127.0.0.1:{dead_port}")

        def ready():
            try:
                with NO_PROXY.open(f"{result.url}/-/ready", timeout=2) as response:
                    return response.status == 200
            except OSError:
                return False

        _wait(ready, 60, "Prometheus to be ready", running)

        def serve_up():
            targets = result.api("targets")["activeTargets"]
            return any(t["labels"]["instance"] == result.serve_target and t["health"] == "up" for t in targets)

        _wait(serve_up, 30, "the cncwear target to be up", running)
        # A few scrapes, so that rate() over 1m and the recording rules have data.
        samples = f'count_over_time(up{{job="cncwear",instance="{result.serve_target}"}}[1m])'
        _wait(lambda: [r for r in result.query(samples)["data"]["result"] if float(r["value"][1]) >= 6], 30,
              "six scrapes", running)
        yield result
    finally:
        for process, _ in reversed(running):
            rc = _stop(process)
            if process is running[0][0]:
                serve_rc = rc
    assert serve_rc == 0, f"cncwear serve did not exit 0 on SIGTERM (rc {serve_rc}):\n{_tail(serve_err)}"


@pytest.mark.slow
def test_every_dashboard_query_returns_data(stack):
    problems = []
    queries = dashboard_queries(json.loads(DASHBOARD.read_text()))
    assert len(queries) > 20
    for where, raw in queries:
        for machine in (".*", WORN):
            expr = substitute(raw, machine)
            answer = stack.query(expr)
            if answer.get("status") != "success":
                problems.append(f"{where} [machine={machine}]: {answer.get('error')}\n    {expr}")
            elif answer["data"]["resultType"] in ("vector", "matrix") and not answer["data"]["result"]:
                problems.append(f"{where} [machine={machine}]: no data\n    {expr}")
    assert not problems, "dashboard queries failing against the real app:\n" + "\n".join(problems)

    machines = stack.query("group by (machine) (cncwear_wear_state)")["data"]["result"]
    assert {r["metric"]["machine"] for r in machines} == {WORN, UNWORN}


def test_every_rule_evaluates_and_selects_real_series(stack):
    def evaluated():
        groups = stack.api("rules")["groups"]
        rules = [rule for group in groups for rule in group["rules"]]
        return groups if rules and all(rule["lastEvaluation"] > "2000" for rule in rules) else None

    groups = _wait(evaluated, 20, "every rule to be evaluated")
    assert {group["file"] for group in groups} == {str(RULES.resolve())}
    rules = [rule for group in groups for rule in group["rules"]]
    problems = [f"{rule['name']}: health {rule['health']}, {rule.get('lastError')}" for rule in rules
                if rule["health"] != "ok" or rule.get("lastError")]

    alerts = {rule["name"] for rule in rules if rule["type"] == "alerting"}
    assert EXPECTED_ALERTS <= alerts, f"missing alert rules: {EXPECTED_ALERTS - alerts}"
    for rule in rules:
        if rule["type"] == "alerting":
            assert rule["duration"] > 0, f"{rule['name']} has no for:"
            assert rule["labels"].get("severity") in ("critical", "warning", "info"), rule["name"]
            assert {"summary", "description"} <= set(rule["annotations"]), rule["name"]
            for part in condition_free_parts(rule["query"]):
                answer = stack.query(part)
                if answer.get("status") != "success" or not answer["data"]["result"]:
                    problems.append(f"{rule['name']}: '{part}' selects nothing ({answer.get('error', 'no data')})")
        else:
            assert rule["name"].startswith("cncwear:"), rule["name"]
            if not stack.query(rule["name"])["data"]["result"]:
                problems.append(f"recording rule {rule['name']} produced no series")
    assert not problems, "\n".join(problems)


def test_tool_worn_fires_for_the_worn_tool_only(stack):
    def worn_alert():
        return [a for a in stack.alerts() if a["labels"]["alertname"] == "ToolWorn"
                and a["labels"].get("machine") == WORN and a["state"] in ("pending", "firing")]

    alert = _wait(worn_alert, 60, "ToolWorn for the worn tool")[0]
    assert WORN in alert["annotations"]["summary"] and WORN in alert["annotations"]["description"]
    assert alert["labels"]["severity"] == "critical"
    assert not [a for a in stack.alerts() if a["labels"]["alertname"] == "ToolWorn"
                and a["labels"].get("machine") == UNWORN], "ToolWorn is active for the unworn tool"


def test_target_down_fires_for_an_unreachable_pc(stack):
    def down_alert():
        return [a for a in stack.alerts() if a["labels"]["alertname"] == "TargetDown"
                and a["labels"]["instance"] == stack.dead_target and a["state"] in ("pending", "firing")]

    alert = _wait(down_alert, 30, "TargetDown for the unreachable target")[0]
    assert stack.dead_target in alert["annotations"]["summary"]
    assert not [a for a in stack.alerts() if a["labels"]["alertname"] == "TargetDown"
                and a["labels"]["instance"] == stack.serve_target]
    for active in stack.alerts():  # the annotation templates, query functions included, expand cleanly
        for text in active["annotations"].values():
            assert "error expanding template" not in text and "<no value>" not in text, (active["labels"], text)
