"""The audit trail: append-only, who did what, when, on which machine.

Alarm acknowledgements, shelving, model promotions, settings changes. :meth:`AuditTrail.record`
is synchronous and committed before it returns, so the GUI may show an alarm as acknowledged only
after it returned. The table is append-only *in the database*: triggers refuse UPDATE and DELETE
(and TRUNCATE on PostgreSQL), whichever program tries. (Whoever may DROP the table can still do
so; on a server database give the app's role only INSERT and SELECT on it.)

It lives in the same database as the feature store by default (a SQLite file in the user data
directory); any SQLAlchemy URL works, e.g. PostgreSQL when many PCs write to one database.
"""

from __future__ import annotations

import json
import logging
import socket
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import DDL, Column, DateTime, Index, Integer, MetaData, String, Table, Text, event, select, text
from sqlalchemy.engine import Connection, Engine

from .database import aware_utc, open_store, os_user, to_utc, utcnow

logger = logging.getLogger(__name__)

metadata = MetaData()
audit_trail = Table(
    "audit_trail",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("host", String(255), nullable=False),
    Column("os_user", String(255), nullable=False),
    Column("machine", String(255)),  # none for settings changes and promotions
    Column("action", String(64), nullable=False),  # e.g. alarm.acknowledged, model.promoted
    Column("subject", String(255), nullable=False),  # alarm id, setting name, model name
    Column("old_value", Text),
    Column("new_value", Text),
    Column("comment", Text, nullable=False),
    Index("ix_audit_trail_machine_at", "machine", "at"),
)
_APPEND_ONLY = "audit_trail is append-only"

# -- append-only enforcement, per dialect ----------------------------------------------------------
_SQLITE_APPEND_ONLY = [
    DDL(f"CREATE TRIGGER IF NOT EXISTS audit_trail_no_{op.lower()} BEFORE {op} ON audit_trail "
        f"BEGIN SELECT RAISE(ABORT, '{_APPEND_ONLY}'); END")
    for op in ("UPDATE", "DELETE")
]
_POSTGRESQL_APPEND_ONLY = [
    DDL("CREATE OR REPLACE FUNCTION audit_trail_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
        f"BEGIN RAISE EXCEPTION '{_APPEND_ONLY}'; END $$"),
    DDL("CREATE TRIGGER audit_trail_no_change BEFORE UPDATE OR DELETE ON audit_trail "
        "FOR EACH ROW EXECUTE FUNCTION audit_trail_append_only()"),
    DDL("CREATE TRIGGER audit_trail_no_truncate BEFORE TRUNCATE ON audit_trail "
        "FOR EACH STATEMENT EXECUTE FUNCTION audit_trail_append_only()"),
]
for _ddl in _SQLITE_APPEND_ONLY:
    event.listen(audit_trail, "after_create", _ddl.execute_if(dialect="sqlite"))
for _ddl in _POSTGRESQL_APPEND_ONLY:
    event.listen(audit_trail, "after_create", _ddl.execute_if(dialect="postgresql"))


def _ensure_append_only(engine: Engine) -> None:
    """Also guard an audit table created by something that did not add the triggers."""
    with engine.begin() as conn:
        if engine.dialect.name == "sqlite":
            for ddl in _SQLITE_APPEND_ONLY:  # IF NOT EXISTS: idempotent
                conn.execute(ddl)
        elif engine.dialect.name == "postgresql":
            present = conn.execute(text(
                "SELECT count(*) FROM pg_trigger WHERE tgrelid = to_regclass('audit_trail') "
                "AND tgname IN ('audit_trail_no_change', 'audit_trail_no_truncate')")).scalar()
            if present != 2:
                conn.execute(text("DROP TRIGGER IF EXISTS audit_trail_no_change ON audit_trail"))
                conn.execute(text("DROP TRIGGER IF EXISTS audit_trail_no_truncate ON audit_trail"))
                for ddl in _POSTGRESQL_APPEND_ONLY:
                    conn.execute(ddl)
        else:
            logger.warning("audit_trail: append-only is not enforced by the database on %s", engine.dialect.name)



def make_engine(url: str | None = None) -> Engine:
    """The audit trail's engine (the feature store's database unless ``url`` says otherwise)."""
    return open_store(url, metadata, _ensure_append_only)


def _text(value: Any) -> str | None:
    """old/new values are stored as text: strings as they are, anything else as JSON."""
    if value is None or isinstance(value, str):
        return value
    return json.dumps(getattr(value, "value", value), default=str)



@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: datetime
    host: str
    os_user: str
    machine: str | None
    action: str
    subject: str
    old_value: str | None
    new_value: str | None
    comment: str

    def to_json(self) -> dict:
        data = asdict(self)
        data["at"] = self.at.isoformat()
        return data


class AuditTrail:
    """Append-only: who did what, when, on which machine."""

    def __init__(self, url: str | None = None):
        self.engine: Engine = make_engine(url)
        self.url = self.engine.url.render_as_string(hide_password=False)  # str() masks a password
        self.host = socket.gethostname()

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> AuditTrail:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _values(self, action: str, subject: str = "", old_value: Any = None, new_value: Any = None,
                machine: str | None = None, comment: str = "", user: str | None = None,
                host: str | None = None) -> dict:
        if not action:
            raise ValueError("an audit entry needs an action")
        return {
            "at": utcnow(), "host": host or self.host, "os_user": user or os_user(),
            "machine": None if machine is None else str(machine), "action": str(action),
            "subject": str(subject or ""), "old_value": _text(old_value), "new_value": _text(new_value),
            "comment": str(comment or ""),
        }

    def record(self, action: str, subject: str = "", old_value: Any = None, new_value: Any = None,
               machine: str | None = None, comment: str = "", user: str | None = None,
               host: str | None = None) -> int:
        """Write one entry; it is committed when this returns (a database error is raised).
        ``user`` and ``host``: who acted, and on which PC (default: this process's)."""
        values = self._values(action, subject, old_value, new_value, machine, comment, user, host)
        with self.engine.begin() as conn:
            return int(conn.execute(audit_trail.insert().values(**values)).inserted_primary_key[0])

    def record_in(self, conn: Connection, action: str, subject: str = "", old_value: Any = None,
                  new_value: Any = None, machine: str | None = None, comment: str = "", user: str | None = None,
                  host: str | None = None) -> int:
        """Write one entry inside the caller's open transaction on this trail's database, so it is
        committed, or rolled back, together with the caller's own rows (e.g. a floor-labelled run)."""
        values = self._values(action, subject, old_value, new_value, machine, comment, user, host)
        return int(conn.execute(audit_trail.insert().values(**values)).inserted_primary_key[0])

    def record_many(self, entries: Iterable[Mapping[str, Any]]) -> list[int]:
        """Write several entries (each a mapping of :meth:`record`'s arguments) in one transaction."""
        rows = [self._values(**entry) for entry in entries]
        with self.engine.begin() as conn:
            return [int(conn.execute(audit_trail.insert().values(**row)).inserted_primary_key[0]) for row in rows]

    def entries(self, limit: int = 200, machine: str | None = None, action_prefix: str | None = None,
                since: datetime | None = None) -> list[AuditEntry]:
        """The newest ``limit`` entries first, optionally for one machine, actions starting with a
        prefix (``"alarm."``) and at or after ``since``."""
        query = select(audit_trail).order_by(audit_trail.c.id.desc()).limit(limit)
        if machine is not None:
            query = query.where(audit_trail.c.machine == str(machine))
        if action_prefix:
            query = query.where(audit_trail.c.action.startswith(action_prefix, autoescape=True))
        if since is not None:
            query = query.where(audit_trail.c.at >= to_utc(since))
        with self.engine.connect() as conn:
            rows = conn.execute(query).mappings().all()
        return [AuditEntry(**{**row, "at": aware_utc(row["at"])}) for row in rows]


def audit_promotion(url: str | None, model_name: str, old_version: str | None, new_version: str, reason: str) -> None:
    """Append a promotion to the audit trail at ``url``. The alias has moved already, so a failing
    audit store is logged loudly rather than undoing the promotion."""
    try:
        with AuditTrail(url) as trail:
            trail.record("model.promoted", subject=model_name, old_value=old_version, new_value=str(new_version),
                         comment=reason)
    except Exception:
        logger.exception("the promotion of %s to version %s is not in the audit trail", model_name, new_version)
