"""The tool-wear alarm of each machine, as an ISA-18.2 alarm state machine (pure Python, no Qt, no I/O).

The scoring thread feeds the smoothed wear state (:class:`~cncwear_gui.live.wear_state.WearStateTracker`)
of every scored sample into :meth:`MachineAlarm.update`; the operator acknowledges, shelves and
unshelves from the GUI thread. Every state change is returned as an :class:`AlarmTransition`,
which the caller persists to its audit trail (this module never writes anything).

The alarm *condition* is debounced: it becomes active when the wear state has been WORN for
``delay_samples`` consecutive samples, and clears on the first sample that is not WORN (the wear
state already has a rolling window and hysteresis, so it does not flap on one noisy sample).
A :attr:`WearState.UNKNOWN <cncwear_gui.live.wear_state.WearState.UNKNOWN>` sample (the tracker's
window not yet full) is no evidence either way: it neither counts, resets the count, nor clears.

State diagram (``old --trigger--> new  [action]``)::

    NORMAL      --condition active-->      UNACKNOWLEDGED      [raised]      (new occurrence)
    UNACK       --condition clears-->      RTN_UNACKNOWLEDGED  [returned]
    UNACK       --acknowledge-->           ACKNOWLEDGED        [acknowledged]
    ACK         --condition clears-->      NORMAL              [cleared]     (occurrence closed)
    RTN_UNACK   --acknowledge-->           NORMAL              [acknowledged] (occurrence closed)
    RTN_UNACK   --condition active-->      UNACKNOWLEDGED      [reactivated] (same occurrence)
    any but SHELVED --shelve(until)-->     SHELVED             [shelved]
    SHELVED     --unshelve / expiry-->     UNACK if the condition is active, else NORMAL
                                                               [unshelved / shelve_expired]

Decisions the caller should know:

* Re-alarm from RTN_UNACKNOWLEDGED keeps the *same* occurrence (same ``alarm_id``; its
  ``reactivations`` count goes up): it was never acknowledged, so one acknowledgement covers it.
* An occurrence is acknowledged at most once. Unshelving an alarm whose open occurrence was already
  acknowledged, while the condition is still active, closes that occurrence and opens a new one.
* While SHELVED the condition is still tracked (debounced as usual) and an occurrence is opened
  silently when it becomes active (``raised_while_shelved``); no transition is produced until the
  shelve ends. Shelving does not close an occurrence: an active alarm stays known.
* Shelve expiry is checked at the start of :meth:`MachineAlarm.update` (before the sample is
  applied) and in :meth:`MachineAlarm.tick`; the transition's ``at`` is the time it was noticed.
  :meth:`~MachineAlarm.acknowledge`, :meth:`~MachineAlarm.shelve` and :meth:`~MachineAlarm.unshelve`
  never expire a shelve implicitly.
* ``false_alarm`` is True only on the ``acknowledged`` transition that marked it (store the label
  "the tool was not worn" from that one transition); it then stays on the occurrence.
* Operator actions need a non-empty ``user``; automatic transitions have ``user=None``.
* Timestamps are compared, so use timezone-aware datetimes (or naive ones) consistently.
"""

from __future__ import annotations

import math
import threading
import uuid
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, replace
from datetime import datetime
from enum import Enum

from .wear_state import WearState

#: How many transitions :class:`AlarmBoard` keeps in memory (the audit trail is the caller's).
HISTORY_SIZE = 1000


class AlarmState(str, Enum):
    NORMAL = "normal"
    UNACKNOWLEDGED = "unacknowledged"  # active, not acknowledged
    ACKNOWLEDGED = "acknowledged"  # active, acknowledged
    RTN_UNACKNOWLEDGED = "rtn_unacknowledged"  # returned to normal, not acknowledged
    SHELVED = "shelved"  # suppressed by the operator until an expiry time

    @property
    def label(self) -> str:
        return _LABELS[self]


_LABELS = {
    AlarmState.NORMAL: "normal",
    AlarmState.UNACKNOWLEDGED: "active, unacknowledged",
    AlarmState.ACKNOWLEDGED: "active, acknowledged",
    AlarmState.RTN_UNACKNOWLEDGED: "returned to normal, unacknowledged",
    AlarmState.SHELVED: "shelved",
}
NEEDS_ACTION = frozenset({AlarmState.UNACKNOWLEDGED, AlarmState.RTN_UNACKNOWLEDGED})


class AlarmError(Exception):
    """An operator action that the alarm's current state does not allow."""


@dataclass
class AlarmOccurrence:
    """One alarm occurrence: from raising until the alarm is back to NORMAL (snapshots are copies)."""

    alarm_id: str
    machine: str
    raised_at: datetime
    peak_probability: float | None = None
    returned_at: datetime | None = None  # when the condition last cleared; None while it is active
    reactivations: int = 0  # times the condition came back while the occurrence was open
    raised_while_shelved: bool = False
    acknowledged_at: datetime | None = None
    acknowledged_by: str | None = None
    comment: str = ""
    false_alarm: bool = False
    closed_at: datetime | None = None

    @property
    def acknowledged(self) -> bool:
        return self.acknowledged_at is not None

    def to_dict(self) -> dict:
        return {key: _jsonable(value) for key, value in asdict(self).items()}


@dataclass(frozen=True)
class AlarmTransition:
    machine: str
    alarm_id: str | None  # None when no occurrence is involved (shelving a NORMAL alarm)
    action: str  # raised, returned, acknowledged, cleared, reactivated, shelved, unshelved, shelve_expired
    old_state: AlarmState
    new_state: AlarmState
    at: datetime
    user: str | None = None  # None for automatic transitions
    comment: str = ""
    false_alarm: bool = False
    probability: float | None = None  # the latest P(worn) seen when it happened

    def to_dict(self) -> dict:
        return {key: _jsonable(value) for key, value in asdict(self).items()}


@dataclass(frozen=True)
class AlarmStatus:
    """A consistent snapshot of one machine's alarm, for the alarm list."""

    machine: str
    state: AlarmState
    active: bool
    needs_action: bool
    changed_at: datetime | None  # when the state last changed (None: never)
    occurrence: AlarmOccurrence | None  # the open occurrence (a copy)
    shelved_until: datetime | None
    shelved_by: str | None
    shelve_comment: str
    worn_streak: int
    delay_samples: int
    probability: float | None


def _jsonable(value):
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def _check_delay(delay_samples: int) -> int:
    if isinstance(delay_samples, bool) or not isinstance(delay_samples, int) or delay_samples < 1:
        raise ValueError(f"delay_samples must be an integer of at least 1, not {delay_samples!r}")
    return delay_samples


def _check_user(user: str, what: str) -> str:
    if not isinstance(user, str) or not user.strip():
        raise AlarmError(f"{what} needs the name of the user")
    return user


def _default_id(machine: str) -> str:
    return f"{machine}-{uuid.uuid4().hex[:12]}"


class MachineAlarm:
    """The tool-wear alarm of one machine. All methods are thread-safe (one lock per alarm, or the board's)."""

    def __init__(self, machine: str, delay_samples: int = 1, *,
                 id_factory: Callable[[str], str] | None = None,
                 lock: threading.RLock | None = None,
                 on_transition: Callable[[AlarmTransition], None] | None = None):
        self.machine = str(machine)
        self._delay = _check_delay(delay_samples)
        self._id_factory = id_factory or _default_id
        self._lock = lock if lock is not None else threading.RLock()
        self._on_transition = on_transition
        self._state = AlarmState.NORMAL
        self._changed_at: datetime | None = None
        self._active = False
        self._streak = 0
        self._streak_peak: float | None = None
        self._probability: float | None = None
        self._occurrence: AlarmOccurrence | None = None
        self._last_occurrence: AlarmOccurrence | None = None
        self._shelved_until: datetime | None = None
        self._shelved_by: str | None = None
        self._shelve_comment = ""
        self.occurrence_count = 0

    # -- properties (snapshots under the lock) ------------------------------------------------

    @property
    def state(self) -> AlarmState:
        with self._lock:
            return self._state

    @property
    def active(self) -> bool:
        """The (debounced) alarm condition is present, whether or not the alarm is shelved."""
        with self._lock:
            return self._active

    @property
    def needs_action(self) -> bool:
        with self._lock:
            return self._state in NEEDS_ACTION

    @property
    def current(self) -> AlarmOccurrence | None:
        """A copy of the open occurrence, or None."""
        with self._lock:
            return replace(self._occurrence) if self._occurrence else None

    @property
    def last_occurrence(self) -> AlarmOccurrence | None:
        """A copy of the open occurrence, else of the last closed one, else None."""
        with self._lock:
            occurrence = self._occurrence or self._last_occurrence
            return replace(occurrence) if occurrence else None

    @property
    def shelved_until(self) -> datetime | None:
        with self._lock:
            return self._shelved_until

    @property
    def worn_streak(self) -> int:
        with self._lock:
            return self._streak

    @property
    def delay_samples(self) -> int:
        with self._lock:
            return self._delay

    @delay_samples.setter
    def delay_samples(self, value: int) -> None:
        """Takes effect from the next sample; an active condition stays active."""
        with self._lock:
            self._delay = _check_delay(value)

    def status(self) -> AlarmStatus:
        with self._lock:
            return AlarmStatus(
                machine=self.machine, state=self._state, active=self._active,
                needs_action=self._state in NEEDS_ACTION, changed_at=self._changed_at,
                occurrence=replace(self._occurrence) if self._occurrence else None,
                shelved_until=self._shelved_until, shelved_by=self._shelved_by,
                shelve_comment=self._shelve_comment, worn_streak=self._streak,
                delay_samples=self._delay, probability=self._probability)

    # -- automatic ----------------------------------------------------------------------------

    def update(self, worn: bool | WearState, at: datetime, probability: float | None = None) -> list[AlarmTransition]:
        """Apply one scored sample's (smoothed) wear state; the transitions it caused."""
        if probability is not None:
            probability = float(probability)
            if math.isnan(probability):
                probability = None
        with self._lock:
            out = self._expire(at)
            if worn is WearState.UNKNOWN:
                return out
            is_worn = worn is WearState.WORN if isinstance(worn, WearState) else bool(worn)
            if probability is not None:
                self._probability = probability
            if is_worn:
                self._streak += 1
                self._streak_peak = _max(self._streak_peak, probability)
                self._raise_peak(probability)
                if not self._active and self._streak >= self._delay:
                    self._condition_on(at, out)
            else:
                self._streak = 0
                self._streak_peak = None
                self._raise_peak(probability)
                if self._active:
                    self._condition_off(at, out)
            return out

    def tick(self, now: datetime) -> list[AlarmTransition]:
        """Expire the shelve when its time has come (call it from a timer: samples may stop)."""
        with self._lock:
            return self._expire(now)

    # -- operator actions ---------------------------------------------------------------------

    def acknowledge(self, at: datetime, user: str, comment: str = "", false_alarm: bool = False) -> list[AlarmTransition]:
        """UNACK → ACK, RTN_UNACK → NORMAL; ``false_alarm``: the operator found the tool not worn."""
        with self._lock:
            if self._state not in NEEDS_ACTION:
                raise AlarmError(f"{self.machine}: there is nothing to acknowledge, the alarm is {self._state.label}")
            _check_user(user, "acknowledging an alarm")
            occurrence = self._occurrence
            assert occurrence is not None  # UNACK and RTN_UNACK always have an open occurrence
            occurrence.acknowledged_at, occurrence.acknowledged_by = at, user
            occurrence.comment, occurrence.false_alarm = comment, bool(false_alarm)
            out: list[AlarmTransition] = []
            if self._state is AlarmState.UNACKNOWLEDGED:
                self._move(AlarmState.ACKNOWLEDGED, "acknowledged", at, out, user=user, comment=comment,
                           false_alarm=bool(false_alarm))
            else:
                self._move(AlarmState.NORMAL, "acknowledged", at, out, user=user, comment=comment,
                           false_alarm=bool(false_alarm))
                self._close(at)
            return out

    def shelve(self, until: datetime, at: datetime, user: str, comment: str = "") -> list[AlarmTransition]:
        """Suppress the alarm until ``until`` (the condition is still tracked meanwhile)."""
        with self._lock:
            if self._state is AlarmState.SHELVED:
                raise AlarmError(f"{self.machine}: the alarm is already shelved until {self._shelved_until:%Y-%m-%d %H:%M}; "
                                 "unshelve it first")
            _check_user(user, "shelving an alarm")
            if until <= at:
                raise AlarmError(f"{self.machine}: a shelve must end in the future (until {until} is not after {at})")
            self._shelved_until, self._shelved_by, self._shelve_comment = until, user, comment
            out: list[AlarmTransition] = []
            self._move(AlarmState.SHELVED, "shelved", at, out, user=user, comment=comment)
            return out

    def unshelve(self, at: datetime, user: str) -> list[AlarmTransition]:
        """End the shelve now: UNACK when the condition is active, else NORMAL."""
        with self._lock:
            if self._state is not AlarmState.SHELVED:
                raise AlarmError(f"{self.machine}: the alarm is not shelved, it is {self._state.label}")
            _check_user(user, "unshelving an alarm")
            out: list[AlarmTransition] = []
            self._end_shelve(at, user, "unshelved", out)
            return out

    # -- internals (called with the lock held) ------------------------------------------------

    def _raise_peak(self, probability: float | None) -> None:
        if self._occurrence is not None:
            self._occurrence.peak_probability = _max(self._occurrence.peak_probability, probability)

    def _open(self, at: datetime, shelved: bool = False) -> AlarmOccurrence:
        self.occurrence_count += 1
        self._occurrence = AlarmOccurrence(
            alarm_id=self._id_factory(self.machine), machine=self.machine, raised_at=at,
            peak_probability=self._streak_peak,
            raised_while_shelved=shelved)
        return self._occurrence

    def _close(self, at: datetime) -> None:
        if self._occurrence is not None:
            self._occurrence.closed_at = at
            self._last_occurrence, self._occurrence = self._occurrence, None

    def _condition_on(self, at: datetime, out: list[AlarmTransition]) -> None:
        self._active = True
        if self._state is AlarmState.NORMAL:
            self._open(at)
            self._move(AlarmState.UNACKNOWLEDGED, "raised", at, out)
        elif self._state is AlarmState.RTN_UNACKNOWLEDGED:
            self._occurrence.reactivations += 1
            self._occurrence.returned_at = None
            self._move(AlarmState.UNACKNOWLEDGED, "reactivated", at, out)
        elif self._state is AlarmState.SHELVED:
            if self._occurrence is None:
                self._open(at, shelved=True)
            else:
                self._occurrence.reactivations += 1
                self._occurrence.returned_at = None

    def _condition_off(self, at: datetime, out: list[AlarmTransition]) -> None:
        self._active = False
        if self._occurrence is not None:
            self._occurrence.returned_at = at
        if self._state is AlarmState.UNACKNOWLEDGED:
            self._move(AlarmState.RTN_UNACKNOWLEDGED, "returned", at, out)
        elif self._state is AlarmState.ACKNOWLEDGED:
            self._move(AlarmState.NORMAL, "cleared", at, out)
            self._close(at)

    def _expire(self, now: datetime) -> list[AlarmTransition]:
        out: list[AlarmTransition] = []
        if self._state is AlarmState.SHELVED and self._shelved_until is not None and now >= self._shelved_until:
            self._end_shelve(now, None, "shelve_expired", out)
        return out

    def _end_shelve(self, at: datetime, user: str | None, action: str, out: list[AlarmTransition]) -> None:
        self._shelved_until, self._shelved_by, self._shelve_comment = None, None, ""
        if self._active:
            if self._occurrence is not None and self._occurrence.acknowledged:
                self._close(at)  # acknowledged once already: annunciate a new occurrence
            if self._occurrence is None:
                self._open(at)
            self._move(AlarmState.UNACKNOWLEDGED, action, at, out, user=user)
        else:
            self._move(AlarmState.NORMAL, action, at, out, user=user)
            self._close(at)

    def _move(self, new: AlarmState, action: str, at: datetime, out: list[AlarmTransition], *,
              user: str | None = None, comment: str = "", false_alarm: bool = False) -> None:
        transition = AlarmTransition(
            machine=self.machine, alarm_id=self._occurrence.alarm_id if self._occurrence else None,
            action=action, old_state=self._state, new_state=new, at=at, user=user, comment=comment,
            false_alarm=false_alarm, probability=self._probability)
        self._state, self._changed_at = new, at
        out.append(transition)
        if self._on_transition is not None:
            self._on_transition(transition)


def _max(a: float | None, b: float | None) -> float | None:
    if a is None:
        return b
    if b is None:
        return a
    return max(a, b)


class AlarmBoard:
    """The alarms of all machines and the recent transitions; one lock for the scoring and GUI threads."""

    def __init__(self, delay_samples: int = 1, history_size: int = HISTORY_SIZE,
                 id_factory: Callable[[str], str] | None = None):
        self._delay = _check_delay(delay_samples)
        self._id_factory = id_factory
        self._lock = threading.RLock()
        self._alarms: dict[str, MachineAlarm] = {}
        self._history: deque[AlarmTransition] = deque(maxlen=history_size)

    # -- machines -----------------------------------------------------------------------------

    def add(self, machine: str, delay_samples: int | None = None) -> MachineAlarm:
        """The machine's alarm, created if needed (``delay_samples``: the board's default when None)."""
        with self._lock:
            alarm = self._alarms.get(machine)
            if alarm is None:
                alarm = MachineAlarm(machine, self._delay if delay_samples is None else delay_samples,
                                     id_factory=self._id_factory, lock=self._lock,
                                     on_transition=self._history.append)
                self._alarms[alarm.machine] = alarm
            elif delay_samples is not None:
                alarm.delay_samples = delay_samples
            return alarm

    def get(self, machine: str) -> MachineAlarm:
        with self._lock:
            try:
                return self._alarms[machine]
            except KeyError:
                raise KeyError(f"no alarm for machine {machine!r}") from None

    def __contains__(self, machine: object) -> bool:
        with self._lock:
            return machine in self._alarms

    @property
    def machines(self) -> list[str]:
        with self._lock:
            return list(self._alarms)

    @property
    def delay_samples(self) -> int:
        return self._delay

    def set_delay_samples(self, delay_samples: int) -> None:
        """The setting changed: every machine (and machines added later) use the new delay."""
        with self._lock:
            self._delay = _check_delay(delay_samples)
            for alarm in self._alarms.values():
                alarm.delay_samples = delay_samples

    # -- the machine alarms' actions, under the board lock ------------------------------------

    def update(self, machine: str, worn: bool | WearState, at: datetime,
               probability: float | None = None) -> list[AlarmTransition]:
        """One scored sample of ``machine`` (added with the default delay when new)."""
        with self._lock:
            return self.add(machine).update(worn, at, probability)

    def tick(self, now: datetime) -> list[AlarmTransition]:
        with self._lock:
            return [t for alarm in self._alarms.values() for t in alarm.tick(now)]

    def acknowledge(self, machine: str, at: datetime, user: str, comment: str = "",
                    false_alarm: bool = False) -> list[AlarmTransition]:
        with self._lock:
            return self.get(machine).acknowledge(at, user, comment, false_alarm)

    def shelve(self, machine: str, until: datetime, at: datetime, user: str, comment: str = "") -> list[AlarmTransition]:
        with self._lock:
            return self.get(machine).shelve(until, at, user, comment)

    def unshelve(self, machine: str, at: datetime, user: str) -> list[AlarmTransition]:
        with self._lock:
            return self.get(machine).unshelve(at, user)

    # -- views --------------------------------------------------------------------------------

    def alarms(self, states: Iterable[AlarmState] | None = None, machine: str | None = None,
               needs_action_only: bool = False) -> list[AlarmStatus]:
        """The alarm list: snapshots, needing action (UNACK, RTN_UNACK) first, then newest change first.

        ``states=None`` lists every state except NORMAL (a machine without an alarm is not in the
        alarm list); pass the states explicitly, NORMAL included, to list machines in NORMAL.
        """
        wanted = (frozenset(AlarmState) - {AlarmState.NORMAL}) if states is None else frozenset(AlarmState(s) for s in states)
        with self._lock:
            rows = [alarm.status() for name, alarm in self._alarms.items() if machine is None or name == machine]
        rows = [row for row in rows if row.state in wanted and (row.needs_action or not needs_action_only)]
        rows.sort(key=lambda row: row.machine)
        rows.sort(key=lambda row: row.changed_at.timestamp() if row.changed_at else float("-inf"), reverse=True)
        rows.sort(key=lambda row: not row.needs_action)
        return rows

    def summary(self) -> dict[AlarmState, int]:
        """How many machines are in each state (every state present, zeros included)."""
        counts = dict.fromkeys(AlarmState, 0)
        with self._lock:
            for alarm in self._alarms.values():
                counts[alarm.state] += 1
        return counts

    def history(self, machine: str | None = None, limit: int | None = None) -> list[AlarmTransition]:
        """The most recent transitions kept in memory, oldest first."""
        with self._lock:
            rows = [t for t in self._history if machine is None or t.machine == machine]
        return rows[-limit:] if limit else rows


#: The operator actions another PC can ask of a node (store.shared_alarms.ACTIONS), as the operator reads them.
ACTION_TEXT = {"acknowledge": "acknowledged", "false_alarm": "marked as a false alarm", "shelve": "shelved",
               "unshelve": "unshelved"}


def action_refusal(machine: str, state: str, action: str) -> str | None:
    """Why ``action`` cannot be done on an alarm in ``state`` (an AlarmState value), or None:
    the same rules as :class:`MachineAlarm`, checked before a request is sent to another node."""
    alarm_state = AlarmState(state)
    if action in ("acknowledge", "false_alarm") and alarm_state not in NEEDS_ACTION:
        return f"{machine}: there is nothing to acknowledge, the alarm is {alarm_state.label}"
    if action == "shelve" and alarm_state is AlarmState.SHELVED:
        return f"{machine}: the alarm is already shelved; unshelve it first"
    if action == "unshelve" and alarm_state is not AlarmState.SHELVED:
        return f"{machine}: the alarm is not shelved, it is {alarm_state.label}"
    return None
