"""Smoke test of a built bundle: it starts, answers on the command line, finds its AutoML runtime
(when one was bundled) and renders every view to PNG offscreen.

    .venv/bin/python packaging/smoke_test.py packaging/dist/cncwear

Runs against fresh, temporary stores (CNCWEAR_HOME, CNCWEAR_CONFIG_DIR), so the GUI goes through
its first start (training a champion). The views it must render are the ones the user guide shows:
docs/screenshots/*.png, where NAME-WxH.png is NAME rendered at that window size (and kiosk* in
kiosk mode). It then uses, through the bundle, what packaging/cncwear.spec and packaging/build.sh
leave out parts of: every shared library loads (both runtimes' libraries are stripped), Parquet
written and read (pyarrow without Flight), the five explanation methods (LIME, TreeSHAP with
numba, alibi's Anchors, ICE/PDP, the surrogate tree), OPC UA over an encrypted channel (asyncua,
cryptography), the MLflow UI (`mlflow ui` run by the bundle), and, with the AutoML runtime, a real
auto-sklearn search (dask, SMAC, pyrfr, ConfigSpace) whose model the prediction sidecar scores.
Exit 0 when everything passed, 1 otherwise.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
EXPECTED_VIEWS = sorted(path.stem for path in (ROOT / "docs" / "screenshots").glob("*.png"))
RUNTIME_PROBE = "from cncwear_gui.automl.runtime import check_runtime; s = check_runtime(); print(s.available, s.message)"

# dlopen every shared library under a folder (argv[1]); a library whose dependency this machine
# lacks (the Wayland client, GTK 3, TBB) is only counted, any other failure (a corrupt ELF file)
# is printed as BROKEN.
LIBRARY_PROBE = r"""
import ctypes, os, sys
MISSING = ("cannot open shared object file", "undefined symbol")
count, missing, broken = 0, 0, []
for folder, _, files in os.walk(sys.argv[1]):
    for name in sorted(files):
        path = os.path.join(folder, name)
        if (name.endswith(".so") or ".so." in name) and not os.path.islink(path):
            count += 1
            try:
                ctypes.CDLL(path, mode=os.RTLD_LAZY)
            except OSError as error:
                message = str(error.__cause__ or error)  # PyInstaller's ctypes hook wraps the loader's message
                if any(text in message for text in MISSING):
                    missing += 1
                else:
                    broken.append(f"BROKEN {path}: {message}")
plugins = os.path.join(sys.argv[1], "PySide6", "Qt", "plugins")
if os.path.isdir(plugins):  # Qt finds a plugin by the metadata in its ELF notes, which strip must keep
    from PySide6.QtCore import QPluginLoader
    for folder, _, files in os.walk(plugins):
        for name in files:
            if not QPluginLoader(os.path.abspath(os.path.join(folder, name))).metaData().get("IID"):
                broken.append(f"BROKEN {os.path.join(folder, name)}: no Qt plugin metadata")
print("\n".join(broken + [f"{count} libraries, {missing} with a dependency this machine lacks, {len(broken)} broken"]))
sys.stdout.flush()
os._exit(0)  # not through the finalizers of everything loaded
"""

PARQUET_WRITE = r"""
import sys, pyarrow.csv as csv, pyarrow.parquet as pq
from cncwear_gui.paths import bundled_dataset_dir
table = csv.read_csv(bundled_dataset_dir() / "experiment_06.csv")
pq.write_table(table, sys.argv[1], compression="zstd")
print(table.num_rows)
"""
PARQUET_READ = r"""
import sys, pyarrow.parquet as pq
print(" ".join(str(pq.read_table(path).num_rows) for path in sys.argv[1:]))
"""

OPCUA_PROBE = r"""
import sys, tempfile, time
from pathlib import Path
from cncwear_gui.live.opcua_simulator import make_certificate, simulator_for_file
from cncwear_gui.live.opcua_source import OpcUaSource
from cncwear_gui.paths import bundled_dataset_dir
folder = Path(tempfile.mkdtemp())
server = make_certificate(folder / "server.der", folder / "server.pem")
client = make_certificate(folder / "client.der", folder / "client.pem", "urn:cncwear:client")
with simulator_for_file(bundled_dataset_dir() / "experiment_06.csv", port=int(sys.argv[1]), speed=5,
                        cert=server[0], key=server[1]) as simulator:
    source = OpcUaSource(simulator.url, security="Basic256Sha256,SignAndEncrypt", cert=str(client[0]), key=str(client[1]))
    source.start()
    received, deadline = 0, time.monotonic() + 60
    try:
        while received < 10 and time.monotonic() < deadline:
            received += len(source.read())
            time.sleep(0.2)
        state = source.health().state.name
    finally:
        source.close()
print(received, state)
"""

MLFLOW_UI_PROBE = r"""
import json, urllib.request
from cncwear_gui.store.mlflow_ui import MlflowUi
ui = MlflowUi()
try:
    url = ui.start(timeout=180)
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    page = opener.open(url, timeout=30).read()
    found = json.loads(opener.open(url + "ajax-api/2.0/mlflow/experiments/search?max_results=10", timeout=30).read())
    print(len(page), b"<html" in page.lower(), len(found.get("experiments", [])))
finally:
    ui.stop()
"""


def run(bundle: Path, arguments: list[str], env: dict, timeout: float, program: Path | None = None) -> subprocess.CompletedProcess:
    started = time.monotonic()
    program = program or bundle / "cncwear"
    done = subprocess.run([str(program), *arguments], capture_output=True, text=True, env=env, timeout=timeout)
    shown = " ".join(a if len(a) < 40 else a[:37].replace("\n", " ") + "..." for a in arguments)
    print(f"[smoke] {program.name} {shown}: exit {done.returncode} in {time.monotonic() - started:.1f} s")
    return done


def blank(png: Path) -> bool:
    """A grab of an empty or unrendered window has (almost) a single colour."""
    with Image.open(png) as image:
        colours = image.convert("RGB").getcolors(maxcolors=64)
    return colours is not None and len(colours) < 16


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def screenshot_runs() -> list[tuple[list[str], list[str]]]:
    """(extra gui arguments, the PNG names they render) for each window size and mode the guide shows."""
    runs: dict[tuple[str | None, bool], list[str]] = {}
    for view in EXPECTED_VIEWS:
        sized = re.fullmatch(r"(.+)-(\d+x\d+)", view)
        name, size = (sized.group(1), sized.group(2)) if sized else (view, None)
        runs.setdefault((size, name.startswith("kiosk")), []).append(view)
    ordered = sorted(runs.items(), key=lambda item: (item[0][0] is not None, item[0]))  # the first start at the default size
    return [([*(["--size", size] if size else []), *(["--kiosk"] if kiosk else [])], views) for (size, kiosk), views in ordered]


def check_libraries(bundle: Path, env: dict, runtime_env: dict) -> list[str]:
    failures = []
    parts = [("_internal", bundle / "cncwear", env)]
    if (bundle / "automl-runtime").is_dir():
        parts.append(("automl-runtime", bundle / "automl-runtime" / "bin" / "python3", runtime_env))
    for part, program, part_env in parts:
        done = run(bundle, ["-c", LIBRARY_PROBE, str(bundle / part)], part_env, 600, program)
        lines = done.stdout.strip().splitlines()
        print(f"[smoke] {part}: {lines[-1] if lines else done.stderr[-300:]}")
        if done.returncode != 0 or not lines or not lines[-1].endswith(" 0 broken"):
            failures.append(f"libraries of {part}: {' | '.join(lines[:-1])[:2000] or done.stderr[-1000:]}")
    return failures


def check_screenshots(bundle: Path, env: dict) -> list[str]:
    failures = []
    for extra, views in screenshot_runs():
        shots = Path(tempfile.mkdtemp(prefix="cncwear-smoke-shots-"))
        gui = run(bundle, ["gui", "--screenshot", str(shots), *extra], env, 900)
        if gui.returncode != 0:
            failures.append(f"gui --screenshot {' '.join(extra)}: exit {gui.returncode}: {gui.stderr[-2000:]}")
        for view in views:
            png = shots / f"{re.sub(r'-[0-9]+x[0-9]+$', '', view)}.png"
            if not png.is_file():
                failures.append(f"{view}.png was not rendered (gui --screenshot {' '.join(extra)})")
            elif blank(png):
                failures.append(f"{view}.png is blank")
        print(f"[smoke] screenshots {' '.join(extra) or '(default size)'} in {shots}: {sorted(p.name for p in shots.glob('*.png'))}")
    return failures


def check_parquet(bundle: Path, env: dict, work: Path) -> list[str]:
    """A Parquet data file scored to Parquet scores (the app's reader and writer), the audit
    trail exported to Parquet (pyarrow.compute), both read back with pyarrow.parquet."""
    data, scores, audit = work / "machined.parquet", work / "scores.parquet", work / "audit.parquet"
    written = run(bundle, ["-c", PARQUET_WRITE, str(data)], env, 120)
    scored = run(bundle, ["predict", str(data), "--out", str(scores), "--json"], env, 300)
    exported = run(bundle, ["export", "audit", "-o", str(audit), "--json"], env, 120)
    read = run(bundle, ["-c", PARQUET_READ, str(scores), str(audit)], env, 120)
    rows = written.stdout.strip()
    print(f"[smoke] Parquet: {rows} rows written, rows read back (scores, audit trail): {read.stdout.strip()}")
    if any(done.returncode != 0 for done in (written, scored, exported, read)) or not read.stdout.startswith(f"{rows} "):
        return [f"Parquet write/predict/export/read: {written.stderr[-300:]}{scored.stderr[-500:]}{exported.stderr[-500:]}"
                f"{read.stderr[-500:]}"]
    return []


def check_explanations(bundle: Path, env: dict) -> list[str]:
    done = run(bundle, ["explain", "--method", "all", "--experiment", "6", "--row", "500", "--json"], env, 600)
    try:
        report = json.loads(done.stdout)
    except json.JSONDecodeError:
        report = {}
    methods = [key for key in ("lime", "shap", "anchor", "ice", "surrogate") if isinstance(report.get(key), dict)]
    print(f"[smoke] explain: {methods}; anchor rule: {report.get('anchor', {}).get('rule')}")
    if done.returncode != 0 or len(methods) != 5 or not report["anchor"].get("rule"):
        return [f"explain --method all: exit {done.returncode}, methods {methods}: {done.stderr[-1000:]}"]
    return []


def check_opcua(bundle: Path, env: dict) -> list[str]:
    done = run(bundle, ["-c", OPCUA_PROBE, str(free_port())], env, 180)
    print(f"[smoke] OPC UA (Basic256Sha256, SignAndEncrypt): samples, state: {done.stdout.strip()}")
    received, _, state = done.stdout.strip().partition(" ")
    if done.returncode != 0 or not received.isdigit() or int(received) < 10 or state != "CONNECTED":
        return [f"OPC UA simulator and source: {done.stdout.strip()} {done.stderr[-1000:]}"]
    return []


def check_mlflow_ui(bundle: Path, env: dict) -> list[str]:
    done = run(bundle, ["-c", MLFLOW_UI_PROBE], env, 300)
    print(f"[smoke] MLflow UI: page bytes, HTML, experiments: {done.stdout.strip()}")
    fields = done.stdout.split()
    if done.returncode != 0 or len(fields) != 3 or fields[1] != "True" or int(fields[2]) < 1:
        return [f"MLflow UI: {done.stdout.strip()} {done.stderr[-1500:]}"]
    return []


def check_autosklearn(bundle: Path, env: dict) -> list[str]:
    """A real auto-sklearn search in the AutoML runtime, its model scored by the prediction sidecar."""
    done = run(bundle, ["train", "--engine", "auto-sklearn", "--budget", "60", "--search-space", "tree-ensembles",
                        "--skip-loeo", "--progress-json"], env, 900)
    events = []
    for line in done.stdout.splitlines():
        try:
            events.append(json.loads(line))
        except json.JSONDecodeError:
            pass
    trials = [e.get("status") for e in events if e.get("event") == "trial"]
    result = next((e["training"] for e in reversed(events) if "training" in e), {})
    accuracy = result.get("metrics", {}).get("seed", {}).get("accuracy")
    print(f"[smoke] auto-sklearn: trials {trials}, ensemble {[m.get('model') for m in result.get('ensemble', [])]}, "
          f"seed accuracy {accuracy}")
    if done.returncode != 0 or result.get("engine") != "auto-sklearn" or "SUCCESS" not in trials or accuracy is None:
        return [f"auto-sklearn training: exit {done.returncode}, trials {trials}: {done.stderr[-1500:]}"]
    return []


def main() -> int:
    bundle = Path(sys.argv[1] if len(sys.argv) > 1 else ROOT / "packaging" / "dist" / "cncwear")
    home, config, work = (Path(tempfile.mkdtemp(prefix=f"cncwear-smoke-{n}-")) for n in ("home", "config", "work"))
    env = {**os.environ, "CNCWEAR_HOME": str(home), "CNCWEAR_CONFIG_DIR": str(config), "QT_QPA_PLATFORM": "offscreen"}
    runtime_env = {k: v for k, v in env.items() if k != "LD_LIBRARY_PATH"}  # as automl/runtime.py automl_env()
    failures: list[str] = []

    version = run(bundle, ["--version"], env, 60)
    if version.returncode != 0 or not version.stdout.startswith("cncwear "):
        failures.append(f"--version: {version.stdout or version.stderr}")
    print(f"[smoke] {version.stdout.strip()}")

    validate = run(bundle, ["validate"], env, 300)
    if validate.returncode != 0:
        failures.append(f"validate on the bundled dataset: exit {validate.returncode}: {validate.stderr[-500:]}")

    store = f"sqlite:///{home / 'smoke-store.db'}"  # the store's revisions are files Alembic must find in the bundle
    upgraded = run(bundle, ["db", "upgrade", "--store", store], env, 120)
    current = run(bundle, ["db", "current", "--store", store], env, 120)
    print(f"[smoke] db: {current.stdout.strip().splitlines()[-1:] or current.stderr[-300:]}")
    if upgraded.returncode != 0 or current.returncode != 0 or "state: current" not in current.stdout:
        failures.append(f"db upgrade/current on a new store: {upgraded.stderr[-500:]}{current.stderr[-500:]}")

    # PostgreSQL: the driver is in the bundle when the answer is the closed port, not a missing module
    closed = run(bundle, ["db", "current", "--store", "postgresql+psycopg://smoke@127.0.0.1:9/none"], env, 120)
    print(f"[smoke] PostgreSQL driver: {closed.stderr.strip()[-200:]}")
    if closed.returncode != 2 or "Connection refused" not in closed.stderr:
        failures.append(f"db current on a closed PostgreSQL port: exit {closed.returncode}: {closed.stderr[-500:]}")

    failures += check_libraries(bundle, env, runtime_env)

    runtime = run(bundle, ["-c", RUNTIME_PROBE], env, 300)
    print(f"[smoke] AutoML runtime: {runtime.stdout.strip()}")
    if runtime.returncode != 0:
        failures.append(f"AutoML runtime probe: {runtime.stderr[-500:]}")
    elif (bundle / "automl-runtime").is_dir() and not runtime.stdout.startswith("True"):
        failures.append(f"the bundled AutoML runtime does not work: {runtime.stdout.strip()}")

    failures += check_screenshots(bundle, env)  # the first start trains the champion the checks below use
    failures += check_parquet(bundle, env, work)
    failures += check_explanations(bundle, env)
    failures += check_opcua(bundle, env)
    failures += check_mlflow_ui(bundle, env)
    if (bundle / "automl-runtime").is_dir():
        failures += check_autosklearn(bundle, env)

    for failure in failures:
        print(f"[smoke] FAILED: {failure}", file=sys.stderr)
    print("[smoke] passed" if not failures else f"[smoke] {len(failures)} check(s) failed")
    return 0 if not failures else 1


if __name__ == "__main__":
    sys.exit(main())
