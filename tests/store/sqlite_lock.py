"""A real SQLite write lock held from another connection, and engines that give up waiting fast."""

from __future__ import annotations

import sqlite3
import threading
from contextlib import contextmanager

from sqlalchemy import event


def short_busy_timeout(*engines, ms: int = 50) -> None:
    """New connections of ``engines`` wait only ``ms`` for a lock (the store's 10 s would hide the
    retry): SQLite then says "database is locked" and the store's own retry has to carry the write."""
    for engine in engines:
        event.listen(engine, "connect", lambda dbapi, _record: dbapi.execute(f"PRAGMA busy_timeout={ms}"))
        engine.dispose()


@contextmanager
def write_lock_held(path, seconds: float):
    """Another connection takes the write lock (and writes a row of its own) and releases it after
    ``seconds``; yields once the lock is held. The holder's row is committed at release."""
    held, release = threading.Event(), threading.Event()
    errors = []

    def hold():
        try:
            holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            holder.execute("BEGIN IMMEDIATE")
            holder.execute("CREATE TABLE IF NOT EXISTS holder_rows (note TEXT)")
            holder.execute("INSERT INTO holder_rows VALUES ('written while holding the lock')")
            held.set()
            release.wait(seconds)
            holder.execute("COMMIT")
            holder.close()
        except Exception as error:  # reported to the test
            errors.append(error)
            held.set()

    thread = threading.Thread(target=hold, daemon=True)
    thread.start()
    held.wait(10)
    if errors:
        raise errors[0]
    try:
        yield
    finally:
        release.set()
        thread.join(10)
        if errors:
            raise errors[0]
