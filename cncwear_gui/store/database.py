"""Engines for cncwear's SQL stores, and creating their tables when several processes start at once.

The window, its trigger watcher (``cncwear pipeline watch``), ``cncwear serve`` and the CLI all
open the same databases. On a fresh install two of them can find a table missing at the same
moment; both then send CREATE TABLE and one fails with "table ... already exists" (or inserts a
duplicate first row; MLflow's migrations fail and can leave its database half-migrated).
``creating_tables`` serialises that step per SQLite file with a lock file beside it. A server
database (PostgreSQL, an MLflow server) is set up once by whoever runs it, so it takes no lock.
"""

from __future__ import annotations

import getpass
import math
import numbers
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from sqlalchemy import MetaData, create_engine, event
from sqlalchemy.engine import Engine, make_url

from ..paths import user_data_dir



def default_store_url() -> str:
    """cncwear's own SQL stores share one SQLite file in the user data directory by default."""
    return f"sqlite:///{user_data_dir() / 'features.db'}"


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
    # A new store reclaims pruned space in small steps (store/retention.py). Only set while there is
    # no table yet: that is when it takes effect, and setting it later would wait for the write lock.
    if cursor.execute("SELECT count(*) FROM sqlite_master").fetchone()[0] == 0:
        cursor.execute("PRAGMA auto_vacuum=INCREMENTAL")
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


def open_store(url: str | None, metadata: MetaData, after_create: Callable[[Engine], None] | None = None) -> Engine:
    """An engine with ``metadata``'s tables created if missing (the feature store's database by default)."""
    url = url or default_store_url()
    engine = open_engine(url)
    with creating_tables(url):
        metadata.create_all(engine)
        if after_create is not None:
            after_create(engine)
    return engine


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def aware_utc(value: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; they were written as UTC."""
    return value.replace(tzinfo=timezone.utc) if value is not None and value.tzinfo is None else value


def to_utc(value: Any) -> datetime | None:
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



def os_user() -> str:
    """The logged-in user's name, for audit and history rows."""
    try:
        return getpass.getuser()
    except Exception:  # no login name (some containers)
        return "unknown"
