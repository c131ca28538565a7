"""Taught references and their limits, per (machine, setup), versioned and audited.

Each teach-in adds a version (1, 2, … per machine and setup text); older versions stay as
history. The active reference is the newest version unless it was forgotten (Relearn): a
forgotten newest version leaves the setup NOT TAUGHT until it is taught again, it never revives
the version it had replaced. The reference itself is a dict (``monitoring.teach_in.
TaughtReference.to_json()``) stored as JSON text; a row whose text does not parse is returned with
``data=None`` and the reason, so the caller shows the setup as not taught instead of crashing.

Limits are rows too (the newest counts), so their history survives beside the audit entry.
Neither relearning nor new limits touch the alarm history. Every write and its audit entry are
one transaction, retried while the database is locked.
"""

from __future__ import annotations

import json
import logging
import math
from dataclasses import asdict, dataclass
from datetime import datetime

from sqlalchemy import (JSON, Column, DateTime, Index, Integer, MetaData, String, Table, Text, UniqueConstraint,
                        func, literal, select)

from .database import aware_utc, utcnow
from .locked_retry import AuditedStore, retry_when_locked

log = logging.getLogger(__name__)
VERSION_CONSTRAINT = "uq_taught_references_version"  # two PCs teaching at once: the loser retries
metadata = MetaData()
references = Table(
    "taught_references",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("machine", String(255), nullable=False),
    Column("setup", String(255), nullable=False),  # data.setup.SetupKey.text
    Column("version", Integer, nullable=False),
    Column("reference", Text, nullable=False),  # JSON of TaughtReference.to_json()
    Column("runs", JSON, nullable=False),  # what it was taught on (file names, run ids)
    Column("taught_at", DateTime(timezone=True), nullable=False),
    Column("user", String(255), nullable=False),
    Column("comment", Text, nullable=False),
    Column("forgotten_at", DateTime(timezone=True)),
    UniqueConstraint("machine", "setup", "version", name=VERSION_CONSTRAINT),
)
limits_table = Table(
    "taught_limits",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("machine", String(255), nullable=False),
    Column("setup", String(255), nullable=False),
    Column("limits", Text, nullable=False),  # JSON, e.g. {"warn_pct": 15, "alarm_pct": 30, "delay_windows": 3}
    Column("set_at", DateTime(timezone=True), nullable=False),
    Column("user", String(255), nullable=False),
    Index("ix_taught_limits_machine_setup", "machine", "setup"),
)


@dataclass
class StoredReference:
    machine: str
    setup: str
    version: int
    data: dict | None  # None when the stored text does not parse (see ``problem``)
    taught_at: datetime
    user: str
    comment: str
    runs: list
    forgotten_at: datetime | None = None
    problem: str = ""

    def to_json(self, with_data: bool = False) -> dict:
        out = asdict(self)
        if not with_data:
            out.pop("data")
        out["taught_at"] = self.taught_at.isoformat(timespec="seconds")
        out["forgotten_at"] = self.forgotten_at and self.forgotten_at.isoformat(timespec="seconds")
        return out


def _subject(machine: str, setup: str) -> str:
    return f"{machine}/{setup}"


def _checked_key(machine: str, setup: str) -> tuple[str, str]:
    machine, setup = str(machine or "").strip(), str(setup or "").strip()
    if not machine or not setup:
        raise ValueError("a taught reference needs a machine and a setup")
    return machine, setup


def _json_text(value: dict, what: str) -> str:
    if not isinstance(value, dict):
        raise ValueError(f"{what} must be a dict, got {type(value).__name__}")
    try:
        return json.dumps(value, allow_nan=False, sort_keys=True)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{what} cannot be stored as JSON: {error}") from None


def _stored(row) -> StoredReference:
    data, problem = None, ""
    try:
        data = json.loads(row["reference"])
        if not isinstance(data, dict):
            data, problem = None, f"reference v{row['version']} is not a JSON object"
    except (TypeError, ValueError) as error:
        problem = f"reference v{row['version']} does not parse: {error}"
    return StoredReference(row["machine"], row["setup"], int(row["version"]), data, aware_utc(row["taught_at"]),
                           row["user"], row["comment"], list(row["runs"] or []), aware_utc(row["forgotten_at"]),
                           problem)


class TaughtReferenceStore(AuditedStore):
    metadata = metadata

    def _audit_row(self, conn, action: str, machine: str, setup: str, user: str, comment: str,
                   old_value=None, new_value=None) -> None:
        self.audit.record_in(conn, action, _subject(machine, setup), old_value, new_value, machine, comment, user)

    # -- references ---------------------------------------------------------------------------
    def save(self, machine: str, setup: str, reference: dict, user: str, comment: str = "") -> int:
        """Store a new version (the active one from now on) and audit ``teach.learned``; returns it."""
        machine, setup = _checked_key(machine, setup)
        text = _json_text(reference, "the reference")
        runs = reference.get("runs", [])
        runs = [str(r) for r in runs] if isinstance(runs, list) else []

        def write() -> int:
            with self.engine.begin() as conn:
                # the version is allocated by the insert itself: no other writer can slip in between
                next_version = (select(func.coalesce(func.max(references.c.version), 0) + 1)
                                .where(references.c.machine == machine, references.c.setup == setup)
                                .scalar_subquery())
                version = conn.execute(references.insert().from_select(
                    ["machine", "setup", "version", "reference", "runs", "taught_at", "user", "comment"],
                    select(literal(machine), literal(setup), next_version, literal(text),
                           literal(runs, JSON), literal(utcnow(), DateTime(timezone=True)), literal(user),
                           literal(comment or ""))).returning(references.c.version)).scalar_one()
                self._audit_row(conn, "teach.learned", machine, setup, user, comment, new_value=f"v{version}")
                return int(version)

        return retry_when_locked(write, f"saving the taught reference of {_subject(machine, setup)}", self.retry_for_s,
                                 races=(VERSION_CONSTRAINT,))

    def _newest(self, conn, machine: str, setup: str):
        return conn.execute(select(references).where(references.c.machine == machine, references.c.setup == setup)
                            .order_by(references.c.version.desc()).limit(1)).mappings().first()

    def active(self, machine: str, setup: str) -> StoredReference | None:
        """The newest version unless it was forgotten; None when the setup is not taught."""
        with self.engine.connect() as conn:
            row = self._newest(conn, machine, setup)
        return None if row is None or row["forgotten_at"] is not None else _stored(row)

    def forget(self, machine: str, setup: str, user: str, comment: str = "") -> int | None:
        """Relearn: mark the active version forgotten and audit ``teach.forgotten``; returns the
        version forgotten, None when nothing was active (nothing written)."""
        machine, setup = _checked_key(machine, setup)

        def write() -> int | None:
            with self.engine.begin() as conn:
                row = self._newest(conn, machine, setup)
                if row is None or row["forgotten_at"] is not None:
                    return None
                done = conn.execute(references.update()
                                    .where(references.c.id == row["id"], references.c.forgotten_at.is_(None))
                                    .values(forgotten_at=utcnow()))
                if done.rowcount != 1:  # forgotten by another process meanwhile
                    return None
                self._audit_row(conn, "teach.forgotten", machine, setup, user, comment,
                                old_value=f"v{row['version']}")
                return int(row["version"])

        return retry_when_locked(write, f"forgetting the taught reference of {_subject(machine, setup)}",
                                 self.retry_for_s)

    def history(self, machine: str | None = None, setup: str | None = None) -> list[StoredReference]:
        """Every version (forgotten ones too), by machine, setup and version."""
        query = select(references).order_by(references.c.machine, references.c.setup, references.c.version)
        if machine is not None:
            query = query.where(references.c.machine == machine)
        if setup is not None:
            query = query.where(references.c.setup == setup)
        with self.engine.connect() as conn:
            return [_stored(row) for row in conn.execute(query).mappings()]

    def setups(self, machine: str) -> list[str]:
        """The setups of a machine that were ever taught (whether their newest version is active or not)."""
        with self.engine.connect() as conn:
            return list(conn.execute(select(references.c.setup).where(references.c.machine == machine)
                                     .distinct().order_by(references.c.setup)).scalars())

    def revision(self) -> tuple:
        """Changes whenever any process teaches, forgets or sets limits: a running node compares
        it to notice ``cncwear teach`` (or another window) without reading every reference."""
        with self.engine.connect() as conn:
            taught = conn.execute(select(func.max(references.c.id), func.count(references.c.forgotten_at))).one()
            limits = conn.execute(select(func.max(limits_table.c.id))).scalar()
        return (taught[0] or 0, taught[1] or 0, limits or 0)

    # -- limits -------------------------------------------------------------------------------
    def set_limits(self, machine: str, setup: str, limits: dict, user: str, comment: str = "") -> None:
        """New limits for the setup (checked by the caller, e.g. ``teach_in.Limits``), audited
        ``teach.limits`` with the old and the new value."""
        machine, setup = _checked_key(machine, setup)
        text = _json_text(limits, "the limits")
        if not all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
                   for v in limits.values()):
            raise ValueError(f"limits must be finite numbers, got {limits}")

        def write() -> None:
            with self.engine.begin() as conn:
                new_id = conn.execute(limits_table.insert().values(
                    machine=machine, setup=setup, limits=text, set_at=utcnow(), user=user)).inserted_primary_key[0]
                old = conn.execute(select(limits_table.c.limits).where(
                    limits_table.c.machine == machine, limits_table.c.setup == setup, limits_table.c.id < new_id)
                    .order_by(limits_table.c.id.desc()).limit(1)).scalar()
                self._audit_row(conn, "teach.limits", machine, setup, user, comment, old_value=old, new_value=text)

        retry_when_locked(write, f"setting the limits of {_subject(machine, setup)}", self.retry_for_s)

    def limits(self, machine: str, setup: str) -> dict | None:
        """The setup's newest limits; None when none were set (or the stored text does not parse)."""
        with self.engine.connect() as conn:
            text = conn.execute(select(limits_table.c.limits).where(
                limits_table.c.machine == machine, limits_table.c.setup == setup)
                .order_by(limits_table.c.id.desc()).limit(1)).scalar()
        if text is None:
            return None
        try:
            value = json.loads(text)
        except ValueError:
            value = None
        if not isinstance(value, dict):
            log.warning("the limits of %s do not parse (%r); the defaults apply", _subject(machine, setup), text[:80])
            return None
        return value
