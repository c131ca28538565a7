"""Finding and checking the AutoML runtime: a Python 3.9 venv with auto-sklearn 0.15.0.

auto-sklearn pins scikit-learn 0.24, which cannot share an environment with the main runtime
(alibi, shap and mlflow need scikit-learn >= 1.0), so it runs in separate processes.
``packaging/dev.sh`` creates the venv at ``<project>/.venv-automl``; ``packaging/build.sh`` puts a
relocatable copy in ``automl-runtime/`` beside the bundled app's executable. ``CNCWEAR_AUTOML_PYTHON``
points elsewhere (a path that does not exist counts as "not installed").
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from ..paths import project_root

_PROBE = (
    "import json, sys, autosklearn, autosklearn.classification, sklearn, numpy; "
    "print(json.dumps({'python': sys.version.split()[0], 'autosklearn': autosklearn.__version__, "
    "'sklearn': sklearn.__version__, 'numpy': numpy.__version__}))"
)


@dataclass(frozen=True)
class RuntimeStatus:
    available: bool
    python: str | None
    versions: dict
    message: str


def automl_python() -> Path | None:
    """The AutoML runtime's interpreter, or None when it is not installed."""
    override = os.environ.get("CNCWEAR_AUTOML_PYTHON")
    if override:
        return Path(override) if Path(override).exists() else None
    if getattr(sys, "frozen", False):
        candidate = Path(sys.executable).parent / "automl-runtime" / "bin" / "python3"
    else:
        scripts = "Scripts/python.exe" if sys.platform == "win32" else "bin/python"
        candidate = project_root() / ".venv-automl" / scripts
    return candidate if candidate.exists() else None


def sidecar_script() -> Path:
    """The prediction sidecar's script, run as ``<automl python> sidecar_server.py MODEL.pkl``.

    It imports its helpers (sidecar_speedups.py, forest_sum.py) as sibling files, so it runs from
    this folder as it is, in the source tree and in the bundle (packaging/cncwear.spec ships it as
    source).
    """
    return Path(__file__).resolve().with_name("sidecar_server.py")


def automl_env() -> dict[str, str]:
    """The environment for AutoML runtime processes.

    A PyInstaller bundle's bootloader points ``LD_LIBRARY_PATH`` at the bundle's own libraries
    (keeping the original in ``LD_LIBRARY_PATH_ORIG``); the Python 3.9 runtime must not load those.
    """
    env = dict(os.environ)
    if getattr(sys, "frozen", False):
        original = env.pop("LD_LIBRARY_PATH_ORIG", None)
        if original:
            env["LD_LIBRARY_PATH"] = original
        else:
            env.pop("LD_LIBRARY_PATH", None)
    return env


def check_runtime(timeout: float = 180.0) -> RuntimeStatus:
    """Import auto-sklearn in the AutoML runtime and report its versions."""
    python = automl_python()
    if python is None:
        return RuntimeStatus(False, None, {}, "AutoML runtime not installed (needs Python 3.9 on Linux); FLAML is used instead")
    try:
        done = subprocess.run([str(python), "-c", _PROBE], capture_output=True, text=True, timeout=timeout,
                              env=automl_env())
    except (OSError, subprocess.TimeoutExpired) as error:
        return RuntimeStatus(False, str(python), {}, f"AutoML runtime at {python} did not start: {error}")
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return RuntimeStatus(False, str(python), {}, f"auto-sklearn does not import in {python}: {last}")
    versions = json.loads(done.stdout.strip().splitlines()[-1])
    return RuntimeStatus(True, str(python), versions, f"auto-sklearn {versions['autosklearn']} on Python {versions['python']}")
