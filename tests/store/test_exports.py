"""Exports to CSV and Parquet, on SQLite and PostgreSQL: rows written through the stores' own APIs
read back the same (pyarrow and pandas), filters by machine and time honoured, progress from a
count, a cancel or a refused request leaving no file."""

from datetime import datetime, timedelta, timezone

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from cncwear_gui.atomic_files import PART_SUFFIX
from cncwear_gui.store.audit_trail import AuditTrail
from cncwear_gui.store.exports import KINDS, ExportRejected, export, schema_of
from cncwear_gui.store.feature_store import FeatureStore
from cncwear_gui.store.prediction_log import PredictionLog
from cncwear_gui.store.tool_changes import ToolChangeLog
from cncwear_gui.tasks import Cancelled, Task

T0 = datetime(2026, 11, 2, 6, 0, tzinfo=timezone.utc)


def read_parquet(path) -> list[dict]:
    table = pq.read_table(path)
    return table.to_pylist()


def read_csv(path, kind: str) -> list[dict]:
    """The CSV as written: the export's types, an empty unquoted field missing, "" an empty text."""
    schema = schema_of(kind)
    table = pacsv.read_csv(path, convert_options=pacsv.ConvertOptions(
        column_types=schema, strings_can_be_null=True, quoted_strings_can_be_null=False))
    assert table.schema.names == schema.names
    return table.to_pylist()


def round_trip(tmp_path, kind: str, url: str, expected: list[dict], **filters) -> None:
    """Export ``kind`` to both formats; each reads back as ``expected``, in order."""
    for fmt in ("csv", "parquet"):
        path = tmp_path / f"{kind}-{len(filters)}.{fmt}"
        result = export(kind, path, url, **filters)
        assert result.rows == len(expected) and result.format == fmt
        back = read_parquet(path) if fmt == "parquet" else read_csv(path, kind)
        assert back == expected, fmt
        assert pq.read_schema(path) == schema_of(kind) if fmt == "parquet" else True
    frame = pd.read_csv(tmp_path / f"{kind}-{len(filters)}.csv")  # what a quality engineer opens
    assert list(frame.columns) == [name for name, _source, _code in KINDS[kind].columns] and len(frame) == len(expected)


@pytest.fixture
def predictions(store_url):
    """Two machines, 30 rows each at 10 s, every value kind the log has (no P(worn), flags, runs)."""
    rows = []
    for i in range(30):
        for machine in ("mill-1", "mill-2"):
            at = T0 + timedelta(seconds=10 * i)
            rows.append({"machine": machine, "logged_at": at, "sample_time": at - timedelta(milliseconds=250),
                         "model_version": "7" if i % 3 else None, "probability": None if i == 4 else i / 29 + 1e-9,
                         "wear_state": ("ok", "worn", "unknown")[i % 3], "quality_flags": i % 4,
                         "run_id": None if i < 10 else 1_762_063_200_000_000 + i // 10})
    with PredictionLog(store_url) as log:
        log.append(rows)
        assert log.flush()
        stored = list(reversed(log.recent(limit=1000)))
    assert len(stored) == 60
    return stored


def test_the_prediction_log_round_trips_with_filters(monkeypatch, tmp_path, store_url, predictions):
    monkeypatch.setenv("PYARROW_IGNORE_TIMEZONE", "1")  # as importing FLAML does: times must not shift
    round_trip(tmp_path, "predictions", store_url, predictions)
    since, until = T0 + timedelta(seconds=50), T0 + timedelta(seconds=150)
    wanted = [r for r in predictions if r["machine"] == "mill-2" and since <= r["logged_at"] < until]
    assert len(wanted) == 10
    round_trip(tmp_path, "predictions", store_url, wanted, machines=["mill-2"], since=since, until=until)
    # ISO text, an offset, several machines, an empty range
    round_trip(tmp_path, "predictions", store_url, [r for r in predictions if r["logged_at"] >= since],
               machines=["mill-1", "mill-2"], since="2026-11-02T07:00:50+01:00")
    round_trip(tmp_path, "predictions", store_url, [], since=since, until=since)
    round_trip(tmp_path, "predictions", store_url, [], machines=["mill-9"])


def test_audit_alarms_tool_changes_and_labels_round_trip(monkeypatch, tmp_path, store_url, bundled_dataset):
    monkeypatch.setenv("PYARROW_IGNORE_TIMEZONE", "1")  # as importing FLAML does: times must not shift
    with AuditTrail(store_url) as trail:
        trail.record("alarm.raised", "mill-1#1", None, "unacknowledged", "mill-1")
        trail.record("model.promoted", "cncwear-wear", "2", "3", comment="gate passed")
        trail.record("alarm.acknowledged", "mill-1#1", "unacknowledged", "acknowledged", "mill-1", "T12, ok", "anna")
        trail.record("alarm.raised", "mill-2#1", None, "unacknowledged", "mill-2")
    with ToolChangeLog(store_url) as log:
        log.record("mill-1", "worn", "anna", "chipped edge", setup="feed 6 · clamp 4", model_version="7",
                   run_label="mill-1 run 12", cutting_s=812.5, runs=9)
        log.record("mill-2", "scheduled", "ben")
        changes = log.since()
    store = FeatureStore(store_url)
    try:
        samples = bundled_dataset.samples()
        rows = samples[samples["experiment"] == 1].drop(columns=["experiment", "row", "tool_condition", "worn"])
        store.add_floor_run("mill-1", "feed 6 · clamp 4", "7", "unworn", rows, "false alarm", "anna")
        runs = store.floor_runs()
    finally:
        store.close()
    with AuditTrail(store_url) as trail:
        entries = list(reversed(trail.entries(limit=100)))
    assert [e.action for e in entries] == ["alarm.raised", "model.promoted", "alarm.acknowledged", "alarm.raised",
                                           "tool.changed", "tool.changed", "run.labelled"]

    audit = [{"id": e.id, "at": e.at, "machine": e.machine, "action": e.action, "subject": e.subject,
              "old_value": e.old_value, "new_value": e.new_value, "user": e.os_user, "host": e.host,
              "comment": e.comment} for e in entries]
    round_trip(tmp_path, "audit", store_url, audit)
    alarms = [{"id": a["id"], "at": a["at"], "machine": a["machine"], "action": a["action"], "alarm_id": a["subject"],
               "old_state": a["old_value"], "new_state": a["new_value"], "user": a["user"], "host": a["host"],
               "comment": a["comment"]} for a in audit if a["action"].startswith("alarm.")]
    assert len(alarms) == 3
    round_trip(tmp_path, "alarms", store_url, alarms)
    round_trip(tmp_path, "alarms", store_url, [a for a in alarms if a["machine"] == "mill-1"], machines=["mill-1"])
    boundary = entries[2].at  # the acknowledgement: since is inclusive, until exclusive
    round_trip(tmp_path, "alarms", store_url, [a for a in alarms if a["at"] >= boundary], since=boundary)
    round_trip(tmp_path, "alarms", store_url, [a for a in alarms if a["at"] < boundary], until=boundary)

    tool_changes = [{name: getattr(c, name) for name, _s, _c in KINDS["tool-changes"].columns} for c in changes]
    assert tool_changes[0]["cutting_s"] == 812.5 and tool_changes[1]["label"] is None
    round_trip(tmp_path, "tool-changes", store_url, tool_changes)
    round_trip(tmp_path, "tool-changes", store_url, tool_changes[1:], machines=["mill-2"])

    [run] = runs
    labels = [{"run": run.run, "recorded_at": run.recorded_at, "machine": "mill-1", "label": "unworn",
               "reason": "false alarm", "setup": "feed 6 · clamp 4", "model_version": "7", "user": "anna",
               "host": run.host, "sha256": run.sha256}]
    round_trip(tmp_path, "labels", store_url, labels)
    round_trip(tmp_path, "labels", store_url, [], machines=["mill-2"])


def test_progress_counts_the_rows_and_each_chunk_is_a_row_group(tmp_path, store_url, predictions):
    seen = []
    result = export("predictions", tmp_path / "p.parquet", store_url, machines=["mill-1"], chunk_rows=7,
                    task=Task(lambda fraction, message: seen.append((fraction, message))))
    assert result.rows == 30
    assert pq.ParquetFile(tmp_path / "p.parquet").metadata.num_row_groups == 5  # 7+7+7+7+2
    fractions = [f for f, _m in seen]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert "7 of 30 rows" in [m for _f, m in seen]


def test_a_cancel_leaves_no_file_and_the_older_one_as_it_was(tmp_path, store_url, predictions):
    for fmt in ("csv", "parquet"):
        target = tmp_path / f"p.{fmt}"
        target.write_text("the export of yesterday")
        task = Task()
        task._on_progress = lambda fraction, message: task.cancel() if "of 60 rows" in message else None
        with pytest.raises(Cancelled):
            export("predictions", target, store_url, chunk_rows=10, task=task)
        assert target.read_text() == "the export of yesterday"
        assert not list(tmp_path.glob(f"*{PART_SUFFIX}"))
        new = tmp_path / f"new.{fmt}"
        task = Task()
        task.cancel()
        with pytest.raises(Cancelled):
            export("predictions", new, store_url, task=task)
        assert not new.exists() and not list(tmp_path.glob(f"*{PART_SUFFIX}"))


def test_a_kind_never_written_exports_its_columns_and_creates_no_table(tmp_path, store_url):
    from sqlalchemy import create_engine, inspect

    engine = create_engine(store_url)  # a database cncwear never opened (opening a store creates every table)
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE unrelated (x integer)")
    engine.dispose()
    for fmt in ("csv", "parquet"):
        result = export("tool-changes", tmp_path / f"t.{fmt}", store_url)
        assert result.rows == 0
    assert pq.read_table(tmp_path / "t.parquet").schema == schema_of("tool-changes")
    assert read_csv(tmp_path / "t.csv", "tool-changes") == []
    engine = create_engine(store_url)
    try:
        assert not inspect(engine).has_table("tool_changes")
    finally:
        engine.dispose()


@pytest.mark.parametrize("kwargs, message", [
    ({"kind": "alarm"}, "unknown export kind 'alarm'; one of: alarms, audit, predictions, tool-changes, labels"),
    ({"fmt": "xlsx"}, "unknown export format 'xlsx'"),
    ({"path": "out.txt"}, "cannot tell the format from the file name 'out.txt'"),
    ({"path": "missing/out.csv"}, "the folder .*missing does not exist"),
    ({"path": "a-file/out.csv"}, "the folder .*a-file does not exist"),
    ({"path": "folder.csv"}, "folder.csv is a folder"),
    ({"since": "yesterday"}, "since: 'yesterday' is not a time"),
    ({"since": "2026-12-02", "until": "2026-12-01"}, "since .* is after until"),
    ({"url": "sqlite:///{tmp}/nothing-here.db"}, "there is no store at sqlite:///.*nothing-here.db"),
])
def test_bad_requests_are_refused_before_anything_is_written(tmp_path, kwargs, message, monkeypatch):
    url = f"sqlite:///{tmp_path / 'features.db'}"
    with AuditTrail(url):
        pass
    (tmp_path / "a-file").write_text("")
    (tmp_path / "folder.csv").mkdir()
    monkeypatch.chdir(tmp_path)
    arguments = {"kind": "audit", "path": "out.csv", "url": url, **kwargs}
    arguments["url"] = arguments["url"].replace("{tmp}", str(tmp_path))
    before = sorted(p.name for p in tmp_path.iterdir())
    with pytest.raises(ExportRejected, match=message):
        export(**arguments)
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_the_schemas_are_fixed():
    """The documented column order and types (docs/guide/maintenance.md, "Export alarms, …")."""
    utc = pa.timestamp("us", tz="UTC")
    assert schema_of("predictions") == pa.schema([
        ("id", pa.int64()), ("logged_at", utc), ("machine", pa.string()), ("sample_time", utc),
        ("model_version", pa.string()), ("probability", pa.float64()), ("wear_state", pa.string()),
        ("quality_flags", pa.int64()), ("run_id", pa.int64())])
    assert schema_of("alarms").names == ["id", "at", "machine", "action", "alarm_id", "old_state", "new_state",
                                         "user", "host", "comment"]
    assert list(KINDS) == ["alarms", "audit", "predictions", "tool-changes", "labels"]


def test_postgresql_rows_come_through_a_server_side_cursor(tmp_path, postgres_url):
    """Between chunks the export's session waits in its transaction on a FETCH from a cursor: the
    server holds the rows, the client one chunk (bounded memory whatever the table's size)."""
    from sqlalchemy import create_engine, text

    with PredictionLog(postgres_url) as log:
        log.append([{"machine": "mill-1", "probability": i / 50} for i in range(50)])
        assert log.flush()
    watcher = create_engine(postgres_url)
    seen = []

    def look(_fraction, message):
        if "of 50 rows" in message and not seen:
            with watcher.connect() as conn:
                seen.extend(conn.execute(text(
                    "SELECT state, query FROM pg_stat_activity WHERE datname = current_database() "
                    "AND pid <> pg_backend_pid() AND query ILIKE 'FETCH FORWARD 10 FROM%'")).all())

    try:
        result = export("predictions", tmp_path / "p.parquet", postgres_url, chunk_rows=10, task=Task(look))
    finally:
        watcher.dispose()
    assert result.rows == 50
    assert [state for state, _query in seen] == ["idle in transaction"]
