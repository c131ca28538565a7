"""The shop-floor record: an append-only audit trail and a batched log of live predictions.

Both live in the same database as the feature store by default (a SQLite file in the user data
directory, WAL mode and a busy timeout via ``database.sqlite_pragmas``); any SQLAlchemy URL
works, e.g. PostgreSQL when many machines write to one central database.

* :class:`AuditTrail` answers "who did what, when, on which machine": alarm acknowledgements,
  shelving, model promotions, settings changes. :meth:`AuditTrail.record` is synchronous and
  committed before it returns, so the GUI may show an alarm as acknowledged only after it
  returned. The table is append-only *in the database*: triggers refuse UPDATE and DELETE (and
  TRUNCATE on PostgreSQL), whichever program tries. (Whoever may DROP the table can still do so;
  on a server database give the app's role only INSERT and SELECT on it.)
* :class:`PredictionLog` keeps every live prediction. :meth:`PredictionLog.append` only queues
  rows; a writer thread inserts them in batches (one transaction per batch). A database error
  (locked, disk full, server gone) is logged and the batch retried later, never raised into the
  scoring loop. Rows still queued when the process dies are lost; :meth:`PredictionLog.flush`
  bounds that window where it matters.
"""

from __future__ import annotations

import atexit
import getpass
import json
import logging
import math
import numbers
import socket
import threading
import time
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from itertools import islice
from typing import Any

from sqlalchemy import (
    DDL,
    Column,
    DateTime,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    event,
    func,
    select,
    text,
)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DataError, IntegrityError

from .database import creating_tables, open_engine
from .feature_store import default_store_url

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
prediction_log = Table(
    "prediction_log",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("logged_at", DateTime(timezone=True), nullable=False),
    Column("machine", String(255), nullable=False),
    Column("sample_time", DateTime(timezone=True)),  # the source's timestamp, when it has one
    Column("model_version", String(64)),
    Column("probability", Float),  # P(worn); NULL when no prediction could be made
    Column("wear_state", String(16), nullable=False),  # ok, worn, unknown
    Column("quality_flags", Integer, nullable=False),
    Index("ix_prediction_log_machine_logged_at", "machine", "logged_at"),
)

WEAR_STATES = ("ok", "worn", "unknown")
PREDICTION_COLUMNS = ("machine", "sample_time", "model_version", "probability", "wear_state", "quality_flags")
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
        "FOR EACH ROW EXECUTE PROCEDURE audit_trail_append_only()"),
    DDL("CREATE TRIGGER audit_trail_no_truncate BEFORE TRUNCATE ON audit_trail "
        "FOR EACH STATEMENT EXECUTE PROCEDURE audit_trail_append_only()"),
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
    """The engine for the live stores: the feature store's database unless ``url`` says otherwise.

    SQLite connections get the project's pragmas (WAL, busy_timeout); the tables are created if
    missing.
    """
    url = url or default_store_url()
    engine = open_engine(url)
    with creating_tables(url):
        metadata.create_all(engine)
        _ensure_append_only(engine)
    return engine


# -- small helpers -------------------------------------------------------------------------------
def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def _aware(value: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; they were written as UTC."""
    return value.replace(tzinfo=timezone.utc) if value is not None and value.tzinfo is None else value


def _to_utc(value: Any) -> datetime | None:
    """A timestamp as an aware UTC datetime; None/NaT/NaN as None.

    Numbers are epoch seconds (the live sources' ``sample_time``); naive datetimes are taken as UTC.
    """
    if value is None:
        return None
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        return None if math.isnan(value) else datetime.fromtimestamp(float(value), timezone.utc)
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    elif not isinstance(value, datetime) or hasattr(value, "to_pydatetime"):
        import pandas as pd  # numpy datetime64, pandas Timestamp/NaT

        stamp = pd.Timestamp(value)
        if stamp is pd.NaT:
            return None
        value = stamp.to_pydatetime()
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


def _os_user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no login name (some containers)
        return "unknown"


def _text(value: Any) -> str | None:
    """old/new values are stored as text: strings as they are, anything else as JSON."""
    if value is None or isinstance(value, str):
        return value
    return json.dumps(getattr(value, "value", value), default=str)


# -- the audit trail ---------------------------------------------------------------------------
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
        self.url = str(self.engine.url)
        self.host = socket.gethostname()

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> AuditTrail:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _values(self, action: str, subject: str = "", old_value: Any = None, new_value: Any = None,
                machine: str | None = None, comment: str = "", user: str | None = None) -> dict:
        if not action:
            raise ValueError("an audit entry needs an action")
        return {
            "at": utcnow(), "host": self.host, "os_user": user or _os_user(),
            "machine": None if machine is None else str(machine), "action": str(action),
            "subject": str(subject or ""), "old_value": _text(old_value), "new_value": _text(new_value),
            "comment": str(comment or ""),
        }

    def record(self, action: str, subject: str = "", old_value: Any = None, new_value: Any = None,
               machine: str | None = None, comment: str = "", user: str | None = None) -> int:
        """Write one entry; it is committed when this returns (a database error is raised)."""
        values = self._values(action, subject, old_value, new_value, machine, comment, user)
        with self.engine.begin() as conn:
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
            query = query.where(audit_trail.c.at >= _to_utc(since))
        with self.engine.connect() as conn:
            rows = conn.execute(query).mappings().all()
        return [AuditEntry(**{**row, "at": _aware(row["at"])}) for row in rows]


# -- the prediction log ------------------------------------------------------------------------
def _prediction_row(row: Mapping[str, Any], logged_at: datetime) -> dict:
    """One validated row, so a bad value fails in append() and never poisons a batch later."""
    try:
        machine, probability = row["machine"], row["probability"]
    except KeyError as missing:
        raise ValueError(f"a prediction row needs {missing}") from None
    machine = "" if machine is None else str(machine)
    if not machine or len(machine) > 255:
        raise ValueError(f"machine must be 1-255 characters, not {machine!r}")
    version = row.get("model_version")
    version = None if version is None or (isinstance(version, float) and math.isnan(version)) else str(version)
    if version is not None and len(version) > 64:
        raise ValueError(f"model_version longer than 64 characters: {version!r}")
    probability = None if probability is None else float(probability)
    if probability is not None and math.isnan(probability):
        probability = None
    state = row.get("wear_state")
    state = "unknown" if state is None else str(getattr(state, "value", state)).lower()
    if state not in WEAR_STATES:
        raise ValueError(f"wear_state must be one of {WEAR_STATES}, not {state!r}")
    flags = row.get("quality_flags")
    flags = 0 if flags is None or (isinstance(flags, float) and math.isnan(flags)) else int(flags)
    stamp = row.get("logged_at")
    return {
        "logged_at": logged_at if stamp is None else _to_utc(stamp), "machine": machine,
        "sample_time": _to_utc(row.get("sample_time")), "model_version": version,
        "probability": probability, "wear_state": state, "quality_flags": flags,
    }


def _records(rows: Any) -> list[Mapping[str, Any]]:
    if hasattr(rows, "columns") and hasattr(rows, "to_dict"):  # a pandas DataFrame
        frame = rows[[c for c in (*PREDICTION_COLUMNS, "logged_at") if c in rows.columns]]
        frame = frame.astype(object).where(frame.notna(), None)
        return frame.to_dict("records")
    if isinstance(rows, Mapping):
        return [rows]
    return list(rows)


class PredictionLog:
    """Live predictions, written in batches by a background thread.

    ``append`` never waits for the database. The writer inserts what is queued every
    ``flush_interval_s`` (or as soon as ``max_batch`` rows wait), one transaction per batch of
    at most ``max_batch`` rows. A failed batch stays at the head of the queue and is retried
    after the next interval (or at the next ``flush()``); rows are written in the order appended.
    A batch whose data the database refuses (a constraint of a site-specific schema) is split and
    only the refused rows are dropped (counted in ``rejected``), so one bad row cannot stall the
    log. If the database stays unreachable and ``max_pending`` rows wait, further rows are dropped
    (counted in ``dropped``) rather than exhausting memory.
    """

    def __init__(self, url: str | None = None, flush_interval_s: float = 1.0, max_batch: int = 5000,
                 max_pending: int = 2_000_000):
        if flush_interval_s <= 0 or max_batch < 1 or max_pending < max_batch:
            raise ValueError("need flush_interval_s > 0, max_batch >= 1 and max_pending >= max_batch")
        self.engine: Engine = make_engine(url)
        self.url = str(self.engine.url)
        self.flush_interval_s = float(flush_interval_s)
        self.max_batch = int(max_batch)
        self.max_pending = int(max_pending)
        self.last_error: str | None = None
        self._queue: deque[dict] = deque()
        self._cond = threading.Condition()
        self._appended = 0  # rows ever queued (including dropped ones)
        self._done = 0  # rows that left the queue: written, rejected or dropped
        self._written = 0
        self._rejected = 0
        self._dropped = 0
        self._failed_batches = 0
        self._flush_target = 0  # flush() wants rows up to here done
        self._retry_at = 0.0  # monotonic; after a failure, no attempt before this
        self._closed = False
        self._stop = False
        self._thread = threading.Thread(target=self._run, name="cncwear-prediction-log", daemon=True)
        self._thread.start()
        atexit.register(self._at_exit)

    # -- counters ------------------------------------------------------------------------------
    @property
    def written(self) -> int:
        """Rows committed by this instance."""
        return self._written

    @property
    def pending(self) -> int:
        """Rows queued and not yet committed (including a batch being written)."""
        return len(self._queue)

    @property
    def failed_batches(self) -> int:
        """Batch attempts the database refused (each retried)."""
        return self._failed_batches

    @property
    def rejected(self) -> int:
        return self._rejected

    @property
    def dropped(self) -> int:
        return self._dropped

    # -- the caller's side ---------------------------------------------------------------------
    def append(self, rows: Any) -> int:
        """Queue prediction rows (dicts, or a DataFrame with the columns of ``prediction_log``).

        Needed: ``machine`` and ``probability`` (None/NaN when there is none); optional
        ``sample_time`` (datetime, Timestamp, ISO text or epoch seconds), ``model_version``,
        ``wear_state`` (ok/worn/unknown or a WearState; default unknown), ``quality_flags``
        (default 0). Other keys or columns are ignored.

        Returns how many were queued (fewer only when ``max_pending`` is reached). Never touches the database; a row with a missing or
        invalid value raises ValueError here and nothing of the call is queued.
        """
        now = utcnow()
        batch = [_prediction_row(row, now) for row in _records(rows)]
        if not batch:
            return 0
        with self._cond:
            if self._closed:
                raise RuntimeError("the prediction log is closed")
            was_empty = not self._queue
            room = max(0, self.max_pending - len(self._queue))
            if room < len(batch):  # the head may be in flight: drop the newest rows, not the oldest
                overflow = len(batch) - room
                self._dropped += overflow
                self._done += overflow
                self._appended += overflow
                batch = batch[:room]
                logger.error("prediction log: %d new rows dropped, the database has not taken any for a while (%s)",
                             overflow, self.last_error)
            self._queue.extend(batch)
            self._appended += len(batch)
            if was_empty or len(self._queue) >= self.max_batch:
                self._cond.notify_all()
        return len(batch)

    def flush(self, timeout: float | None = 10.0) -> bool:
        """Wait until every row appended before this call is committed; False on timeout."""
        with self._cond:
            target = self._appended
            if self._done >= target:
                return True
            if not self._thread.is_alive():
                return False
            self._flush_target = max(self._flush_target, target)
            self._retry_at = 0.0  # an explicit flush retries a failed batch now
            self._cond.notify_all()
            return self._cond.wait_for(lambda: self._done >= target, timeout)

    def close(self, timeout: float | None = 10.0) -> bool:
        """Flush, stop the writer and release the database; False if rows could not be written."""
        with self._cond:
            if self._stop:
                return not self._queue
            self._closed = True
        flushed = self.flush(timeout)
        with self._cond:
            self._stop = True
            self._cond.notify_all()
        self._thread.join(timeout)
        atexit.unregister(self._at_exit)
        if self._queue:
            logger.error("prediction log closed with %d rows not written (%s)", len(self._queue), self.last_error)
        if not self._thread.is_alive():
            self.engine.dispose()
        return flushed and not self._queue

    def _at_exit(self) -> None:
        self.close(timeout=5.0)

    def __enter__(self) -> PredictionLog:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- reading -------------------------------------------------------------------------------
    def recent(self, machine: str | None = None, limit: int = 100) -> list[dict]:
        """The newest committed rows first (times as aware UTC datetimes)."""
        query = select(prediction_log).order_by(prediction_log.c.id.desc()).limit(limit)
        if machine is not None:
            query = query.where(prediction_log.c.machine == str(machine))
        with self.engine.connect() as conn:
            rows = conn.execute(query).mappings().all()
        return [{**row, "logged_at": _aware(row["logged_at"]), "sample_time": _aware(row["sample_time"])}
                for row in rows]

    def count(self, machine: str | None = None) -> int:
        query = select(func.count()).select_from(prediction_log)
        if machine is not None:
            query = query.where(prediction_log.c.machine == str(machine))
        with self.engine.connect() as conn:
            return int(conn.execute(query).scalar())

    # -- the writer thread ---------------------------------------------------------------------
    def _next_batch(self, last_attempt: float) -> list[dict] | None:
        """Wait until a batch is due; None when the writer should stop.

        Due: rows wait and no failure backoff is running, and either ``flush()`` asked for them,
        ``max_batch`` rows wait, or the last attempt was ``flush_interval_s`` ago.
        """
        with self._cond:
            while True:
                if self._stop:
                    return None
                now = time.monotonic()
                if not self._queue:
                    self._cond.wait()
                    continue
                if now >= self._retry_at:
                    urgent = len(self._queue) >= self.max_batch or self._done < self._flush_target
                    if urgent or now >= last_attempt + self.flush_interval_s:
                        return list(islice(self._queue, self.max_batch))
                self._cond.wait(max(0.0, max(self._retry_at, last_attempt + self.flush_interval_s) - now))

    def _run(self) -> None:
        last_attempt = -math.inf
        while True:
            batch = self._next_batch(last_attempt)
            if batch is None:
                return
            last_attempt = time.monotonic()
            try:
                self._write(batch)
            except Exception as error:  # locked, disk full, server gone: keep the rows, retry later
                with self._cond:
                    self._failed_batches += 1
                    self._retry_at = time.monotonic() + self.flush_interval_s
                    first = self.last_error is None
                    self.last_error = f"{type(error).__name__}: {error}"
                (logger.warning if first else logger.debug)(
                    "prediction log: writing %d rows failed, retrying: %s", len(batch), self.last_error)
                continue
            if self.last_error is not None:
                logger.info("prediction log: writing again after %s", self.last_error)
                self.last_error = None

    def _write(self, batch: list[dict]) -> None:
        """Insert the head of the queue in one transaction; if the database refuses the data, row
        by row so only the refused rows are dropped. Environment errors propagate (retry)."""
        try:
            with self.engine.begin() as conn:
                conn.execute(prediction_log.insert(), batch)
        except (IntegrityError, DataError) as error:
            logger.error("prediction log: the database refused a batch, inserting row by row: %s", error)
        else:
            self._consumed(len(batch), 0)
            return
        for row in batch:  # each committed row leaves the queue at once: a retry never repeats it
            try:
                with self.engine.begin() as conn:
                    conn.execute(prediction_log.insert(), [row])
            except (IntegrityError, DataError) as error:
                logger.error("prediction log: the database refused a row, dropped: %s (%s)", row, error)
                self._consumed(0, 1)
            else:
                self._consumed(1, 0)

    def _consumed(self, written: int, rejected: int) -> None:
        with self._cond:
            for _ in range(written + rejected):
                self._queue.popleft()
            self._written += written
            self._rejected += rejected
            self._done += written + rejected
            self._cond.notify_all()
