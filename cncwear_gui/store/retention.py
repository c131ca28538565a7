"""Retention of the prediction log: raw rows for N days, roll-ups for good, and the disk watched.

A :class:`Pruner` thread deletes raw rows logged more than ``Retention.days`` ago, oldest first,
in batches of ``batch_rows``: each batch is one short transaction that adds the rows to the
roll-ups (``prediction_rollups.merge``) and deletes exactly those rows, so a roll-up always equals
what the deleted rows said. If another process pruned the same rows meanwhile, the delete finds
fewer rows than it rolled up, or its new roll-up row meets the other's (a unique key), and the
batch is rolled back and read again; after three such races in a row the round leaves the rows to
the other process (nothing is counted twice, nothing is lost). It pauses
``pause_s`` between batches, so the live log writer and other processes get the database between
them; scoring never waits for it (it only queues rows, ``prediction_log``).

Only the raw prediction rows are pruned: alarms, the audit trail, labels, tool changes and the
roll-ups are never touched.

Space: SQLite reuses the pages freed by a delete, so a store at steady state stops growing. A
store created by this version has ``auto_vacuum=INCREMENTAL`` (``database.sqlite_pragmas``), and
after each round the pruner gives the freed pages back to the file system in small
``incremental_vacuum`` steps. A store created before cannot switch without one full ``VACUUM``
(an exclusive lock for as long as it takes to rewrite the file); the pruner says so once, and
docs/guide/it.md gives the one-off command.
"""

from __future__ import annotations

import logging
import shutil
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import delete, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from .database import to_utc, utcnow
from .locked_retry import retry_when_locked
from .prediction_rollups import merge, minute_of, rollup
from .prediction_tables import prediction_log

log = logging.getLogger(__name__)
MB = 1024 * 1024


@dataclass(frozen=True)
class Retention:
    """How long raw prediction rows are kept and how much disk must stay free (``min_free_mb``
    0: no floor). Set from the settings ``prediction_log_retention_days`` and ``min_free_disk_mb``."""

    days: float = 30.0
    min_free_mb: float = 1024.0
    batch_rows: int = 2000
    pause_s: float = 0.05  # between batches: the log writer and other processes get the database
    interval_s: float = 600.0  # between prune rounds
    vacuum_pages: int = 1024  # pages (4 KiB each by default) given back per incremental_vacuum step

    def __post_init__(self):
        if not self.days > 0 or self.min_free_mb < 0 or self.batch_rows < 1 or self.interval_s <= 0:
            raise ValueError("retention needs days > 0, min_free_mb >= 0, batch_rows >= 1 and interval_s > 0")


@dataclass(frozen=True)
class StoreStatus:
    """The store's size and the free disk beside it; None where it cannot be known (the free disk
    of a database server)."""

    store_bytes: int | None
    free_bytes: int | None
    floor_bytes: int
    raw_paused: bool = False  # below the floor: raw rows are not written, roll-ups are

    @property
    def below_floor(self) -> bool:
        return self.free_bytes is not None and self.floor_bytes > 0 and self.free_bytes < self.floor_bytes


def sqlite_file(engine: Engine) -> Path | None:
    """The SQLite database file behind ``engine``; None for a server or an in-memory database."""
    database = engine.url.database if engine.dialect.name == "sqlite" else None
    return Path(database) if database and database != ":memory:" else None


def measure(engine: Engine, floor_bytes: int) -> StoreStatus:
    """The store's size (SQLite: the file and its WAL; PostgreSQL: ``pg_database_size``) and the
    free disk where the SQLite file lives."""
    path = sqlite_file(engine)
    if path is not None:
        size = sum(p.stat().st_size for p in (path, Path(f"{path}-wal")) if p.exists())
        return StoreStatus(size, shutil.disk_usage(path.parent).free, floor_bytes)
    size = None
    if engine.dialect.name == "postgresql":
        try:
            with engine.connect() as conn:
                size = int(conn.execute(text("SELECT pg_database_size(current_database())")).scalar())
        except Exception as error:  # a role without the right to ask is no reason to stop logging
            log.debug("store size unknown: %s", error)
    return StoreStatus(size, None, floor_bytes)


@dataclass(frozen=True)
class PruneResult:
    rows: int
    batches: int
    cutoff: datetime
    seconds: float
    vacuumed_pages: int = 0
    longest_batch_s: float = 0.0  # the longest single batch transaction (the write lock it held)


class _Raced(Exception):
    """Another process deleted some of this batch's rows first."""


class Pruner:
    """Prunes the prediction log at ``engine`` every ``retention.interval_s`` on its own thread
    (``start``), or once when asked (``prune``)."""

    def __init__(self, engine: Engine, retention: Retention, clock=utcnow):
        self.engine, self.retention, self.clock = engine, retention, clock
        self.last: PruneResult | None = None
        self.last_error: str | None = None
        self.pruned = 0  # raw rows pruned by this instance
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._vacuum_note_given = False

    def start(self) -> Pruner:
        self._thread = threading.Thread(target=self._run, name="cncwear-prediction-prune", daemon=True)
        self._thread.start()
        return self

    def close(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.prune()
                self.last_error = None
            except Exception as error:  # reported and tried again next round; never raised into scoring
                self.last_error = f"{type(error).__name__}: {error}"
                log.error("prediction log: pruning failed, trying again in %.0f s: %s",
                          self.retention.interval_s, self.last_error)
            self._stop.wait(self.retention.interval_s)

    def cutoff(self, now: datetime | None = None) -> datetime:
        """Raw rows logged before this are pruned: now less the retention, floored to the minute
        (so a minute's roll-up is complete once its first row is pruned)."""
        return minute_of(to_utc(now or self.clock()) - timedelta(days=self.retention.days))

    def prune(self, now: datetime | None = None) -> PruneResult:
        """Prune every raw row older than the retention, batch by batch, then reclaim space."""
        started = time.perf_counter()
        cutoff = self.cutoff(now)
        rows = batches = 0
        longest = 0.0
        while not self._stop.is_set():
            batch_started = time.perf_counter()
            done = retry_when_locked(lambda: self._prune_batch(cutoff), "prediction log pruning")
            longest = max(longest, time.perf_counter() - batch_started)
            if not done:
                break
            rows += done
            batches += 1
            self.pruned += done
            if self.retention.pause_s > 0:
                self._stop.wait(self.retention.pause_s)
        vacuumed = self.reclaim() if rows else 0
        self.last = PruneResult(rows, batches, cutoff, time.perf_counter() - started, vacuumed, longest)
        if rows:
            log.info("prediction log: pruned %d raw rows logged before %s in %d batches (%.1f s)",
                     rows, cutoff.isoformat(), batches, self.last.seconds)
        return self.last

    def _prune_batch(self, cutoff: datetime) -> int:
        """One transaction: the oldest ``batch_rows`` rows before ``cutoff`` into the roll-ups, then deleted."""
        raw = prediction_log.c
        for _ in range(3):
            try:
                with self.engine.begin() as conn:
                    rows = conn.execute(select(prediction_log).where(raw.logged_at < cutoff)
                                        .order_by(raw.id).limit(self.retention.batch_rows)).mappings().all()
                    if not rows:
                        return 0
                    merge(conn, *rollup(rows))
                    deleted = conn.execute(delete(prediction_log).where(
                        raw.id >= rows[0]["id"], raw.id <= rows[-1]["id"], raw.logged_at < cutoff)).rowcount
                    if deleted != len(rows):
                        raise _Raced()
                    return len(rows)
            except (_Raced, IntegrityError):  # the unique roll-up keys catch a roll-up row added meanwhile
                log.info("prediction log: another process pruned the same rows; this batch is read again")
        log.info("prediction log: another process is pruning the same rows; this round leaves them to it")
        return 0

    def reclaim(self) -> int:
        """SQLite with ``auto_vacuum=INCREMENTAL``: give the free pages back to the file system in
        small steps (each a moment's write lock). Returns the pages given back."""
        if sqlite_file(self.engine) is None:
            return 0
        with self.engine.connect() as conn:
            mode = int(conn.execute(text("PRAGMA auto_vacuum")).scalar())
        if mode != 2:
            if not self._vacuum_note_given:
                self._vacuum_note_given = True
                log.warning("prediction log: %s was created without incremental vacuum: pruned space is reused "
                            "but the file does not shrink. To shrink it once, stop cncwear and run: "
                            "sqlite3 %s 'PRAGMA auto_vacuum=INCREMENTAL; VACUUM;'",
                            sqlite_file(self.engine), sqlite_file(self.engine))
            return 0
        given = 0
        while not self._stop.is_set():
            with self.engine.connect() as conn:
                free = int(conn.execute(text("PRAGMA freelist_count")).scalar())
                if free == 0:
                    break
                cursor = conn.connection.driver_connection.cursor()
                try:  # executescript steps the pragma to its end (execute frees one page only)
                    cursor.executescript(f"PRAGMA incremental_vacuum({min(free, self.retention.vacuum_pages)});")
                finally:
                    cursor.close()
                left = int(conn.execute(text("PRAGMA freelist_count")).scalar())
                conn.commit()
            if left >= free:
                break
            given += free - left
            if self.retention.pause_s > 0:
                self._stop.wait(self.retention.pause_s)
        return given


def retention_from(settings) -> Retention:
    """The retention the settings (``settings.Settings``) ask for."""
    return Retention(days=float(settings.prediction_log_retention_days), min_free_mb=float(settings.min_free_disk_mb))


def floor_bytes(retention: Retention | None) -> int:
    return int(retention.min_free_mb * MB) if retention is not None else 0


