"""Retrying a write transaction while SQLite says the database is locked.

Every connection already waits ``busy_timeout`` (``database.sqlite_pragmas``) for another
process's write lock, but a long write elsewhere (a feature-store import, a prediction-log
batch on a slow disk) can outlast it, and in WAL mode a transaction that read before another
process wrote fails at once. An operator's record (a tool change, a taught reference) must not
be lost to that: the whole transaction is run again after a backoff until ``budget_s`` is spent,
then the error is raised (nothing was written: the transaction rolled back).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.exc import OperationalError

from ..backoff import Backoff
from .audit_trail import AuditTrail
from .database import open_store

log = logging.getLogger(__name__)
T = TypeVar("T")
RETRY_BUDGET_S = 60.0


def is_locked(error: BaseException) -> bool:
    """SQLite's "database is locked" / "database table is locked" (SQLITE_BUSY, SQLITE_LOCKED)."""
    return isinstance(error, OperationalError) and "locked" in str(getattr(error, "orig", error)).lower()


def retry_when_locked(write: Callable[[], T], what: str, budget_s: float = RETRY_BUDGET_S) -> T:
    """``write()`` (one whole transaction), run again while the database is locked."""
    backoff = Backoff(first=0.05, cap=2.0, jitter=0.2)
    deadline = time.monotonic() + budget_s
    while True:
        try:
            return write()
        except OperationalError as error:
            delay = backoff.next_delay()
            if not is_locked(error) or time.monotonic() + delay > deadline:
                raise
            log.warning("%s: the database is locked; attempt %d failed, retrying in %.2f s",
                        what, backoff.attempts, delay)
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
