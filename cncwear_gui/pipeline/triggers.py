"""When the pipeline should run: the five triggers, each a check that says whether it fires and why."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from ..data.csvtext import file_sha256
from ..store.database import utcnow
from ..store.pipeline_history import PipelineHistory


@dataclass
class TriggerCheck:
    trigger: str
    fires: bool
    reason: str
    context: dict = field(default_factory=dict)


def manual(who: str, where: str) -> TriggerCheck:
    return TriggerCheck("manual", True, f"requested by {who} from {where}")


def schedule(history: PipelineHistory, interval_hours: float, now: datetime | None = None) -> TriggerCheck:
    """Due when the last scheduled firing is ``interval_hours`` old; the history makes it survive restarts."""
    if interval_hours <= 0:
        return TriggerCheck("schedule", False, "no schedule configured (pipeline_schedule_hours is 0)")
    now = now or utcnow()
    last = history.last_fired("schedule")
    if last is None:
        return TriggerCheck("schedule", True, f"scheduled every {interval_hours:g} h; never run before")
    due = last + timedelta(hours=interval_hours)
    if now < due:
        return TriggerCheck("schedule", False, f"next scheduled run at {due:%Y-%m-%d %H:%M} UTC", {"due": due.isoformat()})
    return TriggerCheck("schedule", True,
                        f"scheduled every {interval_hours:g} h; last run {last:%Y-%m-%d %H:%M} UTC", {"due": due.isoformat()})


def _file_hashes(folder: Path) -> dict[str, str]:
    hashes = {}
    for path in sorted(folder.glob("*.csv")):
        if path.is_file():
            hashes[file_sha256(path)] = str(path)
    return hashes


def new_data(history: PipelineHistory, watch_dir: str) -> TriggerCheck:
    """Fires for CSV files in the watched folder whose content was not seen before."""
    if not watch_dir:
        return TriggerCheck("new-data", False, "no watched folder configured")
    folder = Path(watch_dir).expanduser()
    if not folder.is_dir():
        return TriggerCheck("new-data", False, f"watched folder {folder} does not exist (not mounted?); waiting for it")
    unseen = history.unseen(_file_hashes(folder))
    if not unseen:
        return TriggerCheck("new-data", False, f"no new files in {folder}")
    names = sorted(Path(p).name for p in unseen.values())
    shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
    return TriggerCheck("new-data", True, f"{len(names)} new file(s) in {folder}: {shown}",
                        {"files": unseen, "folder": str(folder)})


def degradation(history: PipelineHistory, model_version: str | None, threshold: float, min_labels: int) -> TriggerCheck:
    """Fires when operators' labelled feedback shows the champion's accuracy under ``threshold``;
    ``model_version`` None: there is no champion yet."""
    if model_version is None:
        return TriggerCheck("degradation", False, "no champion yet, so no feedback to judge")
    accuracy, labels = history.feedback_accuracy(model_version, last=max(min_labels, 50))
    if accuracy is None or labels < min_labels:
        return TriggerCheck("degradation", False,
                            f"{labels} labelled prediction(s) for model v{model_version}; {min_labels} needed to judge")
    context = {"accuracy": accuracy, "labels": labels, "threshold": threshold, "model_version": model_version}
    if accuracy >= threshold:
        return TriggerCheck("degradation", False,
                            f"model v{model_version} was right on {accuracy:.0%} of the last {labels} labelled predictions", context)
    return TriggerCheck("degradation", True,
                        f"model v{model_version} was right on only {accuracy:.0%} of the last {labels} labelled "
                        f"predictions (threshold {threshold:.0%})", context)


def _top(report, n: int = 5) -> list[dict]:
    return [{"feature": f.name, "psi": f.psi, "ks": f.ks} for f in report.top(n) if f.psi is not None]


def drift(files: list, source: str) -> TriggerCheck:
    """Fires when a new file drifted from the champion's training runs of its own setup
    (``(file, drift.DriftReport)`` per file, from the per-setup check). A file of an unfamiliar
    setup is named as such and never fires: there is no run of that job to compare with."""
    drifted = [(path, r) for path, r in files if r.drifted]
    unfamiliar = [(path, r) for path, r in files if r.unfamiliar]
    context = {
        "source": source,
        "rows": sum(r.n_rows for _, r in files),
        "files": [{"file": path, "setup": r.setup, "drifted": r.drifted, "unfamiliar": r.unfamiliar,
                   "top_features": _top(r, 3)} for path, r in files],
        "top_features": _top(drifted[0][1]) if drifted else [],
    }
    note = ""
    if unfamiliar:
        named = ", ".join(f"{Path(path).name} ({r.setup})" for path, r in unfamiliar)
        note = f"; {len(unfamiliar)} file(s) of an unfamiliar setup, not judged as drift: {named}"
    if not drifted:
        judged = [r for _, r in files if not r.unfamiliar]
        largest = max((f for r in judged for f in r.features if f.psi is not None), key=lambda f: f.psi, default=None)
        detail = f"; largest PSI {largest.psi:.3f} ({largest.name})" if largest else ""
        return TriggerCheck("drift", False, f"no drift over the threshold in {source}{detail}{note}", context)
    parts = [f"{Path(path).name} ({r.setup}): " + "; ".join(r.reasons[1:] or r.reasons) for path, r in drifted]
    return TriggerCheck("drift", True, f"data drift in {source}: " + " | ".join(parts) + note, context)
