"""Alarms shared across PCs, on SQLite and PostgreSQL: a real live node (experiment 6 replayed, its
alarm raised by the champion) publishes its alarm; requests written as another PC writes them are
claimed, applied through the node's alarm board and audited with the requester's user and host."""

from __future__ import annotations

import os
import socket
from datetime import timedelta

import pytest
from helpers import replay_node, run_sql

from cncwear_gui.store.audit_trail import AuditTrail
from cncwear_gui.store.database import os_user
from cncwear_gui.store.shared_alarms import REQUEST_TTL_S, SharedAlarmStore


@pytest.fixture
def worn_node(store_url, champion, bundled_dataset):
    """A node replaying experiment 6 (worn) as machine "mill-6": its alarm is raised in 100 samples."""
    samples = bundled_dataset.samples()
    six = samples[samples["experiment"] == 6].reset_index(drop=True)
    node, run_samples, stores, metrics = replay_node({"mill-6": six}, champion, store_url)
    yield node, run_samples, stores, metrics
    for store in stores.values():
        store.close()


def _state_metric(metrics, machine: str) -> str:
    values = {sample.labels["state"]: sample.value for family in metrics.registry.collect()
              if family.name == "cncwear_alarm_state" for sample in family.samples
              if sample.labels["machine"] == machine}
    return next(state for state, value in values.items() if value == 1)


def test_an_alarm_published_by_a_node_is_acknowledged_from_another_pc(worn_node, store_url):
    node, run_samples, stores, metrics = worn_node
    other_pc = SharedAlarmStore(store_url)  # the window's or the CLI's own connection
    try:
        run_samples(200)
        alarm = other_pc.alarm("mill-6")
        assert alarm.state == "unacknowledged" and alarm.needs_action and alarm.reporting()
        assert alarm.alarm_id == node.alarm_of("mill-6")["alarm_id"] and alarm.peak_probability > 0.5
        assert (alarm.host, alarm.pid) == (socket.gethostname(), os.getpid())

        request = other_pc.request("mill-6", "acknowledge", "anna", "flank wear seen", alarm_id=alarm.alarm_id,
                                   host="window-pc")
        assert other_pc.get_request(request.id).outcome is None  # waiting for the node
        run_samples(100)  # the node's next pass reads it (tool_change_poll_s 0 here; 2 s when serving)
        handled = other_pc.get_request(request.id)
        assert (handled.outcome, handled.handled_by) == ("applied", node.node_id)
        assert node.alarm_of("mill-6")["state"] == "acknowledged" and _state_metric(metrics, "mill-6") == "acknowledged"
        published = other_pc.alarm("mill-6")
        assert (published.state, published.needs_action, published.acknowledged_by, published.comment) == (
            "acknowledged", False, "anna", "flank wear seen")

        with AuditTrail(store_url) as trail:
            steps = [(e.action, e.os_user, e.host, e.machine, e.comment) for e in reversed(trail.entries(action_prefix="alarm."))]
        node_host = socket.gethostname()
        assert steps == [("alarm.raised", os_user(), node_host, "mill-6", ""),
                         ("alarm.acknowledge_requested", "anna", "window-pc", "mill-6", "flank wear seen"),
                         ("alarm.acknowledged", "anna", "window-pc", "mill-6", "flank wear seen")]
    finally:
        other_pc.close()


def test_requests_the_node_cannot_apply_are_refused_with_the_reason_and_audited(worn_node, store_url):
    node, run_samples, stores, _ = worn_node
    other_pc = SharedAlarmStore(store_url)
    try:
        run_samples(200)
        seen = other_pc.alarm("mill-6").alarm_id
        stale = other_pc.request("mill-6", "acknowledge", "ben", alarm_id="mill-6-gone", host="pc-2")
        first = other_pc.request("mill-6", "false_alarm", "anna", "tool fine", alarm_id=seen, host="pc-1")
        again = other_pc.request("mill-6", "acknowledge", "ben", alarm_id=seen, host="pc-2")  # both saw it
        run_samples(100)
        outcomes = {r.id: (r.outcome, r.detail) for r in other_pc.requests("mill-6")}
        assert outcomes[stale.id] == ("refused", "mill-6: alarm mill-6-gone was not acknowledged: a new alarm was raised since")
        assert outcomes[first.id] == ("applied", "")
        assert outcomes[again.id][0] == "refused" and "nothing to acknowledge" in outcomes[again.id][1]
        assert other_pc.alarm("mill-6").false_alarm is True
        with AuditTrail(store_url) as trail:
            refusals = [(e.os_user, e.host, e.subject) for e in reversed(trail.entries(action_prefix="alarm.request_"))]
            marked = trail.entries(action_prefix="alarm.false_alarm")
        assert refusals == [("ben", "pc-2", f"request #{stale.id}"), ("ben", "pc-2", f"request #{again.id}")]
        assert [(e.action, e.os_user, e.host) for e in reversed(marked)] == [
            ("alarm.false_alarm_requested", "anna", "pc-1"), ("alarm.false_alarm", "anna", "pc-1")]

        # a request nobody applied in time is not applied later
        old = other_pc.request("mill-6", "shelve", "carl", minutes=30, host="pc-3")
        run_sql(store_url, f"UPDATE alarm_requests SET requested_at = requested_at - INTERVAL '{int(REQUEST_TTL_S) + 60} seconds' "
                           f"WHERE id = {old.id}" if store_url.startswith("postgresql") else
                f"UPDATE alarm_requests SET requested_at = datetime(requested_at, '-{int(REQUEST_TTL_S) + 60} seconds') "
                f"WHERE id = {old.id}")
        run_samples(100)
        assert other_pc.get_request(old.id).outcome == "expired" and node.alarm_of("mill-6")["state"] != "shelved"
    finally:
        other_pc.close()


def test_shelve_and_unshelve_from_another_pc_and_a_stopped_node(worn_node, store_url):
    node, run_samples, stores, _ = worn_node
    other_pc = SharedAlarmStore(store_url)
    try:
        run_samples(200)
        shelve = other_pc.request("mill-6", "shelve", "anna", "changing the tool", minutes=45, host="pc-1")
        run_samples(100)
        assert other_pc.get_request(shelve.id).outcome == "applied"
        published = other_pc.alarm("mill-6")
        assert published.state == "shelved" and published.comment == "changing the tool"
        assert timedelta(minutes=44) < published.shelved_until - published.changed_at <= timedelta(minutes=45)
        unshelve = other_pc.request("mill-6", "unshelve", "ben", host="pc-2")
        run_samples(100)
        assert other_pc.get_request(unshelve.id).outcome == "applied"
        assert other_pc.alarm("mill-6").state == "unacknowledged"  # the condition is still active
        with AuditTrail(store_url) as trail:
            steps = [(e.action, e.os_user, e.host) for e in reversed(trail.entries(action_prefix="alarm."))][1:]
        assert steps == [("alarm.shelve_requested", "anna", "pc-1"), ("alarm.shelved", "anna", "pc-1"),
                         ("alarm.unshelve_requested", "ben", "pc-2"), ("alarm.unshelved", "ben", "pc-2")]

        node.close()
        stopped = other_pc.alarm("mill-6")
        assert stopped.stopped_at is not None and not stopped.reporting()
    finally:
        other_pc.close()


def test_one_node_claims_a_request_and_bad_requests_are_refused_before_anything_is_written(store_url):
    with SharedAlarmStore(store_url) as store:
        request = store.request("mill-1", "acknowledge", "anna")
        assert store.claim(request.id, "node-a") is True
        assert store.claim(request.id, "node-b") is False
        assert store.get_request(request.id).handled_by == "node-a"
        for bad, message in ((dict(machine="", action="acknowledge", user="anna"), "needs a machine"),
                             (dict(machine="m", action="delete", user="anna"), "one of acknowledge"),
                             (dict(machine="m", action="acknowledge", user=" "), "name of the user"),
                             (dict(machine="m", action="shelve", user="anna", minutes=0), "at most 480 minutes"),
                             (dict(machine="m", action="shelve", user="anna", minutes=481), "at most 480 minutes")):
            with pytest.raises(ValueError, match=message):
                store.request(**bad)
        assert [r.id for r in store.requests()] == [request.id]
        with AuditTrail(store_url) as trail:
            assert [e.action for e in trail.entries()] == ["alarm.acknowledge_requested"]
