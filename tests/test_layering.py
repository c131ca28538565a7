"""The layered import contract, the Qt-free core and no import cycles (import-linter contracts in pyproject.toml)."""

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import ROOT

QT_MODULES = ("PySide6", "shiboken6", "pyqtgraph", "superqt", "qtpy")


def _lint_imports(root: Path) -> subprocess.CompletedProcess:
    lint = Path(sys.executable).with_name("lint-imports")
    assert lint.exists() or shutil.which("lint-imports"), "import-linter is not installed"
    return subprocess.run([str(lint) if lint.exists() else "lint-imports", "--no-cache"], cwd=root,
                          capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(root)})


def test_import_linter_contracts_hold():
    done = _lint_imports(ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Contracts: 3 kept, 0 broken" in done.stdout


@pytest.mark.parametrize("module, line, forbidden", [
    ("data/schema.py", "from ..models import predictor  # noqa", "cncwear_gui.data is not allowed to import cncwear_gui.models"),
    ("store/database.py", "def _late():\n    from ..pipeline import run  # noqa", "cncwear_gui.store is not allowed to import cncwear_gui.pipeline"),
    ("models/verdict.py", "def _late():\n    from ..live import engine  # noqa", "cncwear_gui.models is not allowed to import cncwear_gui.live"),
])
def test_an_upward_import_breaks_the_layers_contract(tmp_path, module, line, forbidden):
    """A copy of the package with one upward import (function-level ones count too) fails lint-imports."""
    shutil.copytree(ROOT / "cncwear_gui", tmp_path / "cncwear_gui", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    target = tmp_path / "cncwear_gui" / module
    target.write_text(target.read_text() + "\n\n" + line + "\n")
    done = _lint_imports(tmp_path)
    assert done.returncode != 0, done.stdout
    assert "Layers: a package imports only the layers below it BROKEN" in done.stdout
    assert forbidden in done.stdout


def test_no_import_cycles_between_core_modules():
    """A cycle hidden in a function is still a cycle: none between any two modules of the package."""
    import grimp

    graph = grimp.build_graph("cncwear_gui", cache_dir=None)
    modules = set(graph.modules)
    cycles = []
    for module in sorted(modules):
        for imported in sorted(graph.find_modules_directly_imported_by(module) & modules):
            if imported != module and graph.find_shortest_chain(importer=imported, imported=module):
                cycles.append(f"{module} -> {imported} -> ... -> {module}")
    assert not cycles, "\n".join(cycles)


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
