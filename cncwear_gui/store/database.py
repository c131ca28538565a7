"""Engines for cncwear's SQL stores, and creating their tables when several processes start at once.

The window, its trigger watcher (``cncwear pipeline watch``), ``cncwear serve`` and the CLI all
open the same databases. On a fresh install two of them can find a table missing at the same
moment; both then send CREATE TABLE and one fails with "table ... already exists" (or inserts a
duplicate first row; MLflow's migrations fail and can leave its database half-migrated).
``creating_tables`` serialises that step per SQLite file with a lock file beside it. A server
database (PostgreSQL, an MLflow server) is set up once by whoever runs it, so it takes no lock.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine, make_url


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
def creating_tables(url: str) -> Iterator[None]:
    """Hold while checking for and creating the tables (and first rows) of the database at ``url``."""
    parsed = make_url(url) if "://" in url and not url.startswith(("http://", "https://")) else None
    database = parsed.database if parsed is not None and parsed.get_backend_name() == "sqlite" else None
    if not database or database == ":memory:" or not Path(database).parent.is_dir():
        yield  # nothing to share, or a folder that is not there: SQLite says so, the lock must not create it
        return
    from filelock import FileLock

    with FileLock(str(Path(database)) + ".init.lock"):
        yield
