"""Release metadata and the packaging files a build relies on: one version everywhere, a valid
desktop entry, and the bundle's entry point accepting the child-process forms the app uses."""

from __future__ import annotations

import importlib.metadata
import re
import shutil
import subprocess
import sys

import pytest
from helpers import ROOT

from cncwear_gui import __version__

ENTRY = ROOT / "packaging" / "pyinstaller" / "cncwear_entry.py"


def test_changelog_names_the_current_version_as_the_latest_release():
    changelog = (ROOT / "docs" / "CHANGELOG.md").read_text(encoding="utf-8")
    releases = re.findall(r"^## \[(\d+\.\d+\.\d+)\]", changelog, flags=re.MULTILINE)
    assert releases and releases[0] == __version__


def test_installed_metadata_carries_the_same_version():
    assert importlib.metadata.version("cncwear") == __version__


def test_cli_reports_the_version():
    done = subprocess.run([sys.executable, "-m", "cncwear_gui.cli", "--version"], capture_output=True, text=True, timeout=120)
    assert done.stdout.strip() == f"cncwear {__version__}"


@pytest.mark.skipif(shutil.which("desktop-file-validate") is None, reason="desktop-file-utils is not installed")
def test_desktop_entry_is_valid():
    done = subprocess.run(["desktop-file-validate", str(ROOT / "packaging" / "linux" / "cncwear.desktop")],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and not done.stdout.strip(), done.stdout + done.stderr


def test_bundle_entry_runs_code_and_modules_as_a_python_interpreter_would():
    """Frozen, ``sys.executable`` is the bundle's program; the app starts children with -c and -m."""
    code = subprocess.run([sys.executable, str(ENTRY), "-c", "import sys; print(sys.argv[1:])", "a", "b"],
                          capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert code.returncode == 0 and code.stdout.strip() == "['a', 'b']", code.stderr
    module = subprocess.run([sys.executable, str(ENTRY), "-m", "cncwear_gui.cli", "validate", "--json", "/nonexistent.csv"],
                            capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert module.returncode == 2, module.stderr  # the CLI ran and rejected the missing file
    assert "/nonexistent.csv" in module.stdout + module.stderr
