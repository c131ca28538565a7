"""Typed, versioned user settings, stored as JSON in the user config directory (platformdirs).

``CNCWEAR_CONFIG_DIR`` replaces the directory (tests set it, so they never touch a real user's
config). Unknown keys are dropped, missing keys get defaults, older versions are migrated, and a
broken file is set aside (``settings.json.broken``) rather than crashing the app.
"""

from __future__ import annotations

import json
import logging
import os
import re
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

log = logging.getLogger(__name__)
SETTINGS_VERSION = 1
THEMES = ("light", "dark")


def dask_address_problem(address: str) -> str | None:
    """Why a Dask scheduler address is unusable, or None (the form Dask's Client takes: tcp://host:port)."""
    if re.fullmatch(r"(tcp|tls)://[^\s/:]+:\d{1,5}", address.strip()):
        return None
    return f"Dask scheduler address {address!r} must look like tcp://host:8786 (or tls://host:port)"


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
    window_geometry: str = ""  # base64 of QWidget.saveGeometry()
    window_state: str = ""
    extra: dict = field(default_factory=dict)

    def validate(self) -> list[str]:
        """Human-readable problems; empty when the settings are usable."""
        problems = []
        if not 0.0 < self.worn_threshold < 1.0:
            problems.append("worn threshold must be between 0 and 1 (exclusive)")
        if not 1 <= self.smoothing_window <= 6000:
            problems.append("smoothing window must be between 1 and 6000 samples")
        if not 1 <= self.alarm_delay_samples <= 6000:
            problems.append("alarm delay must be between 1 and 6000 samples")
        if not 0 < self.demo_replay_speed <= 100:
            problems.append("demo replay speed must be above 0 and at most 100")
        if self.theme not in THEMES:
            problems.append(f"theme must be one of {', '.join(THEMES)}")
        if not 1 <= self.metrics_port <= 65535:
            problems.append("metrics port must be between 1 and 65535")
        if bool(self.metrics_tls_cert) != bool(self.metrics_tls_key):
            problems.append("metrics TLS needs both a certificate file and a key file")
        if self.pipeline_engine not in ("flaml", "auto-sklearn"):
            problems.append("pipeline engine must be flaml or auto-sklearn")
        if self.pipeline_budget_s < 5:
            problems.append("pipeline budget must be at least 5 seconds")
        if self.dask_scheduler and (problem := dask_address_problem(self.dask_scheduler)):
            problems.append(problem)
        if self.pipeline_schedule_hours < 0:
            problems.append("pipeline schedule must be 0 (off) or a positive number of hours")
        if self.pipeline_watch_dir and not Path(self.pipeline_watch_dir).expanduser().is_dir():
            problems.append(f"watched folder {self.pipeline_watch_dir} does not exist")
        if not 0.0 < self.degradation_accuracy <= 1.0:
            problems.append("degradation accuracy threshold must be above 0 and at most 1")
        if self.data_dir and not Path(self.data_dir).expanduser().is_dir():
            problems.append(f"data directory {self.data_dir} does not exist")
        return problems


    def machine_problems(self) -> list[str]:
        """Problems of the machine list; kept out of ``validate`` so a moved file never resets
        the whole settings file (the Operator view shows such a machine's problem instead)."""
        from .live.sources import MachineSpec, SourceSpecError

        problems, seen = [], set()
        for text in self.machines:
            try:
                spec = MachineSpec.parse(text)
            except SourceSpecError as error:
                problems.append(str(error).replace("--machine ", "machine "))
                continue
            if spec.machine in seen:
                problems.append(f"machine id {spec.machine} is given more than once")
            seen.add(spec.machine)
        return problems


NOT_AUDITED = ("version", "window_geometry", "window_state")  # where windows were is no setting change


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


def _migrate(raw: dict) -> dict:
    version = int(raw.get("version", 0))
    if version < 1:  # v0 (never released) called the threshold "threshold"
        if "threshold" in raw:
            raw["worn_threshold"] = raw.pop("threshold")
        raw["version"] = 1
    return raw


def load_settings(path: Path | None = None) -> Settings:
    path = path or settings_path()
    if not path.exists():
        return Settings()
    try:
        raw = _migrate(json.loads(path.read_text()))
        known = {f.name for f in fields(Settings)}
        settings = Settings(**{k: v for k, v in raw.items() if k in known})
        settings.version = SETTINGS_VERSION
        if settings.validate():
            raise ValueError("; ".join(settings.validate()))
        return settings
    except (ValueError, TypeError) as error:
        broken = path.with_suffix(".json.broken")
        path.replace(broken)
        log.warning("settings file %s was unusable (%s); moved to %s, using defaults", path, error, broken)
        return Settings()


def save_settings(settings: Settings, path: Path | None = None) -> None:
    """Write atomically: a crash mid-write never leaves half a settings file."""
    path = path or settings_path()
    temporary = path.with_suffix(".json.tmp")
    temporary.write_text(json.dumps(asdict(settings), indent=2, sort_keys=True))
    temporary.replace(path)
