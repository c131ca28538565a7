"""The tool-change log: reasons and labels, polling by id, audit entries, a locked database."""

import logging

import pytest
from sqlite_lock import short_busy_timeout, write_lock_held

from cncwear_gui.store.audit_trail import AuditTrail
from cncwear_gui.store.tool_changes import REASONS, ToolChangeLog, label_for


@pytest.fixture
def db(tmp_path):
    return tmp_path / "features.db"


@pytest.fixture
def log(store_url):
    log = ToolChangeLog(store_url)
    yield log
    log.close()


@pytest.fixture
def sqlite_log(db):
    log = ToolChangeLog(f"sqlite:///{db}")
    yield log
    log.close()


def test_labels_follow_what_the_operator_saw():
    assert [label_for(r) for r in REASONS] == ["worn", "worn", None, None]
    with pytest.raises(ValueError, match="worn, broken, scheduled, precaution"):
        label_for("tired")


def test_record_and_read_back(log):
    first = log.record("mill-1", "worn", "anna", "chipped edge", setup="feed 6 · clamp 4", model_version="7",
                       run_label="mill-1 run 12", cutting_s=812.0, runs=9)
    assert (first.id, first.label, first.cutting_s, first.runs) == (1, "worn", 812.0, 9)
    second = log.record("mill-2", "scheduled", "ben")
    third = log.record("mill-1", "precaution", "ben")
    assert second.label is None and third.label is None
    assert [c.id for c in log.since()] == [1, 2, 3]
    assert [c.id for c in log.since(after_id=1)] == [2, 3]
    assert [c.id for c in log.since(machines=["mill-1"])] == [1, 3]
    assert log.since(after_id=3) == []
    assert log.latest("mill-1").id == 3 and log.latest("mill-9") is None
    assert [c.id for c in log.history()] == [3, 2, 1] and [c.id for c in log.history("mill-1", limit=1)] == [3]
    back = log.since()[0]
    assert back == first and back.at.tzinfo is not None
    assert back.to_json()["setup"] == "feed 6 · clamp 4"
    with AuditTrail(log.url) as trail:
        entries = [(e.action, e.machine, e.subject, e.new_value, e.os_user, e.comment)
                   for e in reversed(trail.entries(action_prefix="tool."))]
    assert entries == [("tool.changed", "mill-1", "mill-1", "worn", "anna", "chipped edge"),
                       ("tool.changed", "mill-2", "mill-2", "scheduled", "ben", ""),
                       ("tool.changed", "mill-1", "mill-1", "precaution", "ben", "")]


@pytest.mark.parametrize("kwargs, message", [
    ({"reason": "tired"}, "reason must be one of"),
    ({"machine": " "}, "needs a machine"),
    ({"cutting_s": -1.0}, "cutting_s"),
    ({"cutting_s": float("inf")}, "cutting_s"),
    ({"runs": 1.5}, "runs"),
])
def test_bad_records_write_nothing(log, kwargs, message):
    with pytest.raises(ValueError, match=message):
        log.record(**{"machine": "mill-1", "reason": "worn", "user": "anna", **kwargs})
    assert log.since() == []


def test_a_record_waits_out_a_locked_database(sqlite_log, db, caplog):
    """SQLite's write lock held elsewhere (PostgreSQL writers wait for each other's row locks)."""
    log = sqlite_log
    short_busy_timeout(log.engine, log.audit.engine)
    with caplog.at_level(logging.WARNING, logger="cncwear_gui.store.locked_retry"):
        with write_lock_held(db, seconds=1.0):
            change = log.record("mill-1", "broken", "anna")
    assert any("database is locked" in r.getMessage() for r in caplog.records)
    assert [c.id for c in log.since()] == [change.id]
    with AuditTrail(log.url) as trail:
        assert [e.action for e in trail.entries(action_prefix="tool.")] == ["tool.changed"]


def test_a_server_store_url_keeps_its_password(postgres_url):
    """The store hands its URL on (the audit trail opens it again): the password must survive."""
    url = postgres_url.replace("cncwear@", "cncwear:s3cret@")  # trust authentication ignores it, but it must be sent
    log = ToolChangeLog(url)
    try:
        assert log.url == url and log.audit.url == url
        log.record("mill-1", "worn", "anna")
        with AuditTrail(log.url) as trail:
            assert [e.action for e in trail.entries()] == ["tool.changed"]
    finally:
        log.close()
