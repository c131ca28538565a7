"""Typed, versioned user settings, stored as JSON in the user config directory (platformdirs).

``CNCWEAR_CONFIG_DIR`` replaces the directory (tests set it, so they never touch a real user's
config). Loading never loses a value the user saved:

- a field of the wrong type or out of its bounds falls back to its default alone, and a notice
  names it (``load_settings_report``); every other field keeps its value;
- unknown keys (a typo, or a newer version's settings) are kept in ``extra`` and written back
  unchanged by ``save_settings``; a file from a newer version keeps its version number;
- a file that is not JSON at all (empty, truncated) is copied aside byte for byte
  (``settings.json.unreadable-<time>``, never over an earlier copy) and the app starts on defaults;
- a missing data directory or watched folder is no reason to change anything: it is a
  ``folder_problems()`` problem, shown where the folder is used (an unmounted share comes back).

Older versions are migrated. This module is the bottom layer: it imports nothing of cncwear_gui.
"""

from __future__ import annotations

import json
import logging
import math
import os
import re
import time
from dataclasses import MISSING, asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from .atomic_files import write_atomic
from .roles import DEFAULT_ROLE, INVALID_ROLE_FALLBACK, role_problem

log = logging.getLogger(__name__)
SETTINGS_VERSION = 1
THEMES = ("light", "dark")
PIPELINE_ENGINES = ("flaml", "auto-sklearn")


def dask_address_problem(address: str) -> str | None:
    """Why a Dask scheduler address is unusable, or None (the form Dask's Client takes: tcp://host:port)."""
    if re.fullmatch(r"(tcp|tls)://[^\s/:]+:\d{1,5}", address.strip()):
        return None
    return f"Dask scheduler address {address!r} must look like tcp://host:8786 (or tls://host:port)"


def _between(low, high, message, low_open=False, high_open=False):
    def check(value):
        above = value > low if low_open else value >= low
        below = value < high if high_open else value <= high
        return None if above and below else message
    return check


# The bounds of single fields: what the Settings dialog refuses, and what loading replaces by the default.
_BOUNDS = {
    "worn_threshold": _between(0.0, 1.0, "worn threshold must be between 0 and 1 (exclusive)", True, True),
    "smoothing_window": _between(1, 6000, "smoothing window must be between 1 and 6000 samples"),
    "alarm_delay_samples": _between(1, 6000, "alarm delay must be between 1 and 6000 samples"),
    "demo_replay_speed": _between(0, 100, "demo replay speed must be above 0 and at most 100", low_open=True),
    "theme": lambda value: None if value in THEMES else f"theme must be one of {', '.join(THEMES)}",
    "metrics_port": _between(1, 65535, "metrics port must be between 1 and 65535"),
    "pipeline_engine": lambda value: None if value in PIPELINE_ENGINES else "pipeline engine must be flaml or auto-sklearn",
    "pipeline_budget_s": lambda value: None if value >= 5 else "pipeline budget must be at least 5 seconds",
    "dask_scheduler": lambda value: dask_address_problem(value) if value else None,
    "pipeline_schedule_hours": lambda value: (None if value >= 0
                                              else "pipeline schedule must be 0 (off) or a positive number of hours"),
    "degradation_accuracy": _between(0.0, 1.0, "degradation accuracy threshold must be above 0 and at most 1", low_open=True),
    "teach_runs": _between(1, 100, "teach-in runs must be between 1 and 100"),
    "taught_warn_pct": _between(0, 999, "the taught warning limit must be above 0 and at most 999 %", low_open=True),
    "taught_alarm_pct": _between(0, 999, "the taught alarm limit must be above 0 and at most 999 %", low_open=True),
    "taught_delay_windows": _between(1, 1000, "the taught alarm delay must be 1 to 1000 windows"),
    "prediction_log_retention_days": _between(1, 36500, "prediction-log retention must be 1 to 36500 days"),
    "min_free_disk_mb": _between(0, 10_000_000, "the free-disk floor must be 0 (off) to 10000000 MB"),
    "role": role_problem,
}
# What loading uses instead of a value out of bounds, where that is not the default: an unknown role
# (a typo, a newer version's role) shows the fewest views, never every view.
_FALLBACKS = {"role": INVALID_ROLE_FALLBACK}


@dataclass
class Settings:
    version: int = SETTINGS_VERSION
    data_dir: str = ""  # empty: the bundled dataset
    mlflow_tracking_uri: str = ""  # empty: sqlite in the user data dir
    feature_store_url: str = ""  # empty: sqlite in the user data dir
    worn_threshold: float = 0.5
    smoothing_window: int = 30  # samples in the rolling mean behind the wear light (3 s at 10 Hz)
    alarm_delay_samples: int = 20  # the smoothed state stays WORN this long before the alarm is raised
    alarm_sound: bool = False
    machines: list = field(default_factory=list)  # "ID=SOURCE" specs; empty: the demo replays
    demo_replay_speed: float = 1.0  # the demo replays' speed (1 = the machine's real 10 Hz)
    theme: str = "light"
    metrics_bind_address: str = "127.0.0.1"  # loopback by default; LAN binding is opt-in
    metrics_port: int = 9464
    metrics_tls_cert: str = ""  # both set: /metrics is served over HTTPS
    metrics_tls_key: str = ""
    pipeline_engine: str = "flaml"  # the automated pipeline's AutoML engine
    pipeline_budget_s: int = 60
    dask_scheduler: str = ""  # auto-sklearn trains on this Dask cluster (tcp://host:8786); empty: this PC
    pipeline_schedule_hours: float = 0.0  # 0: no scheduled retraining
    pipeline_watch_dir: str = ""  # new experiment files here fire the new-data trigger
    degradation_accuracy: float = 0.8  # labelled feedback below this fires the degradation trigger
    degradation_min_labels: int = 20
    teach_runs: int = 1  # a teach-in learns from this many good runs
    relearn_after_tool_change: bool = True  # a tool change starts a teach-in of the machine's setup
    taught_warn_pct: float = 15.0  # default limits over the taught value (each setup can have its own)
    taught_alarm_pct: float = 30.0
    taught_delay_windows: int = 3  # consecutive 2 s windows over the alarm limit before the alarm
    prediction_log_retention_days: int = 30  # raw prediction rows kept this long; roll-ups for good
    min_free_disk_mb: int = 1024  # under this much free disk, raw prediction rows stop (roll-ups go on); 0: off
    role: str = DEFAULT_ROLE  # this PC's role (roles.py): which views and menus it shows
    role_pin_hash: str = ""  # roles.hash_pin of the PIN IT set; empty: no PIN (roles are not protected)
    kiosk: bool = False  # open full screen on the Operator view, operator actions only (cncwear gui --kiosk)
    window_geometry: str = ""  # base64 of QWidget.saveGeometry()
    window_state: str = ""
    extra: dict = field(default_factory=dict)  # keys this version does not know, written back as they came

    def field_problems(self) -> dict[str, str]:
        """The fields out of their bounds, each with why."""
        problems = {}
        for name, check in _BOUNDS.items():
            if problem := check(getattr(self, name)):
                problems[name] = problem
        return problems

    def validate(self) -> list[str]:
        """Human-readable problems the Settings dialog refuses to save; empty when the settings are usable.
        A missing folder is none of them (see ``folder_problems``)."""
        problems = list(self.field_problems().values())
        if bool(self.metrics_tls_cert) != bool(self.metrics_tls_key):
            problems.append("metrics TLS needs both a certificate file and a key file")
        if self.taught_warn_pct > self.taught_alarm_pct:
            problems.append("the taught warning limit must not be above the alarm limit")
        return problems

    def data_dir_problem(self) -> str | None:
        if self.data_dir and not Path(self.data_dir).expanduser().is_dir():
            return f"data directory {self.data_dir} does not exist"
        return None

    def watch_dir_problem(self) -> str | None:
        if self.pipeline_watch_dir and not Path(self.pipeline_watch_dir).expanduser().is_dir():
            return f"watched folder {self.pipeline_watch_dir} does not exist"
        return None

    def folder_problems(self) -> list[str]:
        """Configured folders that are not there (now): shown where they are used, never a reason to reset
        anything — a network share may simply not be mounted yet."""
        return [problem for problem in (self.data_dir_problem(), self.watch_dir_problem()) if problem]


# Where windows were is no setting change; the role and the PIN have their own audit actions
# (settings.role_changed, settings.pin_changed: ui/role_dialog.py), and a PIN hash never goes to the trail.
NOT_AUDITED = ("version", "window_geometry", "window_state", "role", "role_pin_hash")


def settings_changes(old: Settings, new: Settings) -> list[tuple[str, str, str]]:
    """(setting, old value, new value) as JSON text, for the audit trail."""
    return [(f.name, json.dumps(getattr(old, f.name)), json.dumps(getattr(new, f.name)))
            for f in fields(Settings) if f.name not in NOT_AUDITED and getattr(old, f.name) != getattr(new, f.name)]


def config_dir() -> Path:
    override = os.environ.get("CNCWEAR_CONFIG_DIR")
    if override:
        path = Path(override)
    else:
        import platformdirs

        path = Path(platformdirs.user_config_dir("cncwear", appauthor=False))
    path.mkdir(parents=True, exist_ok=True)
    return path


def settings_path() -> Path:
    return config_dir() / "settings.json"


# -- loading ------------------------------------------------------------------------------------

def _default(name: str):
    f = next(f for f in fields(Settings) if f.name == name)
    return f.default_factory() if f.default is MISSING else f.default


def _typed(kind: str, value: Any) -> tuple[Any, str | None]:
    """The value as the field's type and None, or (None, why it cannot be)."""
    if kind == "bool":
        return (value, None) if isinstance(value, bool) else (None, "must be true or false")
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    if kind == "int":
        if number and math.isfinite(value) and float(value).is_integer():
            return int(value), None
        return None, "must be a whole number"
    if kind == "float":
        if number and math.isfinite(value):
            return float(value), None
        return None, "must be a number"
    if kind == "str":
        return (value, None) if isinstance(value, str) else (None, "must be text")
    if kind == "list":  # the machine list: ID=SOURCE texts
        if isinstance(value, str):
            return [value], None
        if isinstance(value, list) and all(isinstance(item, str) for item in value):
            return list(value), None
        return None, "must be a list of texts"
    if kind == "dict":
        return (dict(value), None) if isinstance(value, dict) else (None, "must be an object")
    raise AssertionError(f"no type check for {kind}")


def _version_of(raw: dict) -> tuple[int, str | None]:
    value = raw.get("version", 0)
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value, None
    return SETTINGS_VERSION, f"its version {value!r} is not a version number; it was read as version {SETTINGS_VERSION}"


def _migrate(raw: dict, version: int) -> dict:
    if version < 1 and "threshold" in raw and "worn_threshold" not in raw:  # v0 (never released) called it "threshold"
        raw["worn_threshold"] = raw.pop("threshold")
    return raw


def _keep_copy(path: Path, data: bytes, tag: str) -> str:
    """``data`` beside ``path`` as ``<name>.<tag>-<time>``: never over an earlier copy, and not again when a copy
    with these very bytes is there already (the pipeline watcher loads the settings every round).
    Where the copy is, in words."""
    try:
        return str(_write_copy(path, data, tag))
    except OSError as error:
        return f"nowhere: a copy could not be written ({error})"


def _write_copy(path: Path, data: bytes, tag: str) -> Path:
    for earlier in sorted(path.parent.glob(f"{path.name}.{tag}-*")):
        try:
            if earlier.read_bytes() == data:
                return earlier
        except OSError:
            continue
    stamp = time.strftime("%Y%m%d-%H%M%S")
    copy, number = path.with_name(f"{path.name}.{tag}-{stamp}"), 1
    while True:
        try:
            with open(copy, "xb") as out:  # x: fails rather than overwrite
                out.write(data)
            return copy
        except FileExistsError:
            number += 1
            copy = path.with_name(f"{path.name}.{tag}-{stamp}-{number}")


_logged: set[tuple[str, str]] = set()


def _log_once(path: Path, notices: list[str]) -> None:
    for notice in notices:
        if (str(path), notice) not in _logged:
            _logged.add((str(path), notice))
            log.warning("%s", notice)


def _from_raw(raw: dict, path: Path, data: bytes) -> tuple[Settings, list[str]]:
    notices = []
    version, version_problem = _version_of(raw)
    if version_problem:
        notices.append(f"settings file {path}: {version_problem}")
    raw = _migrate(dict(raw), version)
    kinds = {f.name: f.type for f in fields(Settings) if f.name not in ("version", "extra")}
    values: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    replaced: dict[str, str] = {}  # field: what was wrong with the file's value
    for key, value in raw.items():
        if key == "version":
            continue
        if key == "extra" and isinstance(value, dict):  # files saved before unknown keys were kept at the top level
            extra.update({k: v for k, v in value.items() if k not in kinds and k not in extra})
            continue
        if key not in kinds:
            extra[key] = value
            continue
        typed, why = _typed(kinds[key], value)
        if why is None:
            values[key] = typed
        else:
            replaced[key] = f"{json.dumps(value, default=str)}, but {why}"
    settings = Settings(**values, extra=extra)
    for name, why in settings.field_problems().items():  # in bounds, or the default (the fallback)
        replaced[name] = f"{json.dumps(getattr(settings, name))}, but {why}"
        setattr(settings, name, _FALLBACKS.get(name, _default(name)))
    newer = version > SETTINGS_VERSION
    settings.version = version if newer else SETTINGS_VERSION  # a newer file keeps its version when saved back
    copy = _keep_copy(path, data, f"v{version}" if newer else "invalid") if (newer or replaced) else None
    for name, why in replaced.items():
        used = f"the default {json.dumps(_default(name))}" if name not in _FALLBACKS else json.dumps(_FALLBACKS[name])
        notices.append(f"setting {name} in {path} is {why}: using {used} "
                       f"(every other setting is kept; the file as it was is kept as {copy})")
    if newer:
        unknown = f" the settings it does not know ({', '.join(sorted(extra))}) are kept and written back unchanged;" if extra else ""
        notices.append(f"settings file {path} was written by a newer cncwear (settings version {version}; this one "
                       f"knows {SETTINGS_VERSION}): the settings this version knows are used;{unknown} a copy of the file "
                       f"is kept as {copy}")
    elif extra:
        notices.append(f"settings file {path} has setting(s) this version does not know: {', '.join(sorted(extra))} "
                       "(a typo?); they are not used, and kept in the file as they are")
    return settings, notices


def load_settings_report(path: Path | None = None) -> tuple[Settings, list[str]]:
    """The settings, and notices for the user about anything in the file that could not be used as it is
    (empty when the file is fine). The notices are logged once per process as warnings, too."""
    path = path or settings_path()
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return Settings(), []
    except OSError as error:
        notices = [f"settings file {path} could not be read ({error}); using default settings for now, "
                   "the file is left as it is"]
        _log_once(path, notices)
        return Settings(), notices
    try:
        raw = json.loads(data.decode("utf-8"))
        if not isinstance(raw, dict):
            raise ValueError(f"a JSON {type(raw).__name__}, not an object")
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        copy = _keep_copy(path, data, "unreadable")
        what = "is empty" if not data.strip() else f"is not a settings file ({error}; cut short?)"
        notices = [f"settings file {path} {what}: the app starts on default settings; the file as it was is kept "
                   f"as {copy}"]
        _log_once(path, notices)
        return Settings(), notices
    settings, notices = _from_raw(raw, path, data)
    _log_once(path, notices)
    return settings, notices


def load_settings(path: Path | None = None) -> Settings:
    """The settings; whatever could not be used is logged (see ``load_settings_report``)."""
    return load_settings_report(path)[0]


def settings_json(settings: Settings) -> dict:
    """The file's content: the known fields, and the unknown keys kept from the file at the top level."""
    known = asdict(settings)
    extra = known.pop("extra")
    return {**{k: v for k, v in extra.items() if k not in known}, **known}


def save_settings(settings: Settings, path: Path | None = None) -> None:
    """Write atomically: a crash mid-write never leaves half a settings file."""
    write_atomic(path or settings_path(), json.dumps(settings_json(settings), indent=2, sort_keys=True))
