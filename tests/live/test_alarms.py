"""The ISA-18.2 tool-wear alarm: every transition of the state diagram, the delay, shelving, the board."""

from __future__ import annotations

import itertools
import json
import random
import threading
from datetime import datetime, timedelta, timezone

import pytest

from cncwear_gui.live.alarms import (
    AlarmBoard,
    AlarmError,
    AlarmState,
    AlarmTransition,
    MachineAlarm,
)
from cncwear_gui.live.wear_state import WearState

T0 = datetime(2024, 5, 1, 8, 0, tzinfo=timezone.utc)
S = AlarmState


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def counter_ids():
    numbers = itertools.count(1)
    return lambda machine: f"{machine}-{next(numbers)}"


def make(delay: int = 1) -> MachineAlarm:
    return MachineAlarm("M1", delay_samples=delay, id_factory=counter_ids())


def actions(transitions: list[AlarmTransition]) -> list[tuple[str, S, S]]:
    return [(t.action, t.old_state, t.new_state) for t in transitions]


def raise_alarm(alarm: MachineAlarm, t: float = 0.0, probability: float = 0.9) -> list[AlarmTransition]:
    out = []
    for i in range(alarm.delay_samples):
        out += alarm.update(True, at(t + i), probability)
    assert alarm.state is S.UNACKNOWLEDGED
    return out


# -- the state diagram -------------------------------------------------------------------------------


def test_raise_return_acknowledge_back_to_normal():
    alarm = make()
    assert alarm.state is S.NORMAL and not alarm.active and not alarm.needs_action and alarm.current is None
    assert alarm.update(False, at(0), 0.1) == []

    raised = alarm.update(True, at(1), 0.8)
    assert actions(raised) == [("raised", S.NORMAL, S.UNACKNOWLEDGED)]
    assert raised[0].alarm_id == "M1-1" and raised[0].user is None and raised[0].probability == 0.8
    assert alarm.active and alarm.needs_action
    occurrence = alarm.current
    assert occurrence.alarm_id == "M1-1" and occurrence.raised_at == at(1) and occurrence.peak_probability == 0.8

    assert alarm.update(True, at(2), 0.95) == []  # still worn: no new transition
    returned = alarm.update(False, at(3), 0.3)
    assert actions(returned) == [("returned", S.UNACKNOWLEDGED, S.RTN_UNACKNOWLEDGED)]
    assert not alarm.active and alarm.needs_action and alarm.current.returned_at == at(3)
    assert alarm.current.peak_probability == 0.95

    acked = alarm.acknowledge(at(4), "anna", "tool inspected")
    assert actions(acked) == [("acknowledged", S.RTN_UNACKNOWLEDGED, S.NORMAL)]
    assert acked[0].user == "anna" and acked[0].comment == "tool inspected" and acked[0].alarm_id == "M1-1"
    assert alarm.state is S.NORMAL and alarm.current is None
    closed = alarm.last_occurrence
    assert closed.closed_at == at(4) and closed.acknowledged_by == "anna" and closed.acknowledged_at == at(4)


def test_acknowledge_while_active_then_clear():
    alarm = make()
    raise_alarm(alarm)
    acked = alarm.acknowledge(at(5), "ben", "changing the tool after this part")
    assert actions(acked) == [("acknowledged", S.UNACKNOWLEDGED, S.ACKNOWLEDGED)]
    assert alarm.active and not alarm.needs_action
    assert alarm.current.acknowledged_by == "ben" and alarm.current.comment == "changing the tool after this part"
    assert alarm.update(True, at(6), 0.9) == []  # still active, acknowledged: quiet
    cleared = alarm.update(False, at(7), 0.2)
    assert actions(cleared) == [("cleared", S.ACKNOWLEDGED, S.NORMAL)]
    assert cleared[0].alarm_id == "M1-1" and cleared[0].user is None
    assert alarm.current is None and alarm.last_occurrence.closed_at == at(7)
    # the next worn period is a new occurrence
    assert alarm.update(True, at(8), 0.7)[0].alarm_id == "M1-2"


def test_realarm_from_rtn_unack_keeps_the_same_occurrence():
    alarm = make()
    raise_alarm(alarm)
    alarm.update(False, at(1), 0.2)
    assert alarm.state is S.RTN_UNACKNOWLEDGED
    again = alarm.update(True, at(2), 0.97)
    assert actions(again) == [("reactivated", S.RTN_UNACKNOWLEDGED, S.UNACKNOWLEDGED)]
    assert again[0].alarm_id == "M1-1"
    occurrence = alarm.current
    assert occurrence.reactivations == 1 and occurrence.returned_at is None and occurrence.peak_probability == 0.97
    assert occurrence.raised_at == at(0)
    # one acknowledgement covers the whole occurrence
    assert actions(alarm.acknowledge(at(3), "anna")) == [("acknowledged", S.UNACKNOWLEDGED, S.ACKNOWLEDGED)]
    assert alarm.occurrence_count == 1


def test_false_alarm_is_on_the_acknowledge_transition_and_the_occurrence():
    alarm = make()
    raise_alarm(alarm)
    acked = alarm.acknowledge(at(1), "anna", "edge looks fine", false_alarm=True)
    assert acked[0].false_alarm is True and acked[0].comment == "edge looks fine"
    assert alarm.current.false_alarm is True
    cleared = alarm.update(False, at(2), 0.1)
    assert cleared[0].false_alarm is False  # only the acknowledging transition carries the label
    assert alarm.last_occurrence.false_alarm is True
    assert json.loads(json.dumps(acked[0].to_dict())) == {
        "machine": "M1", "alarm_id": "M1-1", "action": "acknowledged", "old_state": "unacknowledged",
        "new_state": "acknowledged", "at": at(1).isoformat(), "user": "anna", "comment": "edge looks fine",
        "false_alarm": True, "probability": 0.9}


@pytest.mark.parametrize("state", ["normal", "acknowledged", "shelved"])
def test_acknowledge_is_an_error_when_nothing_needs_it(state):
    alarm = make()
    if state == "acknowledged":
        raise_alarm(alarm)
        alarm.acknowledge(at(1), "anna")
    elif state == "shelved":
        raise_alarm(alarm)
        alarm.shelve(at(100), at(1), "anna")
    before = alarm.status()
    with pytest.raises(AlarmError, match=f"nothing to acknowledge, the alarm is {AlarmState(state).label}"):
        alarm.acknowledge(at(2), "ben")
    assert alarm.status() == before  # nothing changed


def test_operator_actions_need_a_user():
    alarm = make()
    raise_alarm(alarm)
    with pytest.raises(AlarmError, match="needs the name of the user"):
        alarm.acknowledge(at(1), "  ")
    with pytest.raises(AlarmError, match="needs the name of the user"):
        alarm.shelve(at(10), at(1), "")
    assert alarm.state is S.UNACKNOWLEDGED and alarm.current.acknowledged_at is None


# -- the delay ----------------------------------------------------------------------------------------


def test_delay_raises_on_the_nth_consecutive_worn_sample():
    alarm = make(delay=3)
    assert alarm.update(True, at(0), 0.7) == []
    assert alarm.update(True, at(1), 0.9) == []
    assert alarm.state is S.NORMAL and not alarm.active and alarm.worn_streak == 2
    raised = alarm.update(True, at(2), 0.8)
    assert actions(raised) == [("raised", S.NORMAL, S.UNACKNOWLEDGED)]
    assert raised[0].at == at(2) and alarm.current.raised_at == at(2)
    assert alarm.current.peak_probability == 0.9  # the peak includes the samples of the delay


def test_an_ok_sample_resets_the_delay_count():
    alarm = make(delay=3)
    alarm.update(True, at(0))
    alarm.update(True, at(1))
    assert alarm.update(False, at(2)) == [] and alarm.worn_streak == 0
    assert alarm.update(True, at(3)) == []
    assert alarm.update(True, at(4)) == []
    assert alarm.state is S.NORMAL
    assert actions(alarm.update(True, at(5))) == [("raised", S.NORMAL, S.UNACKNOWLEDGED)]


def test_the_delay_also_applies_to_reactivation_and_one_ok_sample_clears():
    alarm = make(delay=2)
    raise_alarm(alarm)
    assert actions(alarm.update(False, at(2))) == [("returned", S.UNACKNOWLEDGED, S.RTN_UNACKNOWLEDGED)]
    assert alarm.update(True, at(3)) == []
    assert alarm.state is S.RTN_UNACKNOWLEDGED
    assert actions(alarm.update(True, at(4))) == [("reactivated", S.RTN_UNACKNOWLEDGED, S.UNACKNOWLEDGED)]


def test_unknown_wear_state_is_no_evidence():
    alarm = make(delay=2)
    alarm.update(WearState.WORN, at(0))
    assert alarm.update(WearState.UNKNOWN, at(1)) == [] and alarm.worn_streak == 1
    assert actions(alarm.update(WearState.WORN, at(2))) == [("raised", S.NORMAL, S.UNACKNOWLEDGED)]
    assert alarm.update(WearState.UNKNOWN, at(3)) == [] and alarm.active
    assert actions(alarm.update(WearState.OK, at(4))) == [("returned", S.UNACKNOWLEDGED, S.RTN_UNACKNOWLEDGED)]


def test_delay_must_be_at_least_one():
    for bad in (0, -1, 1.5, True):
        with pytest.raises(ValueError, match="delay_samples"):
            MachineAlarm("M1", delay_samples=bad)


# -- shelving -----------------------------------------------------------------------------------------


def test_shelve_an_active_alarm_suppresses_it_even_when_the_condition_flaps():
    alarm = make()
    raise_alarm(alarm)
    shelved = alarm.shelve(at(600), at(1), "anna", "tool change planned")
    assert actions(shelved) == [("shelved", S.UNACKNOWLEDGED, S.SHELVED)]
    assert shelved[0].alarm_id == "M1-1" and shelved[0].comment == "tool change planned"
    assert alarm.current.alarm_id == "M1-1"  # the active alarm stays known
    for i in range(20):
        assert alarm.update(i % 2 == 0, at(2 + i), 0.9) == []
        assert alarm.state is S.SHELVED and not alarm.needs_action
        assert alarm.active is (i % 2 == 0)  # the condition is still tracked
    assert alarm.current.reactivations == 9 and alarm.occurrence_count == 1
    assert alarm.status().shelved_by == "anna" and alarm.shelved_until == at(600)


def test_expiry_via_tick_with_the_condition_active_goes_to_unack():
    alarm = make()
    raise_alarm(alarm)
    alarm.shelve(at(60), at(1), "anna")
    alarm.update(True, at(2))
    assert alarm.tick(at(59)) == [] and alarm.state is S.SHELVED
    expired = alarm.tick(at(61))
    assert actions(expired) == [("shelve_expired", S.SHELVED, S.UNACKNOWLEDGED)]
    assert expired[0].user is None and expired[0].at == at(61) and expired[0].alarm_id == "M1-1"
    assert alarm.shelved_until is None and alarm.needs_action
    assert alarm.tick(at(62)) == []  # expires once


def test_expiry_via_tick_with_the_condition_cleared_goes_to_normal():
    alarm = make()
    raise_alarm(alarm)
    alarm.shelve(at(60), at(1), "anna")
    alarm.update(False, at(2))
    expired = alarm.tick(at(60))  # the expiry time itself is expired
    assert actions(expired) == [("shelve_expired", S.SHELVED, S.NORMAL)]
    assert expired[0].alarm_id == "M1-1"  # the occurrence it closed
    assert alarm.current is None and alarm.last_occurrence.closed_at == at(60)
    assert alarm.last_occurrence.acknowledged_at is None


def test_expiry_is_checked_in_update_before_the_sample():
    alarm = make()
    alarm.shelve(at(60), at(0), "anna")
    out = alarm.update(True, at(61), 0.9)
    assert actions(out) == [("shelve_expired", S.SHELVED, S.NORMAL), ("raised", S.NORMAL, S.UNACKNOWLEDGED)]


def test_a_condition_arising_while_shelved_is_annunciated_at_unshelve():
    alarm = make(delay=2)
    shelved = alarm.shelve(at(600), at(0), "anna")
    assert actions(shelved) == [("shelved", S.NORMAL, S.SHELVED)] and shelved[0].alarm_id is None
    alarm.update(True, at(1), 0.7)
    assert alarm.update(True, at(2), 0.8) == [] and alarm.active
    occurrence = alarm.current
    assert occurrence.raised_while_shelved and occurrence.raised_at == at(2) and occurrence.peak_probability == 0.8
    unshelved = alarm.unshelve(at(3), "ben")
    assert actions(unshelved) == [("unshelved", S.SHELVED, S.UNACKNOWLEDGED)]
    assert unshelved[0].user == "ben" and unshelved[0].alarm_id == occurrence.alarm_id


def test_unshelve_with_the_condition_cleared_goes_to_normal():
    alarm = make()
    alarm.shelve(at(600), at(0), "anna")
    assert actions(alarm.unshelve(at(1), "anna")) == [("unshelved", S.SHELVED, S.NORMAL)]
    assert alarm.current is None


def test_unshelving_an_acknowledged_active_alarm_annunciates_a_new_occurrence():
    alarm = make()
    raise_alarm(alarm)
    alarm.acknowledge(at(1), "anna")
    assert actions(alarm.shelve(at(600), at(2), "anna")) == [("shelved", S.ACKNOWLEDGED, S.SHELVED)]
    alarm.update(True, at(3))
    unshelved = alarm.unshelve(at(4), "anna")
    assert actions(unshelved) == [("unshelved", S.SHELVED, S.UNACKNOWLEDGED)]
    assert unshelved[0].alarm_id == "M1-2" and alarm.current.acknowledged_at is None
    assert alarm.last_occurrence.alarm_id == "M1-2"


def test_shelve_from_rtn_unack_and_shelve_errors():
    alarm = make()
    raise_alarm(alarm)
    alarm.update(False, at(1))
    assert actions(alarm.shelve(at(600), at(2), "anna")) == [("shelved", S.RTN_UNACKNOWLEDGED, S.SHELVED)]
    with pytest.raises(AlarmError, match="already shelved"):
        alarm.shelve(at(900), at(3), "anna")
    assert alarm.shelved_until == at(600)
    alarm.unshelve(at(4), "anna")
    assert alarm.state is S.NORMAL
    with pytest.raises(AlarmError, match="not shelved"):
        alarm.unshelve(at(5), "anna")
    with pytest.raises(AlarmError, match="must end in the future"):
        alarm.shelve(at(5), at(5), "anna")
    assert alarm.state is S.NORMAL


# -- the board ----------------------------------------------------------------------------------------


def test_board_filters_ordering_summary_and_history():
    board = AlarmBoard(delay_samples=2, id_factory=counter_ids())
    for name in ("A", "B", "C", "D", "E"):
        board.add(name)
    assert board.add("A") is board.get("A") and board.get("A").delay_samples == 2
    with pytest.raises(KeyError, match="no alarm for machine 'Z'"):
        board.get("Z")

    def raise_(name, t):
        board.update(name, True, at(t))
        return board.update(name, True, at(t + 1))

    raise_("A", 0)                       # UNACK, changed at 1
    raise_("B", 10)                      # ACK after acknowledging at 12
    board.acknowledge("B", at(12), "anna")
    raise_("C", 20)                      # RTN_UNACK, changed at 22
    board.update("C", False, at(22))
    board.shelve("D", at(999), at(30), "anna")  # SHELVED from NORMAL at 30
    # E stays NORMAL

    listed = board.alarms()
    assert [(row.machine, row.state) for row in listed] == [
        ("C", S.RTN_UNACKNOWLEDGED), ("A", S.UNACKNOWLEDGED), ("D", S.SHELVED), ("B", S.ACKNOWLEDGED)]
    assert [row.machine for row in board.alarms(needs_action_only=True)] == ["C", "A"]
    assert [row.machine for row in board.alarms(states=[S.NORMAL])] == ["E"]
    assert [row.machine for row in board.alarms(states=["acknowledged", "shelved"])] == ["D", "B"]
    assert [row.machine for row in board.alarms(machine="B")] == ["B"]
    assert board.alarms(machine="B", needs_action_only=True) == []
    assert len(board.alarms(states=list(AlarmState))) == 5

    # a newer unacknowledged alarm goes to the top
    board.update("A", False, at(40))
    assert [row.machine for row in board.alarms()][:2] == ["A", "C"]

    assert board.summary() == {S.NORMAL: 1, S.UNACKNOWLEDGED: 0, S.ACKNOWLEDGED: 1,
                               S.RTN_UNACKNOWLEDGED: 2, S.SHELVED: 1}
    history = board.history()
    assert [t.action for t in history] == ["raised", "raised", "acknowledged", "raised", "returned", "shelved",
                                           "returned"]
    assert [t.action for t in board.history(machine="C")] == ["raised", "returned"]
    assert [t.machine for t in board.history(limit=2)] == ["D", "A"]

    # transitions through the MachineAlarm directly are recorded too; tick expires shelves board-wide
    board.get("E").update(True, at(50))
    assert board.get("E").state is S.NORMAL  # delay 2: not yet
    board.get("E").update(True, at(51))
    assert board.history()[-1].machine == "E"
    assert actions(board.tick(at(1000))) == [("shelve_expired", S.SHELVED, S.NORMAL)]


def test_board_history_is_bounded_and_delay_setting_applies_everywhere():
    board = AlarmBoard(history_size=5)
    for i in range(10):
        board.update("A", i % 2 == 0, at(i))
    assert len(board.history()) == 5
    board.set_delay_samples(3)
    board.add("B")
    assert board.get("A").delay_samples == 3 and board.get("B").delay_samples == 3
    assert board.add("C", delay_samples=4).delay_samples == 4


# -- threads ------------------------------------------------------------------------------------------


def test_scoring_and_gui_threads_leave_a_consistent_state():
    board = AlarmBoard(delay_samples=3, history_size=1_000_000)
    board.add("M1")
    n = 10_000
    done = threading.Event()
    errors: list[BaseException] = []
    refused = []
    rng = random.Random(7)
    pattern = [rng.random() < 0.6 for _ in range(n)]

    def scoring():
        try:
            for i, worn in enumerate(pattern):
                board.update("M1", worn, at(i), 0.9 if worn else 0.1)
        except BaseException as error:  # noqa: BLE001 - reported by the test
            errors.append(error)
        finally:
            done.set()

    def operator():
        k = 0
        try:
            while not done.is_set():
                k += 1
                now = at(k)
                try:
                    if k % 7 == 0:
                        board.shelve("M1", now + timedelta(seconds=3), now, "anna")
                    elif k % 11 == 0:
                        board.unshelve("M1", now, "anna")
                    elif k % 13 == 0:
                        board.tick(now)
                    else:
                        board.acknowledge("M1", now, "anna", false_alarm=k % 2 == 0)
                except AlarmError:
                    refused.append(k)
                board.alarms()
                board.summary()
        except BaseException as error:  # noqa: BLE001
            errors.append(error)

    threads = [threading.Thread(target=scoring), threading.Thread(target=operator)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    assert errors == []

    alarm = board.get("M1")
    history = board.history()
    assert len(history) > 10  # both threads really changed the state
    assert {t.action for t in history} >= {"raised", "returned"}
    # the transitions form one unbroken chain ending in the current state
    assert history[0].old_state is S.NORMAL
    for previous, following in zip(history, history[1:]):
        assert following.old_state is previous.new_state
    assert history[-1].new_state is alarm.state
    # the state agrees with the condition
    status = alarm.status()
    if status.state in (S.UNACKNOWLEDGED, S.ACKNOWLEDGED):
        assert status.active and status.occurrence is not None
    if status.state in (S.NORMAL, S.RTN_UNACKNOWLEDGED):
        assert not status.active
    if status.state is S.NORMAL:
        assert status.occurrence is None
    expected_streak = next((i for i, worn in enumerate(reversed(pattern)) if not worn), n)
    assert status.worn_streak == expected_streak
    assert status.active is (expected_streak >= 3)
    assert sum(board.summary().values()) == 1
