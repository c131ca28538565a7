"""Engines for cncwear's own SQL stores, and creating their tables when several processes start at once.

The window, its trigger watcher (``cncwear pipeline watch``), ``cncwear serve`` and the CLI all
open the same databases. On a fresh install two of them can find a table missing at the same
moment; both then send CREATE TABLE and one fails with "table ... already exists" (or inserts a
duplicate first row). ``creating_tables`` serialises that step per SQLite file with a lock file
beside it. A server database (PostgreSQL) is set up once by whoever runs it, so it takes no lock.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine


def open_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite connections get WAL mode and a busy timeout."""
    engine = create_engine(url, future=True)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", sqlite_pragmas)
    return engine


def sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA busy_timeout=10000")  # first: switching to WAL needs the lock another process may hold
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()


@contextmanager
def creating_tables(engine: Engine) -> Iterator[None]:
    """Hold while checking for and creating tables (and their first rows)."""
    database = engine.url.database if engine.dialect.name == "sqlite" else None
    if not database or database == ":memory:":
        yield
        return
    from filelock import FileLock

    with FileLock(str(Path(database)) + ".init.lock"):
        yield
