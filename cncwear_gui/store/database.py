"""Engines for cncwear's SQL stores, and creating their tables when several processes start at once.

The window, its trigger watcher (``cncwear pipeline watch``), ``cncwear serve`` and the CLI all
open the same databases. On a fresh install two of them can find a table missing at the same
moment; both then send CREATE TABLE and one fails with "table ... already exists" (or inserts a
duplicate first row; MLflow's migrations fail and can leave its database half-migrated).
``creating_tables`` serialises that step: per SQLite file with a lock file beside it, per
PostgreSQL database with a session advisory lock (several PCs may start at once on a new central
database). An MLflow server sets up its own database, so an http(s) tracking URI takes no lock.

Under that lock every store is brought to the schema this code reads (``bring_to_head``: the
Alembic revisions in ``store/migrations``), whichever store opens the database first: a new
database is created at the head revision, an older store (0.9.0's, or one a revision behind) is
upgraded in place, a SQLite file copied beside itself first; a store a newer cncwear wrote is
refused before anything is written (docs/architecture.md, "Store schema migrations").
"""

from __future__ import annotations

import getpass
import logging
import math
import re
import sqlite3
import numbers
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from sqlalchemy import MetaData, column, create_engine, event, inspect, table, text
from sqlalchemy.engine import Connection, Engine, make_url

from .. import __version__
from ..paths import user_data_dir
from . import migrations

log = logging.getLogger(__name__)

#: The layout of cncwear's own tables this code reads and writes: the number of the newest
#: revision in ``store/migrations/versions``. A store says which layout it has in its version
#: table (``cncwear_alembic_version``) and in ``store_info`` (key ``schema_version``, and
#: ``app_version``: the cncwear that created or last upgraded it).
STORE_SCHEMA_VERSION = migrations.schema_version(migrations.head())
#: What a 0.9.0 store is taken for: it has cncwear's tables but no version table.
BASELINE = migrations.revisions()[0]
_store_info = table("store_info", column("key"), column("value"))


class StoreTooNew(RuntimeError):
    """The store was written by a newer cncwear (a higher schema version or a revision this code
    does not know): refused, nothing written."""


class StoreUnreachable(RuntimeError):
    """The store's database cannot be reached or refuses the login (a server that is down or not
    there, a wrong password, a missing SQLite folder); the message names the URL, password hidden."""


#: Seconds a PostgreSQL connection attempt may take before it fails (a server that does not answer
#: must not hold a writer, or a starting node, for the operating system's two minutes).
CONNECT_TIMEOUT_S = 10


def default_store_url() -> str:
    """cncwear's own SQL stores share one SQLite file in the user data directory by default."""
    return f"sqlite:///{user_data_dir() / 'features.db'}"


def open_engine(url) -> Engine:
    """An engine for ``url``; SQLite connections get WAL mode and a busy timeout, PostgreSQL ones
    a connect timeout (``CONNECT_TIMEOUT_S`` unless the URL sets ``connect_timeout``)."""
    parsed = make_url(url)
    connect_args = {}
    if parsed.get_backend_name() == "postgresql" and "connect_timeout" not in parsed.query:
        connect_args["connect_timeout"] = CONNECT_TIMEOUT_S
    engine = create_engine(parsed, future=True, connect_args=connect_args)
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


#: The advisory lock key of "creating cncwear's tables" (any fixed bigint; PostgreSQL scopes it per database).
CREATING_TABLES_LOCK = 0x636E_6377_6561_72  # "cncwear"


@contextmanager
def creating_tables(url: str, engine: Engine | None = None) -> Iterator[None]:
    """Hold while checking for and creating the tables (and first rows) of the database at ``url``
    (``engine``: an open engine on it, used for PostgreSQL's lock)."""
    parsed = make_url(url) if "://" in url and not url.startswith(("http://", "https://")) else None
    if parsed is not None and parsed.get_backend_name() == "postgresql":
        own = engine is None  # e.g. MLflow's postgresql:// URI: take the lock through the pinned driver
        engine = open_engine(parsed.set(drivername="postgresql+psycopg")) if own else engine
        with _postgresql_lock(engine, own):
            yield
        return
    database = parsed.database if parsed is not None and parsed.get_backend_name() == "sqlite" else None
    if not database or database == ":memory:" or not Path(database).parent.is_dir():
        yield  # nothing to share, or a folder that is not there: SQLite says so, the lock must not create it
        return
    from filelock import FileLock

    with FileLock(str(Path(database)) + ".init.lock"):
        yield


@contextmanager
def _postgresql_lock(engine: Engine, own: bool) -> Iterator[None]:
    """A session advisory lock on one connection, held while other connections create the tables:
    a second process waits here, then finds them there (CREATE TABLE, CREATE FUNCTION and
    CREATE TRIGGER run at once fail with duplicate or "tuple concurrently updated" errors)."""
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": CREATING_TABLES_LOCK})
            conn.commit()
            try:
                yield
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": CREATING_TABLES_LOCK})
                conn.commit()
    finally:
        if own:
            engine.dispose()


def redacted(url: str) -> str:
    """A database URL with its password hidden, for messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # not a URL SQLAlchemy can parse: still no password in the message
        return re.sub(r"(://[^:/@]*:)[^@]*@", r"\1***@", url)


def store_info(conn: Connection) -> dict[str, str]:
    """The ``store_info`` rows (schema_version, app_version); empty when there is no such table."""
    if not inspect(conn).has_table("store_info"):
        return {}
    return dict(conn.execute(_store_info.select()).tuples().all())


def connection_problem(url: str, error: BaseException) -> str:
    """What the driver said about a failed connection, on one line, with the URL's password hidden."""
    reason = str(getattr(error, "orig", None) or error).split("(Background on this error")[0]
    reason = " ".join(reason.split())
    password = make_url(url).password if "://" in str(url) else None
    if password:
        reason = reason.replace(str(password), "***")
    return f"cannot connect to the store at {redacted(str(url))}: {reason}"


def check_connection(engine: Engine, url: str) -> None:
    """Connect once to a database server; one that is down or not there, or a refused login, raises
    :class:`StoreUnreachable` naming the URL (password hidden) and what the driver said. (A SQLite
    file opens lazily and says what is wrong itself.)"""
    from sqlalchemy.exc import OperationalError

    if engine.dialect.name == "sqlite":
        return
    try:
        with engine.connect():
            pass
    except OperationalError as error:
        engine.dispose()
        raise StoreUnreachable(connection_problem(url, error)) from None


def refuse_newer_store(conn: Connection, url: str) -> None:
    """Raise :class:`StoreTooNew` when the database holds a newer cncwear's schema (a revision this
    code does not know, or a higher ``schema_version`` in ``store_info``): this code would misread
    it, and creating or upgrading its tables there could spoil it."""
    revision = migrations.stored_revision(conn)
    info = store_info(conn)
    raw = info.get("schema_version")
    try:
        stored = int(raw) if raw is not None else STORE_SCHEMA_VERSION
    except ValueError:
        stored = None
    unknown = revision is not None and revision not in migrations.revisions()
    if not unknown and stored is not None and stored <= STORE_SCHEMA_VERSION:
        return
    writer = f"cncwear {info['app_version']}" if info.get("app_version") else "a newer cncwear"
    shown = raw if raw is not None else "unknown"
    at = f" at revision {revision}" if unknown else ""
    raise StoreTooNew(
        f"the store at {redacted(url)} has schema version {shown}{at} (written by {writer}); this is cncwear "
        f"{__version__}, which reads schema version {STORE_SCHEMA_VERSION} at most. Nothing was changed: "
        f"install {writer} or newer, or point this cncwear at another store")


def store_status(conn: Connection, url: str = "") -> dict:
    """Where a store stands: its revision (None: no version table), schema and app version as
    ``store_info`` records them, this code's head, and ``state``: current, behind, new (no
    cncwear table yet) or newer (``refused``: why, naming both versions)."""
    revision = migrations.stored_revision(conn)
    info = store_info(conn)
    tables = set(inspect(conn).get_table_names()) - {migrations.VERSION_TABLE}
    refused = None
    try:
        refuse_newer_store(conn, url)
        state = ("current" if revision == migrations.head() else
                 "new" if revision is None and not tables else "behind")
    except StoreTooNew as error:
        state, refused = "newer", str(error)
    return {"revision": revision, "schema_version": info.get("schema_version"), "app_version": info.get("app_version"),
            "head": migrations.head(), "head_schema_version": STORE_SCHEMA_VERSION, "this_app_version": __version__,
            "state": state, "refused": refused}


def bring_to_head(engine: Engine, url: str) -> dict | None:
    """Bring the database at ``url`` to the head revision; call it holding :func:`creating_tables`.

    A store a newer cncwear wrote is refused first (:class:`StoreTooNew`, nothing written). A new
    database gets every table; a store without a version table is taken for 0.9.0's (revision
    0001: its missing tables are created) and upgraded from there. A SQLite store with tables is
    copied beside itself first (``features.db.schema-1.bak``). The revisions and the new
    ``store_info`` versions are one transaction (on SQLite the DDL commits as it goes; every
    revision creates only what is missing, so running it again finishes a broken upgrade).
    Returns what was done (revision before and after, the copy), None when already at head."""
    with engine.connect() as conn:
        refuse_newer_store(conn, url)
        status = store_status(conn, url)
    if status["state"] == "current":
        return None
    before = status["revision"]
    copy = _copy_sqlite(engine, migrations.schema_version(before or BASELINE)) if status["state"] == "behind" else None
    with engine.begin() as conn:
        migrations.upgrade(conn)
        conn.execute(_store_info.delete().where(_store_info.c.key.in_(["schema_version", "app_version"])))
        conn.execute(_store_info.insert(), [{"key": "schema_version", "value": str(STORE_SCHEMA_VERSION)},
                                            {"key": "app_version", "value": __version__}])
    if status["state"] == "behind":
        log.warning("the store at %s was upgraded from %s to schema version %d%s", redacted(url),
                    f"revision {before}" if before else "cncwear 0.9.0's schema (no version table)",
                    STORE_SCHEMA_VERSION, f"; a copy of it as it was: {copy}" if copy else "")
    return {"from": before, "to": migrations.head(), "state": status["state"], "copy": str(copy) if copy else None}


def read_status(url: str) -> dict:
    """:func:`store_status` of the database at ``url`` (``cncwear db current``), writing nothing.
    A SQLite file that is not there is an error: reading must not create a store."""
    _existing_sqlite_file(url)
    engine = open_engine(url)
    try:
        with engine.connect() as conn:
            return {"store": redacted(url), **store_status(conn, url)}
    finally:
        engine.dispose()


def upgrade_store(url: str) -> dict:
    """Bring the database at ``url`` to the head revision under :func:`creating_tables`
    (``cncwear db upgrade``); :class:`StoreTooNew` for a newer store. What was done, and the status."""
    engine = open_engine(url)
    try:
        with creating_tables(url, engine):
            done = bring_to_head(engine, url) or {"from": migrations.head(), "to": migrations.head(), "state": "current",
                                                  "copy": None}
        with engine.connect() as conn:
            return {"store": redacted(url), **store_status(conn, url), "upgraded_from": done["from"], "was": done["state"],
                    "copy": done["copy"]}
    finally:
        engine.dispose()


def _existing_sqlite_file(url: str) -> None:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database and parsed.database != ":memory:" \
            and not Path(parsed.database).is_file():
        raise FileNotFoundError("no such file (reading a store never creates one)")


def _copy_sqlite(engine: Engine, schema_version: int) -> Path | None:
    """A consistent copy of a SQLite store beside it (sqlite3's online backup: WAL included)."""
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:":
        return None
    source = Path(database)
    target = source.with_name(f"{source.name}.schema-{schema_version}.bak")
    if target.exists():
        target = source.with_name(f"{source.name}.schema-{schema_version}-{utcnow():%Y%m%dT%H%M%S}.bak")
    with sqlite3.connect(source) as original, sqlite3.connect(target) as copy:
        original.backup(copy)
    original.close()
    copy.close()
    return target


def _missing_tables(engine: Engine, metadata: MetaData) -> list[str]:
    present = set(inspect(engine).get_table_names())
    return sorted(name for name in metadata.tables if name not in present)


def open_store(url: str | None, metadata: MetaData, after_create: Callable[[Engine], None] | None = None) -> Engine:
    """An engine on a store brought to the head revision (the feature store's database by default),
    then ``after_create(engine)`` (first rows, triggers), all under :func:`creating_tables`.
    A store a newer cncwear wrote is refused (:class:`StoreTooNew`) before anything is written; one
    that cannot be reached raises :class:`StoreUnreachable`.
    ``metadata``: the caller's tables; one no revision creates is a programming error, said at once."""
    url = url or default_store_url()
    engine = open_engine(url)
    check_connection(engine, url)
    try:
        with creating_tables(url, engine):
            bring_to_head(engine, url)
            missing = _missing_tables(engine, metadata)
            if missing:
                raise RuntimeError(f"no store revision creates table(s) {', '.join(missing)}: add one to "
                                   "cncwear_gui/store/migrations/versions (docs/architecture.md)")
            if after_create is not None:
                after_create(engine)
    except BaseException:
        engine.dispose()
        raise
    return engine


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def aware_utc(value: datetime | None) -> datetime | None:
    """A stored time as an aware UTC datetime: SQLite hands back naive datetimes (written as UTC),
    PostgreSQL aware ones in the session's time zone."""
    if value is None:
        return None
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


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
