"""Smoke test of a built bundle: it starts, answers on the command line, finds its AutoML runtime
(when one was bundled) and renders every view to PNG offscreen.

    .venv/bin/python packaging/smoke_test.py packaging/dist/cncwear

Runs against fresh, temporary stores (CNCWEAR_HOME, CNCWEAR_CONFIG_DIR), so the GUI goes through
its first start (training a champion). The views it must render are the ones the user guide shows:
docs/screenshots/*.png. Exit 0 when everything passed, 1 otherwise.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
EXPECTED_VIEWS = sorted(path.stem for path in (ROOT / "docs" / "screenshots").glob("*.png"))
RUNTIME_PROBE = "from cncwear_gui.automl.runtime import check_runtime; s = check_runtime(); print(s.available, s.message)"


def run(bundle: Path, arguments: list[str], env: dict, timeout: float) -> subprocess.CompletedProcess:
    started = time.monotonic()
    done = subprocess.run([str(bundle / "cncwear"), *arguments], capture_output=True, text=True, env=env, timeout=timeout)
    print(f"[smoke] cncwear {' '.join(a if len(a) < 40 else a[:37] + '...' for a in arguments)}: "
          f"exit {done.returncode} in {time.monotonic() - started:.1f} s")
    return done


def blank(png: Path) -> bool:
    """A grab of an empty or unrendered window has (almost) a single colour."""
    with Image.open(png) as image:
        colours = image.convert("RGB").getcolors(maxcolors=64)
    return colours is not None and len(colours) < 16


def main() -> int:
    bundle = Path(sys.argv[1] if len(sys.argv) > 1 else ROOT / "packaging" / "dist" / "cncwear")
    home, config, shots = (Path(tempfile.mkdtemp(prefix=f"cncwear-smoke-{n}-")) for n in ("home", "config", "shots"))
    env = {**os.environ, "CNCWEAR_HOME": str(home), "CNCWEAR_CONFIG_DIR": str(config), "QT_QPA_PLATFORM": "offscreen"}
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

    runtime = run(bundle, ["-c", RUNTIME_PROBE], env, 300)
    print(f"[smoke] AutoML runtime: {runtime.stdout.strip()}")
    if runtime.returncode != 0:
        failures.append(f"AutoML runtime probe: {runtime.stderr[-500:]}")
    elif (bundle / "automl-runtime").is_dir() and not runtime.stdout.startswith("True"):
        failures.append(f"the bundled AutoML runtime does not work: {runtime.stdout.strip()}")

    gui = run(bundle, ["gui", "--screenshot", str(shots)], env, 900)
    if gui.returncode != 0:
        failures.append(f"gui --screenshot: exit {gui.returncode}: {gui.stderr[-2000:]}")
    for view in EXPECTED_VIEWS:
        png = shots / f"{view}.png"
        if not png.is_file():
            failures.append(f"{view}.png was not rendered")
        elif blank(png):
            failures.append(f"{view}.png is blank")
    print(f"[smoke] screenshots in {shots}: {sorted(p.name for p in shots.glob('*.png'))}")

    for failure in failures:
        print(f"[smoke] FAILED: {failure}", file=sys.stderr)
    print("[smoke] passed" if not failures else f"[smoke] {len(failures)} check(s) failed")
    return 0 if not failures else 1


if __name__ == "__main__":
    sys.exit(main())
