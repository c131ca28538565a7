"""The core is Qt-free and never imports the ui layer (import-linter contracts in pyproject.toml)."""

import ast
import shutil
import subprocess
import sys
from pathlib import Path

from helpers import ROOT

QT_MODULES = ("PySide6", "shiboken6", "pyqtgraph", "superqt", "qtpy")


def test_import_linter_contracts_hold():
    lint = Path(sys.executable).with_name("lint-imports")
    assert lint.exists() or shutil.which("lint-imports"), "import-linter is not installed"
    done = subprocess.run([str(lint) if lint.exists() else "lint-imports"], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Contracts: 2 kept, 0 broken" in done.stdout


def test_no_qt_import_outside_ui_even_inside_functions():
    offenders = []
    for path in (ROOT / "cncwear_gui").rglob("*.py"):
        if "ui" in path.relative_to(ROOT / "cncwear_gui").parts[:1]:
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            offenders += [f"{path}:{node.lineno} {n}" for n in names if n.split(".")[0] in QT_MODULES]
    assert not offenders, offenders


def test_core_imports_without_loading_qt_or_heavy_libraries():
    code = (
        "import sys, cncwear_gui.cli, cncwear_gui.data.dataset, cncwear_gui.store.feature_store, "
        "cncwear_gui.models.benchmark, cncwear_gui.automl.runtime; "
        "bad = [m for m in ('PySide6', 'pyqtgraph', 'shap', 'alibi', 'mlflow', 'lime') if m in sys.modules]; "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
