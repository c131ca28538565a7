"""Exports of the stores to CSV and Parquet: alarms, the audit trail, the prediction log, tool
changes and the floor's labels, filtered by machine and time, streamed in bounded memory.

:func:`export` reads one kind of row (:data:`KINDS`) from a store (SQLite or PostgreSQL) in
chunks of ``chunk_rows`` — a server-side cursor on PostgreSQL (``stream_results``), SQLite's own
cursor — and writes each chunk as it comes: one Parquet row group per chunk
(``pyarrow.parquet.ParquetWriter``) or the next lines of a CSV file (``pyarrow.csv.CSVWriter``).
Memory stays at about one chunk, whatever the number of rows.

* **Columns.** Every kind has a fixed column order and types (:data:`KINDS`;
  docs/guide/maintenance.md lists them). Times are UTC: Parquet ``timestamp[us, tz=UTC]``, CSV
  ``2026-12-03 19:08:34.123456Z``. In CSV an empty unquoted field is a missing value, ``""`` an
  empty text.
* **Filters.** ``machines`` (any of them; none: all) and the time range ``[since, until)`` on the
  kind's time column (``at``, ``logged_at``, ``recorded_at``). Rows come oldest first (by id).
* **All or nothing.** The file is written beside the target and renamed over it at the end
  (``atomic_files.atomic_path``): a cancel (``Task.cancel``), a database error or a full disk
  leave no file and no half file, and an older file of the same name stays as it was.
* **Progress.** ``task.progress(rows done / rows counted first)`` after each chunk; the count and
  the rows are read in one REPEATABLE READ transaction on PostgreSQL, so they agree.
* **Read only.** An export creates no table: a kind whose table is not in the database (no tool
  change was ever recorded) gives a file with the columns and no rows.

Bad requests (unknown kind or format, a folder that is not there or not writable, since after
until) raise :class:`ExportRejected` before the database is touched.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import String, Table, func, inspect, literal_column, select, type_coerce
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import ArgumentError, OperationalError

from ..atomic_files import atomic_path
from ..tasks import Task, ensure_task
from .database import default_store_url, open_engine, redacted, refuse_newer_store, to_utc

FORMATS = ("csv", "parquet")
CHUNK_ROWS = 20_000


class ExportRejected(ValueError):
    """An export that cannot be done as asked; the message says what to change. Nothing was written."""


@dataclass(frozen=True)
class Kind:
    """One exportable kind: its table, its time column, and the columns (name, source column, type)."""

    name: str
    title: str
    table: Callable[[], Table]  # imported when used: the labels' table lives in the feature store
    time_column: str
    columns: tuple[tuple[str, str, str], ...]  # (export name, table column, "int"|"float"|"str"|"time")
    action_prefix: str | None = None  # audit rows of one family only (the alarms)
    number_offset: int = 0  # added to an id column exported as a number (floor runs: 100001, …)


def _audit_table() -> Table:
    from .audit_trail import audit_trail

    return audit_trail


def _prediction_table() -> Table:
    from .prediction_tables import prediction_log

    return prediction_log


def _tool_change_table() -> Table:
    from .tool_changes import tool_changes

    return tool_changes


def _label_table() -> Table:
    from .feature_store import floor_runs

    return floor_runs


def _floor_offset() -> int:
    from .feature_store import FLOOR_RUN_OFFSET

    return FLOOR_RUN_OFFSET


KINDS: dict[str, Kind] = {kind.name: kind for kind in (
    Kind("alarms", "Alarms (every alarm transition and operator action)", _audit_table, "at", (
        ("id", "id", "int"), ("at", "at", "time"), ("machine", "machine", "str"), ("action", "action", "str"),
        ("alarm_id", "subject", "str"), ("old_state", "old_value", "str"), ("new_state", "new_value", "str"),
        ("user", "os_user", "str"), ("host", "host", "str"), ("comment", "comment", "str")),
        action_prefix="alarm."),
    Kind("audit", "Audit trail (everything audited)", _audit_table, "at", (
        ("id", "id", "int"), ("at", "at", "time"), ("machine", "machine", "str"), ("action", "action", "str"),
        ("subject", "subject", "str"), ("old_value", "old_value", "str"), ("new_value", "new_value", "str"),
        ("user", "os_user", "str"), ("host", "host", "str"), ("comment", "comment", "str"))),
    Kind("predictions", "Prediction log (every live prediction kept)", _prediction_table, "logged_at", (
        ("id", "id", "int"), ("logged_at", "logged_at", "time"), ("machine", "machine", "str"),
        ("sample_time", "sample_time", "time"), ("model_version", "model_version", "str"),
        ("probability", "probability", "float"), ("wear_state", "wear_state", "str"),
        ("quality_flags", "quality_flags", "int"), ("run_id", "run_id", "int"))),
    Kind("tool-changes", "Tool changes", _tool_change_table, "at", (
        ("id", "id", "int"), ("at", "at", "time"), ("machine", "machine", "str"), ("reason", "reason", "str"),
        ("label", "label", "str"), ("user", "user", "str"), ("host", "host", "str"), ("comment", "comment", "str"),
        ("setup", "setup", "str"), ("model_version", "model_version", "str"), ("run_label", "run_label", "str"),
        ("cutting_s", "cutting_s", "float"), ("runs", "runs", "int"))),
    Kind("labels", "Labels (floor-labelled runs: tool changes worn/broken, false alarms)", _label_table,
         "recorded_at", (
             ("run", "id", "int"), ("recorded_at", "recorded_at", "time"), ("machine", "machine", "str"),
             ("label", "label", "str"), ("reason", "reason", "str"), ("setup", "setup", "str"),
             ("model_version", "model_version", "str"), ("user", "user", "str"), ("host", "host", "str"),
             ("sha256", "sha256", "str"))),
)}


def _arrow_type(code: str):
    import pyarrow as pa

    return {"int": pa.int64(), "float": pa.float64(), "str": pa.string(), "time": pa.timestamp("us", tz="UTC")}[code]


def schema_of(kind: str):
    """The export's columns and types for ``kind`` (a ``pyarrow.Schema``)."""
    import pyarrow as pa

    return pa.schema([(name, _arrow_type(code)) for name, _column, code in _kind(kind).columns])


@dataclass(frozen=True)
class ExportResult:
    kind: str
    format: str
    path: Path
    rows: int
    columns: tuple[str, ...]

    def to_json(self) -> dict:
        return {"kind": self.kind, "format": self.format, "path": str(self.path), "rows": self.rows,
                "columns": list(self.columns)}


def _kind(kind: str) -> Kind:
    if kind not in KINDS:
        raise ExportRejected(f"unknown export kind {kind!r}; one of: {', '.join(KINDS)}")
    return KINDS[kind]


def format_of(path: str | Path, given: str | None = None) -> str:
    """``given``, else the format the file name's suffix says (.csv, .parquet/.pq)."""
    if given:
        if given.lower() not in FORMATS:
            raise ExportRejected(f"unknown export format {given!r}; one of: {', '.join(FORMATS)}")
        return given.lower()
    suffix = Path(path).suffix.lower()
    if suffix == ".csv":
        return "csv"
    if suffix in (".parquet", ".pq"):
        return "parquet"
    raise ExportRejected(f"cannot tell the format from the file name {Path(path).name!r}: name it .csv or .parquet, "
                         f"or give the format ({', '.join(FORMATS)})")


def check_target(path: str | Path) -> Path:
    """The file to write, when its folder is there and writable; ExportRejected says what is wrong."""
    path = Path(path).expanduser()
    folder = path.parent if str(path.parent) else Path(".")
    if path.is_dir():
        raise ExportRejected(f"{path} is a folder; give the file to write")
    if not folder.is_dir():
        raise ExportRejected(f"the folder {folder} does not exist")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise ExportRejected(f"the folder {folder} is not writable")
    if path.exists() and not os.access(path, os.W_OK):
        raise ExportRejected(f"{path} exists and is not writable")
    return path


def _time(value: Any, name: str) -> datetime | None:
    if value is None or value == "":
        return None
    try:
        return to_utc(value)
    except (TypeError, ValueError):
        raise ExportRejected(f"{name}: {value!r} is not a time; give ISO 8601, e.g. 2026-12-01 or "
                             "2026-12-01T06:00:00+01:00 (without an offset: UTC)") from None


def _check_store(url: str) -> None:
    """A SQLite store that is not there is named, not created empty by connecting to it."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ExportRejected(f"{url!r} is not a database URL (e.g. sqlite:///path/features.db or "
                             "postgresql+psycopg://user@host/db)") from None
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if not database or database == ":memory:" or not Path(database).is_file():
            raise ExportRejected(f"there is no store at {redacted(url)}")


@contextmanager
def _connected(engine, url: str) -> Iterator[Connection]:
    """A connection; a server that cannot be reached (or refuses the login) is named, without its password."""
    try:
        conn = engine.connect()
    except OperationalError as error:
        reason = str(getattr(error, "orig", None) or error).strip().splitlines()[0]
        raise ConnectionError(f"cannot connect to the store at {redacted(url)}: {reason}") from None
    with conn:
        yield conn


def export(kind: str, path: str | Path, url: str | None = None, fmt: str | None = None,
           machines: Sequence[str] | None = None, since: Any = None, until: Any = None,
           task: Task | None = None, chunk_rows: int = CHUNK_ROWS) -> ExportResult:
    """Write the rows of ``kind`` from the store at ``url`` (default: the feature store's database)
    to ``path`` as CSV or Parquet (``fmt``; default: from the suffix); returns what was written.

    ``machines``: only these (None or empty: all). ``since``/``until``: the time range
    ``[since, until)`` (datetimes, ISO text or epoch seconds; naive: UTC). ``task``: progress and
    cancel; a cancel raises ``tasks.Cancelled`` and leaves no file.
    """
    spec = _kind(kind)
    fmt = format_of(path, fmt)
    path = check_target(path)
    since, until = _time(since, "since"), _time(until, "until")
    if since is not None and until is not None and since > until:
        raise ExportRejected(f"since ({since.isoformat()}) is after until ({until.isoformat()})")
    if chunk_rows < 1:
        raise ExportRejected("chunk_rows must be at least 1")
    wanted = sorted({str(m).strip() for m in machines or () if str(m).strip()})
    task = ensure_task(task)
    url = url or default_store_url()
    _check_store(url)
    schema = schema_of(kind)
    engine = open_engine(url)
    try:
        with _connected(engine, url) as conn:
            if conn.dialect.name == "postgresql":
                conn = conn.execution_options(isolation_level="REPEATABLE READ")  # the count and the rows agree
            refuse_newer_store(conn, url)
            table = spec.table()
            present = inspect(conn).has_table(table.name)
            rows = 0
            task.progress(0.0, f"counting the {kind} rows in {redacted(url)}")
            with atomic_path(path, fsync=False) as temporary:
                try:
                    writer = _writer(fmt, temporary, schema)
                except OSError as error:  # e.g. a read-only share the access check could not tell
                    raise ExportRejected(f"cannot write in the folder {path.parent}: {error.strerror or error}") from None
                try:
                    if present:
                        query = _query(spec, table, wanted, since, until, conn.dialect.name)
                        total = conn.execute(select(func.count()).select_from(query.subquery())).scalar() or 0
                        result = conn.execute(query.execution_options(stream_results=True, yield_per=chunk_rows))
                        for chunk in result.partitions():
                            writer.write(_batch(chunk, schema, spec))
                            rows += len(chunk)
                            task.progress(rows / total if total else 1.0, f"{rows:,} of {total:,} rows")
                        result.close()
                finally:
                    writer.close()
                task.check()  # a cancel during the last chunk: no file
            task.progress(1.0, f"{rows:,} rows written")
    finally:
        engine.dispose()
    return ExportResult(kind, fmt, path, rows, tuple(schema.names))


def _query(spec: Kind, table: Table, machines: list[str], since: datetime | None, until: datetime | None,
           dialect: str):
    columns = []
    for name, source, code in spec.columns:
        column = table.c[source]
        if source == "id" and spec.name == "labels":  # the run's experiment number
            columns.append((column + literal_column(str(_floor_offset()))).label(name))
        elif code == "time" and dialect == "sqlite":
            # the stored text as it is: parsed per chunk by pyarrow, not per value by SQLAlchemy
            columns.append(type_coerce(column, String).label(name))
        else:
            columns.append(column.label(name))
    query = select(*columns).order_by(table.c.id)
    if spec.action_prefix:
        query = query.where(table.c.action.startswith(spec.action_prefix, autoescape=True))
    if machines:
        query = query.where(table.c.machine.in_(machines))
    stamp = table.c[spec.time_column]
    if since is not None:
        query = query.where(stamp >= since)
    if until is not None:
        query = query.where(stamp < until)
    return query


def _batch(rows: Sequence[Sequence[Any]], schema, spec: Kind):
    """One chunk of result rows as a record batch of the export's schema."""
    import pyarrow as pa

    width = len(schema)
    columns = list(zip(*rows)) if rows else [()] * width
    arrays = []
    for values, field in zip(columns, schema):
        if pa.types.is_timestamp(field.type):
            arrays.append(_timestamps(values, field.type))
        else:
            arrays.append(pa.array(values, type=field.type, from_pandas=False))
    return pa.record_batch(arrays, schema=schema)


def _timestamps(values: Sequence[Any], arrow_type):
    """A time column as UTC timestamps: datetimes (PostgreSQL's aware ones are converted; naive
    ones are UTC) or SQLite's stored text (``2026-12-03 19:08:34.123456``, UTC), parsed at once."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if not any(isinstance(value, str) for value in values):
        return pa.array([_naive_utc(value) for value in values], type=arrow_type)
    text = pa.array(values, type=pa.string())
    try:
        return pc.cast(pc.cast(text, pa.timestamp(arrow_type.unit)), arrow_type)  # naive text is UTC
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):  # another writer's format: value by value
        return pa.array([_naive_utc(value) for value in values], type=arrow_type)


def _naive_utc(value: Any) -> datetime | None:
    """A time as naive UTC (``to_utc``, then without its zone), which pyarrow stores as it is. Aware
    ones it would convert itself, but not once PYARROW_IGNORE_TIMEZONE is set — and importing FLAML
    sets it for the whole process, so a PostgreSQL export after a FLAML training came out shifted
    by the server's UTC offset."""
    utc = to_utc(value)
    return None if utc is None else utc.replace(tzinfo=None)


class _ParquetWriter:
    def __init__(self, path: Path, schema):
        import pyarrow.parquet as pq

        self._writer = pq.ParquetWriter(str(path), schema, compression="zstd")

    def write(self, batch) -> None:
        import pyarrow as pa

        self._writer.write_table(pa.Table.from_batches([batch]), row_group_size=max(1, batch.num_rows))

    def close(self) -> None:
        self._writer.close()


class _CsvWriter:
    def __init__(self, path: Path, schema):
        import pyarrow.csv as csv

        self._file = open(path, "xb")
        try:
            self._writer = csv.CSVWriter(self._file, schema, write_options=csv.WriteOptions(quoting_style="needed"))
        except BaseException:
            self._file.close()
            raise

    def write(self, batch) -> None:
        if batch.num_rows:
            self._writer.write_batch(batch)

    def close(self) -> None:
        try:
            self._writer.close()
        finally:
            self._file.close()


def _writer(fmt: str, path: Path, schema) -> _ParquetWriter | _CsvWriter:
    return _ParquetWriter(path, schema) if fmt == "parquet" else _CsvWriter(path, schema)
