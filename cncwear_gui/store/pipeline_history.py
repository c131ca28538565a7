"""The record of every pipeline firing, and what the automatic triggers remember between runs.

Stored with SQLAlchemy in the same database as the feature store (SQLite in the user data dir by
default, a server database when the site configures one), so the schedule and the history
survive restarts and a central database sees every PC's firings.
"""

from __future__ import annotations

import json
import socket
from dataclasses import asdict, dataclass
from datetime import datetime

from sqlalchemy import JSON, Column, DateTime, Integer, MetaData, String, Table, Text, select

from .database import aware_utc, default_store_url, open_store, os_user, utcnow

metadata = MetaData()
firings = Table(
    "pipeline_firings",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("fired_at", DateTime(timezone=True), nullable=False, index=True),
    Column("trigger", String(32), nullable=False, index=True),
    Column("reason", Text, nullable=False),
    Column("status", String(16), nullable=False),  # running, promoted, kept, failed, skipped
    Column("finished_at", DateTime(timezone=True)),
    Column("host", String(255), nullable=False),
    Column("user", String(255), nullable=False),
    Column("detail", JSON, nullable=False),  # steps, run ids, gate verdict, error
)
seen_files = Table(
    "pipeline_seen_files",
    metadata,
    Column("sha256", String(64), primary_key=True),
    Column("path", String(1024), nullable=False),
    Column("seen_at", DateTime(timezone=True), nullable=False),
)
feedback = Table(
    "prediction_feedback",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("recorded_at", DateTime(timezone=True), nullable=False, index=True),
    Column("machine", String(255), nullable=False),
    Column("model_version", String(64), nullable=False, index=True),
    Column("predicted_worn", Integer, nullable=False),
    Column("actual_worn", Integer, nullable=False),
    Column("source", String(64), nullable=False),  # e.g. "false alarm", "inspection"
    Column("user", String(255), nullable=False),
)

FINAL_STATUSES = ("promoted", "kept", "failed", "skipped")


@dataclass
class Firing:
    id: int
    fired_at: datetime
    trigger: str
    reason: str
    status: str
    finished_at: datetime | None
    host: str
    user: str
    detail: dict

    def to_json(self) -> dict:
        data = asdict(self)
        data["fired_at"] = self.fired_at.isoformat(timespec="seconds")
        data["finished_at"] = self.finished_at and self.finished_at.isoformat(timespec="seconds")
        return data


class PipelineHistory:
    def __init__(self, url: str | None = None):
        self.engine = open_store(url, metadata)
        self.url = url or default_store_url()

    def close(self) -> None:
        self.engine.dispose()

    # -- firings -----------------------------------------------------------------------------
    def record(self, trigger: str, reason: str, status: str = "running", detail: dict | None = None) -> int:
        now = utcnow()
        with self.engine.begin() as conn:
            result = conn.execute(firings.insert().values(
                fired_at=now, trigger=trigger, reason=reason, status=status,
                finished_at=None if status == "running" else now,
                host=socket.gethostname(), user=os_user(), detail=detail or {}))
            return int(result.inserted_primary_key[0])

    def finish(self, firing_id: int, status: str, detail: dict) -> None:
        if status not in FINAL_STATUSES:
            raise ValueError(f"unknown final status {status}")
        with self.engine.begin() as conn:
            conn.execute(firings.update().where(firings.c.id == firing_id).values(
                status=status, finished_at=utcnow(), detail=json.loads(json.dumps(detail, default=str))))

    def firings(self, limit: int = 100, trigger: str | None = None) -> list[Firing]:
        query = select(firings).order_by(firings.c.id.desc()).limit(limit)
        if trigger:
            query = query.where(firings.c.trigger == trigger)
        with self.engine.connect() as conn:
            rows = conn.execute(query).mappings().all()
        return [Firing(**{**row, "fired_at": aware_utc(row["fired_at"]), "finished_at": aware_utc(row["finished_at"])})
                for row in rows]

    def get(self, firing_id: int) -> Firing | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(firings).where(firings.c.id == firing_id)).mappings().first()
        if row is None:
            return None
        return Firing(**{**row, "fired_at": aware_utc(row["fired_at"]), "finished_at": aware_utc(row["finished_at"])})

    def last_fired(self, trigger: str, statuses: tuple[str, ...] = ("running", "promoted", "kept", "failed")) -> datetime | None:
        with self.engine.connect() as conn:
            value = conn.execute(select(firings.c.fired_at).where(firings.c.trigger == trigger)
                                 .where(firings.c.status.in_(statuses))
                                 .order_by(firings.c.id.desc()).limit(1)).scalar()
        return aware_utc(value)

    def abandon_stale(self, older_than_s: float) -> int:
        """Mark 'running' firings whose process died long ago as failed, so they do not linger."""
        cutoff = utcnow().timestamp() - older_than_s
        stale = [f for f in self.firings(limit=1000) if f.status == "running" and f.fired_at.timestamp() < cutoff]
        for firing in stale:
            self.finish(firing.id, "failed", {**firing.detail, "error": "the pipeline process ended without finishing"})
        return len(stale)

    # -- the watched folder ------------------------------------------------------------------
    def unseen(self, hashes: dict[str, str]) -> dict[str, str]:
        """The entries of {sha256: path} not seen before."""
        if not hashes:
            return {}
        with self.engine.connect() as conn:
            known = set(conn.execute(select(seen_files.c.sha256).where(seen_files.c.sha256.in_(list(hashes)))).scalars())
        return {sha: path for sha, path in hashes.items() if sha not in known}

    def mark_seen(self, hashes: dict[str, str]) -> None:
        now = utcnow()
        with self.engine.begin() as conn:
            for sha, path in self.unseen(hashes).items():
                conn.execute(seen_files.insert().values(sha256=sha, path=path, seen_at=now))

    # -- labelled feedback -------------------------------------------------------------------
    def add_feedback(self, machine: str, model_version: str, predicted_worn: bool, actual_worn: bool, source: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(feedback.insert().values(
                recorded_at=utcnow(), machine=machine, model_version=str(model_version),
                predicted_worn=int(predicted_worn), actual_worn=int(actual_worn), source=source, user=os_user()))

    def feedback_accuracy(self, model_version: str, last: int) -> tuple[float | None, int]:
        """Share of the model's last ``last`` labelled predictions that were right, and how many there were."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(feedback.c.predicted_worn, feedback.c.actual_worn)
                                .where(feedback.c.model_version == str(model_version))
                                .order_by(feedback.c.id.desc()).limit(last)).all()
        if not rows:
            return None, 0
        return sum(p == a for p, a in rows) / len(rows), len(rows)
