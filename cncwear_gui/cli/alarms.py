"""``cncwear alarms list|ack|false-alarm|shelve|unshelve``: the alarms every node publishes in the
shared store, and requests on them that the node serving the machine applies (``store.shared_alarms``)."""

from __future__ import annotations

import re

from .base import EXIT_OK, BadInput, emit
from .common import redact
from .teach import store_url, user_of

DEFAULT_WAIT_S = 8.0  # a node reads the requests every 2 s
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|min|h)?\s*$", re.IGNORECASE)
_STATE_TEXT = {"normal": "normal", "unacknowledged": "UNACKNOWLEDGED", "acknowledged": "acknowledged",
               "rtn_unacknowledged": "CLEARED, UNACKNOWLEDGED", "shelved": "shelved"}


def shelve_minutes(text: str) -> float:
    """``--for`` as minutes: 90s, 30m (or 30), 2h; more than 0 and at most 8 h."""
    from ..store.shared_alarms import MAX_SHELVE_MINUTES

    match = _DURATION.match(text or "")
    if not match:
        raise BadInput(f"--for {text!r}: give a duration such as 30m, 2h or 90s")
    value, unit = float(match.group(1)), (match.group(2) or "m").lower()
    minutes = value / 60 if unit == "s" else value * 60 if unit == "h" else value
    if not 0 < minutes <= MAX_SHELVE_MINUTES:
        raise BadInput(f"--for {text}: a shelve lasts more than 0 and at most {MAX_SHELVE_MINUTES // 60} h")
    return minutes


def _open(args):
    from ..store.shared_alarms import SharedAlarmStore

    return SharedAlarmStore(store_url(args))


def _unknown(machine: str, store) -> BadInput:
    known = sorted(alarm.machine for alarm in store.alarms())
    where = redact(store.url)
    if not known:
        return BadInput(f"unknown machine {machine!r}: no node has published its alarms in {where} "
                        "(a node publishes when `cncwear serve` or the window runs with this --store)")
    return BadInput(f"unknown machine {machine!r}; the machines published in {where}: {', '.join(known)}")


def _state(alarm) -> str:
    text = _STATE_TEXT.get(alarm.state, alarm.state)
    if alarm.stopped_at is not None:
        return f"node stopped (was {text})"
    if not alarm.reporting():
        return f"{text} (node not reporting)"
    return text


def cmd_alarms_list(args) -> int:
    with _open(args) as store:
        alarms = store.alarms(args.machine)
        if args.machine and not alarms:
            raise _unknown(args.machine, store)
        where = redact(store.url)

    def text() -> None:
        if not alarms:
            print(f"no alarms published in {where}")
            return
        print(f"{'MACHINE':14} {'STATE':34} {'RAISED (UTC)':20} {'PEAK':5} {'ACK BY':12} NODE")
        for alarm in alarms:
            raised = f"{alarm.raised_at:%Y-%m-%d %H:%M:%S}" if alarm.raised_at else "—"
            peak = "—" if alarm.peak_probability is None else f"{alarm.peak_probability:.2f}"
            state = _state(alarm)
            if alarm.state == "shelved" and alarm.shelved_until:
                state += f" until {alarm.shelved_until:%H:%M}"
            print(f"{alarm.machine:14} {state:34} {raised:20} {peak:5} {alarm.acknowledged_by or '—':12} {alarm.where()}")

    emit(args, {"alarms": [alarm.to_json() for alarm in alarms], "store": where}, text)
    return EXIT_OK


def _act(args, action: str, minutes: float | None = None) -> int:
    from ..live.alarms import ACTION_TEXT, action_refusal

    if args.wait < 0:
        raise BadInput("--wait must be 0 or more seconds")
    with _open(args) as store:
        alarm = store.alarm(args.machine)
        if alarm is None:
            raise _unknown(args.machine, store)
        if alarm.stopped_at is not None:
            raise BadInput(f"{args.machine}: no node serves it now; the node on {alarm.where()} stopped at "
                           f"{alarm.stopped_at:%Y-%m-%d %H:%M:%S} UTC and its alarm ended with it")
        refusal = action_refusal(args.machine, alarm.state, action)
        if refusal:
            raise BadInput(refusal)
        try:
            request = store.request(args.machine, action, user_of(args), args.comment, alarm_id=alarm.alarm_id,
                                    minutes=minutes)
        except ValueError as error:
            raise BadInput(str(error)) from None
        handled = store.wait_for_outcome(request.id, args.wait) or request
    status = handled.outcome or "queued"
    result = {"request": handled.to_json(), "status": status, "node": alarm.where()}
    if status in ("refused", "expired"):
        emit(args, result)  # the JSON says what came of it; the message goes to stderr
        raise BadInput(f"request #{handled.id} {status} by the node on {alarm.where()}: {handled.detail}")
    if status == "applied":
        text = f"{args.machine}: {ACTION_TEXT[action]} (request #{handled.id}, applied by the node on {alarm.where()})"
    else:
        silent = "" if alarm.reporting() else f"; it has not reported since {alarm.seen_at:%Y-%m-%d %H:%M:%S} UTC"
        text = (f"{args.machine}: request #{handled.id} is queued: the node on {alarm.where()} has not applied it "
                f"yet{silent}. It applies it when it next reads the store (see `cncwear alarms list`).")
    emit(args, result, text)
    return EXIT_OK


def cmd_alarms(args) -> int:
    if args.alarms_command == "list":
        return cmd_alarms_list(args)
    if args.alarms_command == "shelve":
        return _act(args, "shelve", shelve_minutes(args.duration))
    return _act(args, {"ack": "acknowledge", "false-alarm": "false_alarm", "unshelve": "unshelve"}[args.alarms_command])


def register(commands) -> None:
    alarms = commands.add_parser("alarms", help="the alarms the nodes publish in the shared store; acknowledge, "
                                                "shelve or mark one false from any PC (audited)")
    actions = alarms.add_subparsers(dest="alarms_command", required=True, metavar="ACTION")

    def common(parser, machine_help: str | None = None) -> None:
        if machine_help:
            parser.add_argument("machine", metavar="MACHINE", help=machine_help)
        parser.add_argument("--store", metavar="URL", help="the shared database (default: the settings' feature store)")
        parser.add_argument("--json", action="store_true")
        parser.set_defaults(func=cmd_alarms)

    lister = actions.add_parser("list", help="every machine's current alarm, as its node published it")
    lister.add_argument("--machine", metavar="ID", help="only this machine")
    common(lister)
    for name, what in (("ack", "acknowledge the machine's alarm"),
                       ("false-alarm", "acknowledge it as a false alarm (the tool was not worn: a label for retraining)"),
                       ("shelve", "suppress the machine's alarm for a while"),
                       ("unshelve", "end the shelve now")):
        parser = actions.add_parser(name, help=what)
        common(parser, "the machine, as `cncwear alarms list` shows it")
        if name == "shelve":
            parser.add_argument("--for", dest="duration", required=True, metavar="DURATION",
                                help="how long: 30m, 2h, 90s (at most 8 h)")
        parser.add_argument("--comment", default="", help="kept with the alarm and in the audit trail")
        parser.add_argument("--user", help="who (default: the logged-in user)")
        parser.add_argument("--wait", type=float, default=DEFAULT_WAIT_S, metavar="SECONDS",
                            help=f"how long to wait for the node to apply it (default {DEFAULT_WAIT_S:g}; "
                                 "0: queue it and return)")
