"""Where cncwear keeps its files.

User data (feature store, MLflow store and artifacts) lives in the platform's user data
directory (platformdirs). ``CNCWEAR_HOME`` overrides it, which is how tests and CI keep away
from a real user's stores.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

APP_NAME = "cncwear"


def user_data_dir() -> Path:
    """The directory for the app's stores; created on first use."""
    override = os.environ.get("CNCWEAR_HOME")
    if override:
        path = Path(override).expanduser()
    else:
        import platformdirs

        path = Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))
    path.mkdir(parents=True, exist_ok=True)
    return path


def log_dir() -> Path:
    """The app's log files (``CNCWEAR_HOME``/logs when set); created on first use."""
    home = os.environ.get("CNCWEAR_HOME")
    if home:
        path = Path(home) / "logs"
    else:
        import platformdirs

        path = Path(platformdirs.user_log_dir("cncwear", appauthor=False))
    path.mkdir(parents=True, exist_ok=True)
    return path


def project_root() -> Path:
    """The source checkout (or the PyInstaller bundle directory when frozen)."""
    frozen_root = getattr(sys, "_MEIPASS", None)
    if frozen_root:
        return Path(frozen_root)
    return Path(__file__).resolve().parent.parent


def resources_dir() -> Path:
    override = os.environ.get("CNCWEAR_RESOURCES")
    return Path(override) if override else project_root() / "resources"


def bundled_dataset_dir() -> Path:
    """The UMich SMART CNC milling dataset shipped with the app (CC0)."""
    return resources_dir() / "data" / "cnc_mill_tool_wear"
