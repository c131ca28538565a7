"""Alarms shared across PCs: what every node publishes, and the operators' requests it applies.

Each live node (``cncwear serve``, the window's engine) keeps its machines' ISA-18.2 alarms in
memory (``live.alarms``). With several PCs on one store, an operator at another PC (the window,
``cncwear alarms``) must see those alarms and act on them. Two tables carry that:

* ``shared_alarms``: each machine's current alarm as the node serving it publishes it: written on
  every transition, refreshed every few seconds (``seen_at``: a node that stops refreshing is
  shown as not reporting) and marked stopped when the node closes.
* ``alarm_requests``: acknowledge, false alarm, shelve and unshelve requests, each written with
  its audit entry (``alarm.<action>_requested``, the requester's user and host) in one
  transaction. The node serving the machine polls them, claims each one (only one node applies a
  request), applies it through its own alarm board, which audits the effect with the
  requester's user and host, and records the outcome here (``applied``, or ``refused`` with why).

A request names the occurrence the requester saw (``alarm_id``): an acknowledgement is refused
when that occurrence is no longer the open one (it closed, a new one was raised meanwhile), so
nobody acknowledges an alarm they have not seen. Requests older than ``REQUEST_TTL_S`` are
refused as expired: a shelve asked an hour ago is not applied now.
"""

from __future__ import annotations

import os
import socket
import time
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    select,
    update,
)

from .database import aware_utc, utcnow
from .locked_retry import AuditedStore, retry_when_locked

#: What an operator can ask of another node's alarm.
ACTIONS = ("acknowledge", "false_alarm", "shelve", "unshelve")
#: A node that has not refreshed its rows for this long is shown as not reporting.
STALE_AFTER_S = 30.0
#: A request not handled within this long is refused as expired by the node that finds it.
REQUEST_TTL_S = 300.0
MAX_SHELVE_MINUTES = 8 * 60

metadata = MetaData()
shared_alarms = Table(
    "shared_alarms",
    metadata,
    Column("machine", String(255), primary_key=True),
    Column("node", String(255), nullable=False),  # host:pid:start of the node serving it
    Column("host", String(255), nullable=False),
    Column("pid", Integer, nullable=False),
    Column("state", String(32), nullable=False),  # live.alarms.AlarmState value
    Column("active", Boolean, nullable=False),
    Column("needs_action", Boolean, nullable=False),
    Column("alarm_id", String(255)),  # the open occurrence (none in NORMAL)
    Column("raised_at", DateTime(timezone=True)),
    Column("peak_probability", Float),
    Column("acknowledged_by", String(255)),
    Column("comment", Text, nullable=False),
    Column("false_alarm", Boolean, nullable=False),
    Column("shelved_until", DateTime(timezone=True)),
    Column("changed_at", DateTime(timezone=True), nullable=False),  # when the node last published a change
    Column("seen_at", DateTime(timezone=True), nullable=False),  # the node's last refresh
    Column("stopped_at", DateTime(timezone=True)),  # the node closed (its alarms ended with it)
)
alarm_requests = Table(
    "alarm_requests",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("requested_at", DateTime(timezone=True), nullable=False),
    Column("machine", String(255), nullable=False),
    Column("action", String(32), nullable=False),  # one of ACTIONS
    Column("alarm_id", String(255)),  # the occurrence the requester saw (none: whatever is open)
    Column("minutes", Float),  # shelve: for how long (the node's clock starts it)
    Column("user", String(255), nullable=False),
    Column("host", String(255), nullable=False),
    Column("comment", Text, nullable=False),
    Column("handled_at", DateTime(timezone=True)),
    Column("handled_by", String(255)),  # the node that claimed it
    Column("outcome", String(16)),  # applied, refused, expired (none: waiting)
    Column("detail", Text, nullable=False, default=""),
    Index("ix_alarm_requests_open", "handled_at", "machine"),
)


@dataclass(frozen=True)
class SharedAlarm:
    """One machine's alarm as its node last published it."""

    machine: str
    node: str
    host: str
    pid: int
    state: str
    active: bool
    needs_action: bool
    alarm_id: str | None
    raised_at: datetime | None
    peak_probability: float | None
    acknowledged_by: str | None
    comment: str
    false_alarm: bool
    shelved_until: datetime | None
    changed_at: datetime
    seen_at: datetime
    stopped_at: datetime | None

    def reporting(self, now: datetime | None = None) -> bool:
        """The node is running and refreshed its rows lately."""
        now = now or utcnow()
        return self.stopped_at is None and (now - self.seen_at).total_seconds() <= STALE_AFTER_S

    def where(self) -> str:
        return f"{self.host} (pid {self.pid})"

    def to_json(self) -> dict:
        data = asdict(self)
        for key in ("raised_at", "shelved_until", "changed_at", "seen_at", "stopped_at"):
            data[key] = None if data[key] is None else data[key].isoformat(timespec="seconds")
        data["reporting"] = self.reporting()
        return data


@dataclass(frozen=True)
class AlarmRequest:
    id: int
    requested_at: datetime
    machine: str
    action: str
    alarm_id: str | None
    minutes: float | None
    user: str
    host: str
    comment: str
    handled_at: datetime | None
    handled_by: str | None
    outcome: str | None
    detail: str

    def to_json(self) -> dict:
        data = asdict(self)
        for key in ("requested_at", "handled_at"):
            data[key] = None if data[key] is None else data[key].isoformat(timespec="seconds")
        return data


_ALARM_TIMES = ("raised_at", "shelved_until", "changed_at", "seen_at", "stopped_at")


def _alarm(row) -> SharedAlarm:
    return SharedAlarm(**{**row, **{key: aware_utc(row[key]) for key in _ALARM_TIMES}})


def _request(row) -> AlarmRequest:
    return AlarmRequest(**{**row, "requested_at": aware_utc(row["requested_at"]),
                           "handled_at": aware_utc(row["handled_at"])})


def node_id() -> str:
    """This process as a publisher: host, pid and start time (a restarted node is another node)."""
    return f"{socket.gethostname()}:{os.getpid()}:{utcnow():%Y%m%dT%H%M%S.%f}"


class SharedAlarmStore(AuditedStore):
    """The shared alarm list and the request queue (one database for all PCs)."""

    metadata = metadata

    # -- the node's side ----------------------------------------------------------------------
    def publish(self, node: str, rows: list[dict]) -> None:
        """The node's current alarm of each machine in ``rows`` (``LiveNode.alarm_of`` dicts)."""
        if not rows:
            return
        host, pid = socket.gethostname(), os.getpid()

        def write() -> None:
            now = utcnow()
            with self.engine.begin() as conn:
                for row in rows:
                    values = {"node": node, "host": host, "pid": pid, "state": row["state"],
                              "active": bool(row["active"]), "needs_action": bool(row["needs_action"]),
                              "alarm_id": row.get("alarm_id"), "raised_at": row.get("raised_at"),
                              "peak_probability": row.get("peak_probability"),
                              "acknowledged_by": row.get("acknowledged_by"), "comment": row.get("comment") or "",
                              "false_alarm": bool(row.get("false_alarm")), "shelved_until": row.get("shelved_until"),
                              "changed_at": now, "seen_at": now, "stopped_at": None}
                    done = conn.execute(update(shared_alarms).where(shared_alarms.c.machine == row["machine"])
                                        .values(**values))
                    if done.rowcount == 0:
                        conn.execute(shared_alarms.insert().values(machine=row["machine"], **values))

        retry_when_locked(write, "publishing the alarms", self.retry_for_s, races=("shared_alarms_pkey",))

    def heartbeat(self, node: str) -> None:
        """The node is still serving its machines (``seen_at``)."""
        with self.engine.begin() as conn:
            conn.execute(update(shared_alarms).where(shared_alarms.c.node == node).values(seen_at=utcnow()))

    def stopped(self, node: str) -> None:
        """The node closed: its machines' rows say so (their in-memory alarms ended with it)."""
        with self.engine.begin() as conn:
            conn.execute(update(shared_alarms).where(shared_alarms.c.node == node)
                         .values(stopped_at=utcnow()))

    def pending(self, machines: list[str]) -> list[AlarmRequest]:
        """Unhandled requests for ``machines``, oldest first."""
        query = (select(alarm_requests).where(alarm_requests.c.handled_at.is_(None),
                                              alarm_requests.c.machine.in_(list(machines)))
                 .order_by(alarm_requests.c.id))
        with self.engine.connect() as conn:
            return [_request(row) for row in conn.execute(query).mappings()]

    def claim(self, request_id: int, node: str) -> bool:
        """Take a request to apply it: False when another node took it first."""
        def write() -> bool:
            with self.engine.begin() as conn:
                done = conn.execute(update(alarm_requests)
                                    .where(alarm_requests.c.id == request_id, alarm_requests.c.handled_at.is_(None))
                                    .values(handled_at=utcnow(), handled_by=node))
                return done.rowcount == 1

        return retry_when_locked(write, f"claiming alarm request #{request_id}", self.retry_for_s)

    def finish(self, request: AlarmRequest, outcome: str, detail: str = "") -> None:
        """What came of a claimed request; a refusal is also audited (with the requester's user and host)."""
        def write() -> None:
            with self.engine.begin() as conn:
                conn.execute(update(alarm_requests).where(alarm_requests.c.id == request.id)
                             .values(outcome=outcome, detail=detail or ""))
                if outcome != "applied":
                    self.audit.record_in(conn, f"alarm.request_{outcome}", f"request #{request.id}",
                                         request.action, outcome, request.machine, detail, request.user,
                                         host=request.host)

        retry_when_locked(write, f"recording the outcome of alarm request #{request.id}", self.retry_for_s)

    # -- the operator's side ------------------------------------------------------------------
    def alarms(self, machine: str | None = None) -> list[SharedAlarm]:
        """Every published machine (or one), needing action first, then by machine."""
        query = select(shared_alarms).order_by(shared_alarms.c.machine)
        if machine is not None:
            query = query.where(shared_alarms.c.machine == machine)
        with self.engine.connect() as conn:
            rows = [_alarm(row) for row in conn.execute(query).mappings()]
        return sorted(rows, key=lambda row: not (row.needs_action and row.stopped_at is None))

    def alarm(self, machine: str) -> SharedAlarm | None:
        rows = self.alarms(machine)
        return rows[0] if rows else None

    def request(self, machine: str, action: str, user: str, comment: str = "", alarm_id: str | None = None,
                minutes: float | None = None, host: str | None = None) -> AlarmRequest:
        """Queue a request for the node serving ``machine`` (committed with its audit entry)."""
        machine = str(machine or "").strip()
        if not machine:
            raise ValueError("an alarm request needs a machine")
        if action not in ACTIONS:
            raise ValueError(f"an alarm request is one of {', '.join(ACTIONS)}, not {action!r}")
        if not str(user or "").strip():
            raise ValueError("an alarm request needs the name of the user")
        if action == "shelve":
            if not (isinstance(minutes, (int, float)) and 0 < minutes <= MAX_SHELVE_MINUTES):
                raise ValueError(f"a shelve lasts more than 0 and at most {MAX_SHELVE_MINUTES} minutes, "
                                 f"not {minutes!r}")
            minutes = float(minutes)
        else:
            minutes = None
        values = {"machine": machine, "action": action, "alarm_id": alarm_id, "minutes": minutes, "user": user,
                  "host": host or socket.gethostname(), "comment": comment or "", "handled_at": None,
                  "handled_by": None, "outcome": None, "detail": ""}

        def write() -> AlarmRequest:
            with self.engine.begin() as conn:
                row = {**values, "requested_at": utcnow()}
                row["id"] = int(conn.execute(alarm_requests.insert().values(**row)).inserted_primary_key[0])
                self.audit.record_in(conn, f"alarm.{action}_requested", alarm_id or machine, None,
                                     f"{minutes:g} min" if minutes else None, machine, comment, user,
                                     host=values["host"])
                return AlarmRequest(**row)

        return retry_when_locked(write, f"requesting {action} on {machine}", self.retry_for_s)

    def get_request(self, request_id: int) -> AlarmRequest | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(alarm_requests).where(alarm_requests.c.id == request_id)).mappings().first()
        return None if row is None else _request(row)

    def wait_for_outcome(self, request_id: int, timeout_s: float, poll_s: float = 0.25,
                         cancelled=lambda: False) -> AlarmRequest | None:
        """The request once a node recorded its outcome, or as it is after ``timeout_s`` (still waiting)."""
        deadline = time.monotonic() + timeout_s
        while True:
            request = self.get_request(request_id)
            if request is None or request.outcome is not None or time.monotonic() >= deadline or cancelled():
                return request
            time.sleep(poll_s)

    def requests(self, machine: str | None = None, limit: int = 100) -> list[AlarmRequest]:
        """The newest ``limit`` requests first."""
        query = select(alarm_requests).order_by(alarm_requests.c.id.desc()).limit(limit)
        if machine is not None:
            query = query.where(alarm_requests.c.machine == machine)
        with self.engine.connect() as conn:
            return [_request(row) for row in conn.execute(query).mappings()]


def expired(request: AlarmRequest, now: datetime | None = None) -> bool:
    return ((now or utcnow()) - request.requested_at) > timedelta(seconds=REQUEST_TTL_S)
