"""``cncwear alarms`` against a shared store (SQLite and PostgreSQL) in which a node has published
its alarms: listing, a request queued for a node that has not read it yet, and exit 2 for what
cannot be done, with nothing written then. (Requests applied by real ``cncwear serve`` nodes:
tests/ui/test_alarms_across_pcs.py.)"""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from cncwear_gui.cli import main
from cncwear_gui.store.audit_trail import AuditTrail
from cncwear_gui.store.shared_alarms import SharedAlarmStore


def _row(machine: str, state: str, alarm_id: str | None = None) -> dict:
    needs = state in ("unacknowledged", "rtn_unacknowledged")
    return {"machine": machine, "state": state, "active": state in ("unacknowledged", "acknowledged"),
            "needs_action": needs, "alarm_id": alarm_id, "raised_at": datetime(2026, 1, 5, 8, 0, tzinfo=timezone.utc)
            if alarm_id else None, "peak_probability": 0.93 if alarm_id else None, "acknowledged_by": None,
            "comment": "", "false_alarm": False, "shelved_until": None}


@pytest.fixture
def published(store_url):
    """Node "pc-7" publishes two machines: mill-1 with an unacknowledged alarm, mill-2 normal."""
    with SharedAlarmStore(store_url) as store:
        store.publish("pc-7:4242:start", [_row("mill-1", "unacknowledged", "mill-1-abc"), _row("mill-2", "normal")])
    return store_url


def _run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_list_and_a_request_queued_for_the_node(published, capsys):
    code, out, _ = _run(capsys, "alarms", "list", "--store", published, "--json")
    assert code == 0
    listed = json.loads(out)["alarms"]
    assert [(a["machine"], a["state"], a["reporting"]) for a in listed] == [
        ("mill-1", "unacknowledged", True), ("mill-2", "normal", True)]
    code, out, _ = _run(capsys, "alarms", "list", "--store", published)
    assert code == 0 and "UNACKNOWLEDGED" in out and "0.93" in out

    code, out, _ = _run(capsys, "alarms", "ack", "mill-1", "--store", published, "--wait", "0", "--user", "anna",
                        "--comment", "seen it")
    assert code == 0 and "mill-1: request #1 is queued" in out
    with SharedAlarmStore(published) as store:
        request = store.get_request(1)
    assert (request.action, request.alarm_id, request.user, request.comment, request.outcome) == (
        "acknowledge", "mill-1-abc", "anna", "seen it", None)
    with AuditTrail(published) as trail:
        assert [(e.action, e.os_user, e.subject) for e in trail.entries()] == [
            ("alarm.acknowledge_requested", "anna", "mill-1-abc")]


def test_what_cannot_be_done_exits_2_and_writes_nothing(published, capsys):
    cases = [
        (("ack", "mill-9"), "unknown machine 'mill-9'; the machines published in"),
        (("ack", "mill-2"), "mill-2: there is nothing to acknowledge, the alarm is normal"),
        (("false-alarm", "mill-2"), "nothing to acknowledge"),
        (("unshelve", "mill-1"), "mill-1: the alarm is not shelved, it is active, unacknowledged"),
        (("shelve", "mill-1", "--for", "soon"), "--for 'soon': give a duration such as 30m, 2h or 90s"),
        (("shelve", "mill-1", "--for", "9h"), "at most 8 h"),
        (("shelve", "mill-1", "--for", "0m"), "more than 0"),
        (("ack", "mill-1", "--wait", "-1"), "--wait must be 0 or more seconds"),
        (("list", "--machine", "mill-9"), "unknown machine 'mill-9'"),
    ]
    for args, message in cases:
        code, _, err = _run(capsys, "alarms", *args, "--store", published)
        assert code == 2 and message in err, (args, err)
    with SharedAlarmStore(published) as store:
        assert store.requests() == []
        store.stopped("pc-7:4242:start")
    code, _, err = _run(capsys, "alarms", "ack", "mill-1", "--store", published)
    assert code == 2 and "mill-1: no node serves it now; the node on" in err and "stopped at" in err
    with AuditTrail(published) as trail:
        assert trail.entries() == []
