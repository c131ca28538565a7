"""The operator's tool changes: when, on which machine, why, and what the old tool had done.

A tool change ends a tool's life; the reason is what the operator saw, so it labels the run the
tool ended in (worn or broken: worn; a scheduled or precautionary change says nothing about the
tool). The CLI (``cncwear tool-change``) and the window write here; a live node in another
process picks new rows up by polling :meth:`ToolChangeLog.since`. Each record and its audit entry
(``tool.changed``) are one transaction, retried while the database is locked.
"""

from __future__ import annotations

import math
import socket
from dataclasses import asdict, dataclass
from datetime import datetime

from sqlalchemy import Column, DateTime, Float, Index, Integer, MetaData, String, Table, Text, select

from .database import aware_utc, utcnow
from .locked_retry import AuditedStore, retry_when_locked

REASONS = ("worn", "broken", "scheduled", "precaution")

metadata = MetaData()
tool_changes = Table(
    "tool_changes",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("machine", String(255), nullable=False),
    Column("reason", String(32), nullable=False),  # one of REASONS
    Column("label", String(16)),  # label_for(reason): "worn" or none
    Column("user", String(255), nullable=False),
    Column("host", String(255), nullable=False),
    Column("comment", Text, nullable=False),
    Column("setup", String(255), nullable=False),  # the setup cut when the tool came out ("" unknown)
    Column("model_version", String(64), nullable=False),  # the model judging it then ("" none)
    Column("run_label", String(255)),  # the run the tool ended in, as the live node names it
    Column("cutting_s", Float, nullable=False),  # the old tool's cutting time, as far as it was followed
    Column("runs", Integer, nullable=False),  # and its runs
    Index("ix_tool_changes_machine_id", "machine", "id"),
)


def label_for(reason: str) -> str | None:
    """The label a tool change gives the run it ended: worn or broken → "worn"; scheduled or
    precaution → None (the tool was taken out before anyone saw its state)."""
    if reason not in REASONS:
        raise ValueError(f"tool-change reason must be one of {', '.join(REASONS)}, got {reason!r}")
    return "worn" if reason in ("worn", "broken") else None


@dataclass(frozen=True)
class ToolChange:
    id: int
    at: datetime
    machine: str
    reason: str
    label: str | None
    user: str
    host: str
    comment: str
    setup: str
    model_version: str
    run_label: str | None
    cutting_s: float
    runs: int

    def to_json(self) -> dict:
        data = asdict(self)
        data["at"] = self.at.isoformat(timespec="seconds")
        return data


def _change(row) -> ToolChange:
    return ToolChange(**{**row, "at": aware_utc(row["at"])})


class ToolChangeLog(AuditedStore):
    metadata = metadata

    def record(self, machine: str, reason: str, user: str, comment: str = "", setup: str = "",
               model_version: str = "", run_label: str | None = None, cutting_s: float = 0.0,
               runs: int = 0) -> ToolChange:
        """Record a tool change (committed with its audit entry when this returns)."""
        machine = str(machine or "").strip()
        if not machine:
            raise ValueError("a tool change needs a machine")
        label = label_for(reason)
        if not (isinstance(cutting_s, (int, float)) and math.isfinite(cutting_s) and cutting_s >= 0):
            raise ValueError(f"cutting_s must be a finite number of seconds ≥ 0, got {cutting_s!r}")
        if isinstance(runs, bool) or not isinstance(runs, int) or runs < 0:
            raise ValueError(f"runs must be a whole number ≥ 0, got {runs!r}")
        values = {"machine": machine, "reason": reason, "label": label, "user": user, "host": socket.gethostname(),
                  "comment": comment or "", "setup": setup or "", "model_version": str(model_version or ""),
                  "run_label": run_label, "cutting_s": float(cutting_s), "runs": runs}

        def write() -> ToolChange:
            with self.engine.begin() as conn:
                row = {**values, "at": utcnow()}
                row["id"] = int(conn.execute(tool_changes.insert().values(**row)).inserted_primary_key[0])
                self.audit.record_in(conn, "tool.changed", machine, None, reason, machine, comment, user)
                return ToolChange(**row)

        return retry_when_locked(write, f"recording the tool change on {machine}", self.retry_for_s)

    def since(self, after_id: int = 0, machines: list[str] | None = None) -> list[ToolChange]:
        """Tool changes with an id above ``after_id``, oldest first (what a poller has not seen yet)."""
        query = select(tool_changes).where(tool_changes.c.id > after_id).order_by(tool_changes.c.id)
        if machines is not None:
            query = query.where(tool_changes.c.machine.in_(list(machines)))
        with self.engine.connect() as conn:
            return [_change(row) for row in conn.execute(query).mappings()]

    def latest(self, machine: str) -> ToolChange | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(tool_changes).where(tool_changes.c.machine == machine)
                               .order_by(tool_changes.c.id.desc()).limit(1)).mappings().first()
        return None if row is None else _change(row)

    def history(self, machine: str | None = None, limit: int = 100) -> list[ToolChange]:
        """The newest ``limit`` tool changes first."""
        query = select(tool_changes).order_by(tool_changes.c.id.desc()).limit(limit)
        if machine is not None:
            query = query.where(tool_changes.c.machine == machine)
        with self.engine.connect() as conn:
            return [_change(row) for row in conn.execute(query).mappings()]
