"""Shared fixtures. Tests never touch the user's stores: CNCWEAR_HOME points into a temp dir."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.pop("CNCWEAR_MLFLOW_URI", None)

ROOT = Path(__file__).resolve().parent.parent
BUNDLED = ROOT / "resources" / "data" / "cnc_mill_tool_wear"


@pytest.fixture(autouse=True, scope="session")
def _isolated_home(tmp_path_factory):
    home = tmp_path_factory.mktemp("cncwear-home")
    os.environ["CNCWEAR_HOME"] = str(home)
    yield home


@pytest.fixture
def home(tmp_path, monkeypatch):
    """A fresh, empty user data directory for one test."""
    path = tmp_path / "home"
    monkeypatch.setenv("CNCWEAR_HOME", str(path))
    return path


@pytest.fixture(scope="session")
def bundled_dir() -> Path:
    return BUNDLED


@pytest.fixture(scope="session")
def bundled_dataset(bundled_dir):
    from cncwear_gui.data.dataset import load_dataset

    return load_dataset([bundled_dir])


@pytest.fixture
def data_copy(tmp_path, bundled_dir) -> Path:
    """A writable copy of the bundled dataset folder."""
    target = tmp_path / "data"
    target.mkdir()
    for source in bundled_dir.glob("*.csv"):
        shutil.copyfile(source, target / source.name)
    return target


def run_cli(*args: str, env: dict | None = None, cwd: Path | None = None, timeout: float = 1800) -> subprocess.CompletedProcess:
    """Run the real ``cncwear`` command line in a subprocess."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "cncwear_gui.cli", *args],
        capture_output=True,
        text=True,
        env=full_env,
        cwd=cwd or ROOT,
        timeout=timeout,
    )
