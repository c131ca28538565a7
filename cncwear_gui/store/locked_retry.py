"""Retrying a write transaction while SQLite says the database is locked (or PostgreSQL that it lost a race).

Every connection already waits ``busy_timeout`` (``database.sqlite_pragmas``) for another
process's write lock, but a long write elsewhere (a feature-store import, a prediction-log
batch on a slow disk) can outlast it, and in WAL mode a transaction that read before another
process wrote fails at once. An operator's record (a tool change, a taught reference) must not
be lost to that: the whole transaction is run again after a backoff until ``budget_s`` is spent,
then the error is raised (nothing was written: the transaction rolled back).

On PostgreSQL writers wait for each other's row locks instead, but two PCs can still collide: a
deadlock or serialization failure, or a number both allocated at once (the next taught-reference
version, the same floor run stored twice), which the loser sees as a unique violation of the
constraint the caller names in ``races``. Running the transaction again then reads the winner's row.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

from ..backoff import Backoff
from .audit_trail import AuditTrail
from .database import open_store

log = logging.getLogger(__name__)
T = TypeVar("T")
RETRY_BUDGET_S = 60.0
POSTGRESQL_RETRY_STATES = ("40001", "40P01")  # serialization_failure, deadlock_detected


def is_locked(error: BaseException) -> bool:
    """SQLite's "database is locked" / "database table is locked" (SQLITE_BUSY, SQLITE_LOCKED)."""
    return isinstance(error, OperationalError) and "locked" in str(getattr(error, "orig", error)).lower()


def lost_race(error: BaseException, races: tuple[str, ...] = ()) -> bool:
    """PostgreSQL's deadlock or serialization failure, or a unique violation of one of ``races``."""
    orig = getattr(error, "orig", None)
    if not isinstance(error, DBAPIError) or orig is None:
        return False
    if getattr(orig, "sqlstate", None) in POSTGRESQL_RETRY_STATES:
        return True
    constraint = getattr(getattr(orig, "diag", None), "constraint_name", None)
    return isinstance(error, IntegrityError) and constraint is not None and constraint in races


def retry_when_locked(write: Callable[[], T], what: str, budget_s: float = RETRY_BUDGET_S,
                      races: tuple[str, ...] = ()) -> T:
    """``write()`` (one whole transaction), run again while the database is locked or another
    writer won a race (``races``: the unique constraints of numbers the transaction allocates)."""
    backoff = Backoff(first=0.05, cap=2.0, jitter=0.2)
    deadline = time.monotonic() + budget_s
    while True:
        try:
            return write()
        except DBAPIError as error:
            delay = backoff.next_delay()
            locked = is_locked(error)
            if not (locked or lost_race(error, races)) or time.monotonic() + delay > deadline:
                raise
            log.warning("%s: %s; attempt %d failed, retrying in %.2f s", what,
                        "the database is locked" if locked else "another writer got there first",
                        backoff.attempts, delay)
            time.sleep(delay)


class AuditedStore:
    """A store whose writes carry their audit row in the same transaction and are retried while
    the database is locked: the shared opening and closing of the taught references and the
    tool-change log. Subclasses set ``metadata`` (their tables)."""

    metadata = None

    def __init__(self, url: str | None = None, retry_for_s: float = RETRY_BUDGET_S):
        self.audit = AuditTrail(url)  # creates the audit table (and its append-only triggers) first
        self.engine = open_store(url, self.metadata)
        self.url = self.engine.url.render_as_string(hide_password=False)  # str() masks a password
        self.retry_for_s = retry_for_s

    def close(self) -> None:
        self.engine.dispose()
        self.audit.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()
