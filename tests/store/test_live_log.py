"""The live stores on both engines (a SQLite file, a PostgreSQL database): the append-only audit trail
and the batched prediction log."""

from __future__ import annotations

import getpass
import os
import queue
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone

import pandas as pd
import pytest
import sqlalchemy
from helpers import ROOT, run_sql
from sqlalchemy import CheckConstraint, MetaData, select, text

from cncwear_gui.live.wear_state import WearState
from cncwear_gui.store.audit_trail import AuditTrail, audit_trail
from cncwear_gui.store.prediction_log import PredictionLog, prediction_log


@pytest.fixture
def url(store_url):
    return store_url




@contextmanager
def prediction_writes_blocked(url: str):
    """Another connection holds what an insert into the prediction log needs, until the block ends:
    SQLite's write lock (BEGIN IMMEDIATE), or on PostgreSQL a table lock that conflicts with INSERT."""
    engine = sqlalchemy.create_engine(url)
    if engine.dialect.name == "sqlite":
        blocker = sqlite3.connect(engine.url.database, isolation_level=None)
        blocker.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            blocker.execute("COMMIT")
            blocker.close()
            engine.dispose()
        return
    try:
        with engine.begin() as conn:
            conn.execute(text("LOCK TABLE prediction_log IN EXCLUSIVE MODE"))
            yield
    finally:
        engine.dispose()


def _rows(start: int, stop: int, base: datetime) -> list[dict]:
    return [{"machine": f"m{i % 3}", "sample_time": base + timedelta(milliseconds=i), "model_version": "7",
             "probability": i / 10_000, "wear_state": "worn" if i % 2 else "ok", "quality_flags": i}
            for i in range(start, stop)]


def _flags(url: str) -> list[int]:
    engine = sqlalchemy.create_engine(url)
    try:
        with engine.connect() as conn:
            return sorted(conn.execute(select(prediction_log.c.quality_flags)).scalars())
    finally:
        engine.dispose()


# -- the audit trail ---------------------------------------------------------------------------
def test_audit_entries_round_trip_with_utc_times_host_and_user(url):
    audit = AuditTrail(url)
    before = datetime.now(timezone.utc)
    raised = audit.record("alarm.raised", "alarm-1", machine="m1", new_value="worn")
    acked = audit.record("alarm.acknowledged", "alarm-1", machine="m1", comment="tool changed", user="alice")
    time.sleep(0.02)
    middle = datetime.now(timezone.utc)
    changed = audit.record("settings.changed", "threshold", old_value=0.5, new_value=0.6)
    promoted = audit.record("model.promoted", "forest", old_value="3", new_value="4")
    shelved, odd = audit.record_many([
        {"action": "alarm.shelved", "subject": "alarm-2", "machine": "m2", "comment": "known noise"},
        {"action": "alarmXexport", "subject": "all", "machine": "m2"},
    ])
    after = datetime.now(timezone.utc)
    audit.close()

    reopened = AuditTrail(url)  # a fresh instance reads what the first committed
    entries = reopened.entries()
    assert [e.id for e in entries] == [odd, shelved, promoted, changed, acked, raised]
    assert all(e.at.tzinfo is not None and e.at.utcoffset() == timedelta(0) for e in entries)
    assert all(before <= e.at <= after for e in entries)
    assert {e.host for e in entries} == {socket.gethostname()}
    by_id = {e.id: e for e in entries}
    assert by_id[acked].os_user == "alice" and by_id[raised].os_user == getpass.getuser()
    assert (by_id[acked].machine, by_id[acked].action, by_id[acked].subject, by_id[acked].comment) == (
        "m1", "alarm.acknowledged", "alarm-1", "tool changed")
    assert by_id[changed].machine is None
    assert (by_id[changed].old_value, by_id[changed].new_value) == ("0.5", "0.6")  # numbers stored as text
    assert by_id[raised].old_value is None and by_id[raised].new_value == "worn"
    data = by_id[promoted].to_json()
    assert data["at"].endswith("+00:00") and datetime.fromisoformat(data["at"]) == by_id[promoted].at
    assert data["action"] == "model.promoted" and data["new_value"] == "4"

    assert [e.id for e in reopened.entries(machine="m1")] == [acked, raised]
    assert [e.id for e in reopened.entries(action_prefix="alarm.")] == [shelved, acked, raised]
    assert reopened.entries(action_prefix="alarm_") == []  # "_" is no wildcard here
    assert [e.id for e in reopened.entries(machine="m2", action_prefix="alarm.")] == [shelved]
    assert [e.id for e in reopened.entries(limit=2)] == [odd, shelved]
    local_middle = middle.astimezone(timezone(timedelta(hours=2)))  # an aware non-UTC bound works too
    assert [e.id for e in reopened.entries(since=local_middle)] == [odd, shelved, promoted, changed]
    reopened.close()


def test_audit_trail_refuses_update_and_delete_in_the_database(url):
    audit = AuditTrail(url)
    entry_id = audit.record("alarm.acknowledged", "alarm-9", machine="m1", comment="original")
    original = audit.entries()[0]
    engine = sqlalchemy.create_engine(url)
    with pytest.raises(sqlalchemy.exc.DBAPIError, match="append-only"):
        with engine.begin() as conn:
            conn.execute(audit_trail.update().where(audit_trail.c.id == entry_id).values(comment="forged"))
    with pytest.raises(sqlalchemy.exc.DBAPIError, match="append-only"):
        with engine.begin() as conn:
            conn.execute(audit_trail.delete().where(audit_trail.c.id == entry_id))
    with pytest.raises(sqlalchemy.exc.DBAPIError, match="append-only"):
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM audit_trail"))  # no truncate shortcut around the trigger
    if engine.dialect.name == "postgresql":
        with pytest.raises(sqlalchemy.exc.DBAPIError, match="append-only"):
            with engine.begin() as conn:
                conn.execute(text("TRUNCATE audit_trail"))
        dropped = ("DROP TRIGGER audit_trail_no_change ON audit_trail",
                   "DROP TRIGGER audit_trail_no_truncate ON audit_trail")
    else:
        dropped = ("DROP TRIGGER audit_trail_no_update", "DROP TRIGGER audit_trail_no_delete")
    engine.dispose()
    assert audit.entries() == [original]
    audit.close()

    # The guard comes back when the audit trail opens a table that lost its triggers.
    run_sql(url, *dropped)
    run_sql(url, "UPDATE audit_trail SET comment = 'forged while unguarded'")  # the triggers really were gone
    audit = AuditTrail(url)
    with pytest.raises(sqlalchemy.exc.DBAPIError, match="append-only"):
        with audit.engine.begin() as conn:
            conn.execute(audit_trail.update().values(comment="forged"))
    with pytest.raises(sqlalchemy.exc.DBAPIError, match="append-only"):
        with audit.engine.begin() as conn:
            conn.execute(audit_trail.delete())
    assert [e.comment for e in audit.entries()] == ["forged while unguarded"]
    audit.close()


def test_default_url_is_the_feature_store_database(home):
    from cncwear_gui.store.feature_store import FeatureStore

    store = FeatureStore()
    audit, log = AuditTrail(), PredictionLog()
    try:
        assert audit.url == log.url == store.url == f"sqlite:///{home / 'features.db'}"
        audit.record("settings.changed", "threshold", 0.5, 0.55)
        log.append({"machine": "m1", "probability": 0.2})
        assert log.flush(10)
        assert sqlalchemy.inspect(store.engine).has_table("audit_trail")
        with store.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.execute(select(prediction_log.c.wear_state)).scalar() == "unknown"
    finally:
        log.close()
        audit.close()
        store.close()


# -- the prediction log ------------------------------------------------------------------------
def test_ten_thousand_rows_from_another_thread_are_stored_once_each(url):
    base = datetime(2024, 5, 1, 8, 0, tzinfo=timezone.utc)
    log = PredictionLog(url, flush_interval_s=0.05, max_batch=1000)
    rows = _rows(0, 10_000, base)

    def producer():  # that append never waits for the database: the test below, with the database locked
        calls = [rows[i] for i in range(500)]  # single rows, as a 10 Hz loop would
        calls += [rows[i:i + 250] for i in range(500, 9000, 250)]
        calls.append(pd.DataFrame(rows[9000:]))  # and a scored DataFrame
        for call in calls:
            log.append(call)

    thread = threading.Thread(target=producer)
    thread.start()
    thread.join(30)
    assert not thread.is_alive()
    assert log.flush(20)
    assert (log.written, log.pending) == (10_000, 0)
    assert log.count() == 10_000 and log.count(machine="m0") == 3334
    assert _flags(url) == list(range(10_000))  # every row once, none twice
    newest = log.recent(limit=3)
    assert [r["quality_flags"] for r in newest] == [9999, 9998, 9997]
    assert newest[0]["sample_time"] == base + timedelta(milliseconds=9999)
    assert newest[0]["logged_at"].tzinfo is not None
    assert (newest[0]["machine"], newest[0]["wear_state"], newest[0]["model_version"]) == ("m0", "worn", "7")
    assert newest[0]["probability"] == pytest.approx(0.9999)
    assert [r["machine"] for r in log.recent(machine="m1", limit=2)] == ["m1", "m1"]
    assert log.close()


def test_append_returns_at_once_while_another_writer_holds_the_database(url):
    base = datetime(2024, 5, 1, tzinfo=timezone.utc)
    log = PredictionLog(url, flush_interval_s=0.05)
    with prediction_writes_blocked(url):  # held for ~2 s
        locked_at = time.monotonic()
        for start in range(0, 10_000, 1000):  # a blocking append would wait here for the lock held below
            log.append(_rows(start, start + 1000, base))
        assert not log.flush(timeout=0.3)  # the writer is waiting for the lock, the caller is not
        assert log.pending == 10_000 and log.written == 0
        time.sleep(max(0.0, 2.0 - (time.monotonic() - locked_at)))
    assert log.flush(timeout=15)
    assert log.count() == 10_000 and _flags(url) == list(range(10_000))
    log.close()


def test_a_failed_batch_is_kept_and_written_once_the_database_is_back(url):
    log = PredictionLog(url, flush_interval_s=0.05)
    run_sql(url, "ALTER TABLE prediction_log RENAME TO prediction_log_away")  # a real database error
    try:
        log.append(_rows(0, 500, datetime(2024, 5, 1, tzinfo=timezone.utc)))
        assert not log.flush(timeout=0.5)
        deadline = time.monotonic() + 5
        while log.failed_batches < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert log.failed_batches >= 2  # retried, not dropped
        assert log.pending == 500 and log.written == 0
        assert "prediction_log" in (log.last_error or "") and log.outage is not None
    finally:
        run_sql(url, "ALTER TABLE prediction_log_away RENAME TO prediction_log")
    assert log.flush(timeout=10)
    # the outage ends in the step that marks the rows done, so the flush's caller never sees it still on
    assert log.outage is None and log.last_error is None
    assert _flags(url) == list(range(500))
    log.close()


def test_rows_the_database_refuses_do_not_stall_the_log(url):
    # A site schema with a constraint the app does not know: only the refused row is dropped.
    site = MetaData()
    prediction_log.to_metadata(site).append_constraint(CheckConstraint("probability <= 1", name="ck_probability_max"))
    engine = sqlalchemy.create_engine(url)
    site.create_all(engine)
    engine.dispose()
    log = PredictionLog(url, flush_interval_s=0.05)
    log.append([{"machine": "m1", "probability": p, "quality_flags": i} for i, p in enumerate([0.1, 2.0, 0.3])])
    assert log.flush(10)
    assert (log.written, log.rejected, log.pending) == (2, 1, 0)
    assert _flags(url) == [0, 2]
    log.append({"machine": "m1", "probability": 0.4, "quality_flags": 3})
    assert log.flush(10) and _flags(url) == [0, 2, 3]
    log.close()


def test_append_validates_rows_before_queueing(url):
    log = PredictionLog(url, flush_interval_s=0.05)
    with pytest.raises(ValueError, match="machine"):
        log.append([{"machine": "m1", "probability": 0.1}, {"probability": 0.2}])
    with pytest.raises(ValueError, match="wear_state"):
        log.append({"machine": "m1", "probability": 0.1, "wear_state": "broken"})
    assert log.pending == 0
    frame = pd.DataFrame({"machine": ["m1", "m1"], "probability": [0.7, float("nan")],
                          "wear_state": [WearState.WORN, WearState.UNKNOWN],
                          "sample_time": [pd.Timestamp("2024-05-01 10:00", tz="Europe/Berlin"), pd.NaT],
                          "quality_flags": [0, 4], "feature_x": [1.0, 2.0]})
    assert log.append(frame) == 2
    assert log.flush(10)
    newest, first = log.recent()
    assert (first["wear_state"], first["probability"]) == ("worn", 0.7)
    assert first["sample_time"] == datetime(2024, 5, 1, 8, 0, tzinfo=timezone.utc)
    assert (newest["probability"], newest["sample_time"], newest["quality_flags"]) == (None, None, 4)
    # As the live engine logs them: source timestamps in epoch seconds, NaN when there is none.
    log.append(pd.DataFrame({"machine": "m2", "probability": [0.1, 0.2], "sample_time": [1714557600.25, float("nan")],
                             "model_version": "3", "wear_state": "ok", "quality_flags": [0, 0]}))
    assert log.flush(10)
    without, with_time = log.recent(machine="m2")
    assert with_time["sample_time"] == datetime(2024, 5, 1, 10, 0, 0, 250000, tzinfo=timezone.utc)
    assert without["sample_time"] is None
    log.close()
    with pytest.raises(RuntimeError):
        log.append({"machine": "m1", "probability": 0.1})


# -- a hard kill ---------------------------------------------------------------------------------
CHILD = """
import sys
from cncwear_gui.store.audit_trail import AuditTrail
from cncwear_gui.store.prediction_log import PredictionLog

audit = AuditTrail(sys.argv[1])
log = PredictionLog(sys.argv[1], flush_interval_s=0.01, max_batch=200)
i = 0
while True:
    i += 1
    print(f"audit {audit.record('alarm.acknowledged', f'alarm-{i}', machine='m1', comment='kill test')}", flush=True)
    log.append([{"machine": "m1", "probability": 0.5, "wear_state": "ok", "quality_flags": i} for _ in range(50)])
    if log.flush(5):
        print(f"predictions {log.written}", flush=True)
"""


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_kill_9_loses_nothing_that_was_reported_committed(url, tmp_path):
    stderr = open(tmp_path / "child.err", "w")
    child = subprocess.Popen([sys.executable, "-c", CHILD, url], stdout=subprocess.PIPE, stderr=stderr, text=True,
                             cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    lines: queue.Queue[str | None] = queue.Queue()

    def read():
        for line in child.stdout:
            lines.put(line)
        lines.put(None)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    audit_ids: list[int] = []
    counts: list[int] = []

    def take(line: str) -> None:
        kind, value = line.split()
        (audit_ids if kind == "audit" else counts).append(int(value))

    deadline = time.monotonic() + 20
    try:
        while len(audit_ids) < 50 or not counts:
            line = lines.get(timeout=max(0.1, deadline - time.monotonic()))
            assert line is not None, (tmp_path / "child.err").read_text()
            take(line)
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait(10)
        stderr.close()
    reader.join(10)
    while (line := lines.get_nowait()) is not None:  # printed before the kill: committed too
        take(line)
    assert child.returncode == -signal.SIGKILL

    audit, log = AuditTrail(url), PredictionLog(url)
    with audit.engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
        stored = set(conn.execute(select(audit_trail.c.id)).scalars())
    assert set(audit_ids) <= stored
    assert log.count() >= counts[-1] >= 50
    assert audit.record("alarm.acknowledged", "after the crash") > max(audit_ids)
    log.append({"machine": "m1", "probability": 0.1})
    assert log.flush(10)
    log.close()
    audit.close()
