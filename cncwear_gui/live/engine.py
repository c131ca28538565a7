"""The live engine: every machine's source → one scoring call → wear state → alarm → logs.

One loop serves all machines. It wakes when a replay's next sample is due or a push source
(OPC UA) signals new samples, takes what every source has, scores the rows of all machines in a
single model call (one call per wake-up instead of one per machine keeps the CPU low), then
hands each machine its share: smoothing, the ISA-18.2 alarm, the Prometheus metrics, the
prediction log and the audit trail. A failing source or model is reported and retried; it never
stops the loop or the other machines. Every ``drift_interval_s`` (one machine per pass), and all
at once when asked (:meth:`LiveNode.request_drift_check`), each machine's window is checked against the training
runs of its setup (the model's ``SetupDriftReference``; a setup it has no run of is reported as
unfamiliar): the drift gauges, and each monitor's ``last_check`` in the views. The reference
comes with the machines, with :meth:`LiveNode.set_model`, or later with
:meth:`LiveNode.set_reference` (the desktop app learns it after the engine started); ``cncwear
serve`` and the window hand over the same kind, so both run the same check. Operators' actions
(acknowledge, shelve) arrive from other threads and are written to the audit trail before they
take effect. With a shared alarm store (``store.shared_alarms``) the node publishes each machine's
alarm there on every transition and applies what operators at other PCs asked (acknowledge, false
alarm, shelve, unshelve), read every ``tool_change_poll_s`` like the tool changes.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

import numpy as np
import pandas as pd

from ..data.setup import setups_of_rows
from ..models.verdict import ToolVerdict
from ..monitoring.metrics import AppMetrics
from ..monitoring.teach_in import Limits
from ..store.retention import Retention
from ..store.shared_alarms import expired as request_expired
from ..store.shared_alarms import node_id
from ..store.tool_changes import REASONS as TOOL_CHANGE_REASONS
from ..store.tool_changes import label_for
from .alarms import AlarmBoard, AlarmError, AlarmState, AlarmTransition
from .machine_monitor import DriftCheck, MachineMonitor, checked_reference
from .replay import ReplaySource
from .samples import RECEIVED_AT, SAMPLE_TIME
from .sources import LiveSource, MachineSpec, SourceHealth, SourceState
from .teach_state import MachineTeachIn, TaughtLibrary
from .wear_state import WearState, WearStateTracker

log = logging.getLogger(__name__)
IDLE_WAIT_S = 0.1  # the longest sleep: health, lag and shelve expiry are refreshed at least this often
MAX_BATCH = 600  # a minute of samples per machine and wake-up: a stalled model catches up in steps
TREND_SAMPLES = 3000  # five minutes at 10 Hz, for the operator's trend
TREND_EVERY_S = 1.0  # listeners get the trends (3000 values per machine) at most this often
HEARTBEAT_S = 5.0  # a node refreshes its rows in the shared alarm store this often (readers: STALE_AFTER_S)
MIN_PASS_S = 0.02  # passes closer than this are merged: a fast replay must not flood the views


@dataclass
class LiveConfig:
    threshold: float = 0.5
    window: int = 30  # smoothing window, samples
    hysteresis: float = 0.05
    alarm_delay: int = 20  # samples the smoothed state must stay WORN before the alarm is raised
    drift_interval_s: float = 10.0
    teach_runs: int = 1  # runs a teach-in learns from
    relearn_after_tool_change: bool = True  # a tool change starts a teach-in of the setup
    tool_change_poll_s: float = 2.0  # how often what other processes wrote is read: tool changes, taught references
    limits: Limits = field(default_factory=Limits)  # the taught monitor's default limits
    retention: Retention = field(default_factory=Retention)  # the prediction log's retention and disk floor


@dataclass
class MachineView:
    """A copy of one machine's state for a view: safe to read on another thread."""

    machine: str
    kind: str
    source: str  # what the source is: a file, an URL
    health: SourceHealth
    state: WearState  # from the run's tool verdict
    smoothed: float  # rolling mean of P(worn)
    verdict: ToolVerdict
    scored: int
    alarm: dict  # LiveNode.alarm_of: the alarm state and its open occurrence
    trend_values: np.ndarray | None  # the smoothed P(worn) of the last samples (None: not in this pass)
    newest_received_at: float | None  # arrival time of the newest scored sample
    error: str = ""
    drift: DriftCheck | None = None  # the machine's last drift check (the same object until the next one)
    taught: object = None  # monitoring.teach_in.TaughtVerdict: the taught monitor's judgement
    setup: str = ""  # the setup key text of the machine's samples now
    tool_runs: int = 0  # runs since the last tool change
    tool_cutting_s: float = 0.0  # cutting seconds since the last tool change
    taught_loads: np.ndarray | None = None  # the judged windows' load (% of taught), oldest first (with the trend)
    taught_band: tuple | None = None  # (median %, 100 %) of what carries the load now
    limits: Limits | None = None  # the setup's limits


@dataclass
class LiveMachine:
    spec: MachineSpec
    source: LiveSource
    monitor: MachineMonitor
    trend_values: deque = field(default_factory=lambda: deque(maxlen=TREND_SAMPLES))
    newest_received_at: float | None = None
    error: str = ""
    _seen_rejected: dict = field(default_factory=dict)
    _seen_reconnects: int = 0

    @property
    def name(self) -> str:
        return self.spec.machine


class LiveNode:
    def __init__(self, machines: list[LiveMachine], model, metrics: AppMetrics, config: LiveConfig | None = None,
                 board: AlarmBoard | None = None, audit=None, predictions=None, feedback=None,
                 clock: Callable[[], float] = time.monotonic, library: TaughtLibrary | None = None,
                 tool_changes=None, floor_runs=None, shared_alarms=None):
        """``audit``: store.audit_trail.AuditTrail; ``predictions``: store.prediction_log.PredictionLog;
        ``feedback``: store.pipeline_history.PipelineHistory (false alarms and worn tool changes become
        labels there); ``clock``: the replays' clock (tests step a fake one); ``library``: the taught
        references (in memory without one); ``tool_changes``: store.tool_changes.ToolChangeLog (tool
        changes recorded here and by ``cncwear tool-change``); ``floor_runs``: store.feature_store.FeatureStore
        (labelled runs are kept there for training); ``shared_alarms``: store.shared_alarms.SharedAlarmStore
        (the alarms are published there, and other PCs' requests on them applied)."""
        self.machines = machines
        self.model = model
        self._scorer = live_scorer(model)
        self.metrics = metrics
        self.config = config or LiveConfig()
        self.board = board or AlarmBoard()
        self.audit, self.predictions, self.feedback = audit, predictions, feedback
        self.library = library or TaughtLibrary(None, self.config.limits)
        self.tool_changes, self.floor_runs = tool_changes, floor_runs
        self.shared_alarms = shared_alarms
        self.node_id = node_id()
        self._to_publish: set[str] = {m.name for m in machines}  # machines whose shared row is out of date
        self._heartbeat_at = 0.0
        self._shared_failing = False  # the shared store's last write failed (said once until it works again)
        self._floor_writer: ThreadPoolExecutor | None = None  # labelled runs are written off the engine thread
        self._last_floor_write = None  # the writer runs them in order: the last one done means all are
        self._tool_change_seen = 0  # the newest tool-change id applied
        self._polled_at = 0.0
        self._engine_actions: deque = deque()  # operator actions applied on the engine thread
        self.clock = clock
        self.stop_event = threading.Event()
        self.wake = threading.Event()
        self.listeners: list[Callable[[list[MachineView], float], None]] = []  # called after each scoring pass
        self._actions = threading.Lock()  # one operator action at a time
        self._lock = threading.Lock()  # the monitors' windows are read by other threads (drift views)
        self._pending_model = None
        self._pending_reference = None
        self._drift_requested = threading.Event()  # a drift check in the next pass (any thread asks)
        self._drift_due: deque = deque()  # machines whose periodic check is due: one per pass
        self._started = False
        self._peaks: dict[str, float] = {}  # alarm id → the highest P(worn) seen in its transitions
        self._trend_sent = 0.0
        self.alarm_version = 0  # grows with every alarm transition: views redraw only then
        for machine in machines:
            machine.source.wake = self.wake
            if machine.monitor.alarm is None:
                machine.monitor.alarm = self.board.add(machine.name, self.config.alarm_delay)
            if machine.monitor.teach_in is None:
                machine.monitor.teach_in = MachineTeachIn(machine.name, self.library, self.config.teach_runs)
        if tool_changes is not None:
            try:  # changes recorded before this node started are history, not news
                latest = tool_changes.since(0, [m.name for m in machines])
                self._tool_change_seen = latest[-1].id if latest else 0
            except Exception as error:
                log.warning("cannot read the tool changes: %s", error)
            metrics.source_up.labels(machine.name, machine.spec.kind).set(0)

    # -- the loop ----------------------------------------------------------------------------
    def start_sources(self) -> None:
        at = self.clock()
        for machine in self.machines:
            try:
                if isinstance(machine.source, ReplaySource):
                    machine.source.start(at)  # replays started together share their sample instants
                else:
                    machine.source.start()
            except Exception as error:  # a source that cannot even start is shown, not fatal
                machine.error = f"cannot start: {error}"
                log.warning("machine %s: %s", machine.name, machine.error)
        self._started = True

    def run(self, duration_s: float | None = None) -> None:
        """Serve until ``stop_event`` is set or ``duration_s`` has passed; closes the sources."""
        if not self._started:
            self.start_sources()
        started = last_drift = last_tick = time.monotonic()
        try:
            while not self.stop_event.is_set():
                last_step = time.monotonic()
                if last_step - last_drift >= self.config.drift_interval_s:
                    self.schedule_drift_checks()
                    last_drift = last_step
                self.step()
                now = time.monotonic()
                if now - last_tick >= 1.0:
                    self.tick_alarms()
                    last_tick = now
                if duration_s is not None and now - started >= duration_s:
                    break
                self._sleep(last_step)
        finally:
            self.close()

    def _sleep(self, last_step: float) -> None:
        """Until the next replay sample is due, a push source wakes us, or IDLE_WAIT_S; never
        less than MIN_PASS_S after the last pass."""
        now = time.monotonic()
        due = [d for d in (m.source.next_due() for m in self.machines) if d is not None]
        wait = max(min([IDLE_WAIT_S] + [d - now for d in due]), last_step + MIN_PASS_S - now)
        if wait > 0:
            self.wake.wait(wait)
        remaining = last_step + MIN_PASS_S - time.monotonic()
        if remaining > 0:  # woken early by a push source: merge with what arrives meanwhile
            time.sleep(remaining)
        self.wake.clear()

    def step(self) -> list[MachineView]:
        """One scoring pass over every machine; returns what the views should now show."""
        if self._pending_model is not None:
            self._swap_model()
        if self._pending_reference is not None:
            self._apply_reference()
        self._apply_engine_actions()
        batches = []
        required = set(self.model.feature_set.inputs)
        for machine in self.machines:
            try:
                rows = machine.source.read(MAX_BATCH)
            except Exception as error:  # sources should not raise; if one does, it is shown and retried
                machine.error = f"source failed: {error}"
                log.warning("machine %s: %s", machine.name, machine.error)
                continue
            self._publish_health(machine)
            if rows.empty:
                continue
            missing = sorted(required - set(rows.columns))
            if missing:
                machine.error = (f"the model needs {', '.join(missing)}; give the job constants with "
                                 f"?feedrate=…&clamp_pressure=… on the machine's source")
                machine.monitor.count_error()
                continue
            batches.append((machine, rows))
        if batches:
            with self._lock:
                self._score(batches)
        if self.predictions is not None:  # measured by the log's writer thread: no disk access here
            self.metrics.set_storage(self.predictions.storage())
            self.metrics.set_log_state(self.predictions.outage is None, self.predictions.pending)
        if self.shared_alarms is not None:
            self._publish_shared()
        if self._drift_requested.is_set():
            self._drift_requested.clear()
            self._drift_due.clear()
            self.check_drift()
        elif self._drift_due:
            self.check_drift([self._drift_due.popleft()])
        now = time.monotonic()
        with_trend = now - self._trend_sent >= TREND_EVERY_S
        if with_trend:
            self._trend_sent = now
        views = self.views(with_trend)
        for listener in self.listeners:
            listener(views, now)
        return views

    def _score(self, batches: list[tuple[LiveMachine, pd.DataFrame]]) -> None:
        """All machines' rows in one frame, one feature matrix, one model call; then each its share."""
        frame = pd.concat([rows for _, rows in batches], ignore_index=True) if len(batches) > 1 else batches[0][1]
        started = time.perf_counter()
        try:
            features = self.model.feature_set.matrix(frame)
            probability = self._scorer.probability_of(features)
        except Exception as error:
            log.warning("scoring failed: %s", error)
            for machine, _ in batches:
                machine.error = f"scoring failed: {error}"
                machine.monitor.count_error()
            return
        latency = time.perf_counter() - started
        flags = frame["quality_flags"].to_numpy()
        phases = frame["phase"].to_numpy()
        received = frame[RECEIVED_AT].to_numpy()
        sample_times = frame[SAMPLE_TIME].to_numpy() if SAMPLE_TIME in frame else np.full(len(frame), np.nan)
        transitions: list[AlarmTransition] = []
        log_rows: list[dict] = []
        start = 0
        for machine, rows in batches:
            share = slice(start, start + len(rows))
            start = share.stop
            transitions += machine.monitor.ingest(features[share], probability[share], flags[share], latency,
                                                  phases[share], rows)
            for event in machine.monitor.teach_events:
                self._record_teach_event(event)
            machine.error = ""
            machine.newest_received_at = float(received[share.stop - 1])
            machine.trend_values.extend(machine.monitor.last_smoothed)
            if self.predictions is not None:
                log_rows += self._log_rows(machine, sample_times[share], probability[share], flags[share])
        if log_rows:
            self.predictions.append(log_rows)
        if transitions:
            self._record(transitions)

    def _log_rows(self, machine: LiveMachine, sample_times, probability, flags) -> list[dict]:
        version = str(self.model.version)
        monitor = machine.monitor
        return [{"machine": machine.name, "sample_time": None if np.isnan(at) else float(at), "model_version": version,
                 "probability": float(p), "wear_state": state.value, "quality_flags": int(flag), "run_id": int(run)}
                for at, p, state, flag, run in zip(sample_times, probability, monitor.last_states, flags, monitor.last_runs)]

    def _publish_health(self, machine: LiveMachine) -> None:
        health = machine.source.health()
        name = machine.name
        self.metrics.source_up.labels(name, machine.spec.kind).set(1 if health.up else 0)
        self.metrics.source_lag.labels(name).set(health.lag_s)
        if health.reconnects > machine._seen_reconnects:
            self.metrics.source_reconnects.labels(name).inc(health.reconnects - machine._seen_reconnects)
            machine._seen_reconnects = health.reconnects
        for reason, count in health.rejected.items():
            seen = machine._seen_rejected.get(reason, 0)
            if count > seen:
                self.metrics.samples_rejected.labels(name, reason).inc(count - seen)
                machine._seen_rejected[reason] = count

    def schedule_drift_checks(self) -> None:
        """The periodic check: every machine's window, one machine per pass from the next one on
        (a check of a 10-minute window takes milliseconds; eight in one pass would hold that
        pass's samples back from the screen for all of them)."""
        self._drift_due.extend(m for m in self.machines if m not in self._drift_due)

    def check_drift(self, machines: list[LiveMachine] | None = None) -> None:
        """The machines' windows (default: all) against the reference (on the engine thread: the
        monitors' windows are its own); the checks of one call share their moment."""
        at = datetime.now(timezone.utc)
        for machine in self.machines if machines is None else machines:
            try:
                machine.monitor.check_drift(at)
            except Exception as error:
                log.warning("machine %s: drift check failed: %s", machine.name, error)

    def request_drift_check(self) -> None:
        """Check drift in the next pass, as soon as possible (callable from any thread)."""
        self._drift_requested.set()
        self.wake.set()

    def tick_alarms(self) -> None:
        """Shelves expire on time even when a machine sends no samples."""
        with self._lock:
            transitions = self.board.tick(datetime.now(timezone.utc))
            if transitions:
                self._record(transitions)

    def close(self) -> None:
        if self.shared_alarms is not None:
            try:  # the last state, then "stopped": the alarms end with this node
                self._publish_shared(force=True)
                self.shared_alarms.stopped(self.node_id)
            except Exception as error:
                log.warning("cannot mark this node's alarms stopped in the shared store: %s", error)
        for machine in self.machines:
            try:
                machine.source.close()
            except Exception as error:
                log.warning("machine %s: closing its source failed: %s", machine.name, error)
            self.metrics.source_up.labels(machine.name, machine.spec.kind).set(0)
        if self._floor_writer is not None:  # a labelled run is never dropped by closing
            self._floor_writer.shutdown(wait=True)
            self._floor_writer = None
        if self.predictions is not None:
            self.predictions.flush()

    # -- the model -----------------------------------------------------------------------------
    def set_model(self, model, reference=None) -> None:
        """Score with ``model`` from the next pass on (callable from any thread); ``reference``:
        its per-setup drift reference (``monitoring.reference.setup_reference_for``)."""
        self._pending_model = (model, checked_reference(reference))
        self.wake.set()

    def set_reference(self, reference, version: str | None = None) -> None:
        """Check drift against ``reference`` (a ``SetupDriftReference``; TypeError for another
        kind) from the next pass on, and once at once (callable from any thread). ``version``: the
        model version the reference belongs to; a reference of another version or feature set than
        the model scoring then is ignored."""
        self._pending_reference = (checked_reference(reference), version)
        self.request_drift_check()

    def _apply_reference(self) -> None:
        reference, version = self._pending_reference
        self._pending_reference = None
        if version is not None and str(version) != str(self.model.version):
            log.info("drift reference of v%s ignored: the engine scores with v%s", version, self.model.version)
            return
        if reference.feature_set != self.model.feature_set.key:
            log.info("drift reference of feature set %s ignored: the model uses %s", reference.feature_set,
                     self.model.feature_set.key)
            return
        for machine in self.machines:
            machine.monitor.set_reference(reference)

    def _swap_model(self) -> None:
        model, reference = self._pending_model
        self._pending_model = None
        self.model = model
        self._scorer = live_scorer(model)
        for machine in self.machines:
            machine.monitor.set_model(model, reference)

    # -- operator actions (any thread) ---------------------------------------------------------
    def acknowledge(self, machine: str, user: str, comment: str = "", false_alarm: bool = False,
                    host: str | None = None) -> list[AlarmTransition]:
        """Acknowledge a machine's alarm. The audit row is committed first (write-ahead), so an
        acknowledgement the operator sees is never lost in a crash; a failed write changes nothing.
        A false alarm is also stored as a label (the tool was not worn) for retraining and the
        degradation trigger. ``host``: the PC the operator acted on (default: this one)."""
        with self._actions, self._lock:
            alarm = self.board.get(machine)
            status = alarm.status()
            if not status.needs_action:
                raise AlarmError(f"{machine}: there is nothing to acknowledge, the alarm is {status.state.label}")
            if not user.strip():
                raise AlarmError("acknowledging an alarm needs a user name")
            new = AlarmState.ACKNOWLEDGED if status.state is AlarmState.UNACKNOWLEDGED else AlarmState.NORMAL
            if self.audit is not None:
                self.audit.record("alarm.false_alarm" if false_alarm else "alarm.acknowledged",
                                  subject=status.occurrence.alarm_id, old_value=status.state.value,
                                  new_value=new.value, machine=machine, comment=comment, user=user, host=host)
            transitions = alarm.acknowledge(datetime.now(timezone.utc), user, comment, false_alarm)
            self._published(transitions)
            if false_alarm and self.feedback is not None:
                self.feedback.add_feedback(machine, str(self.model.version), True, False, "false alarm")
            if false_alarm:
                live = self.machine(machine)
                self._keep_floor_run(live, live.monitor.labelled_run_rows(), "unworn", "false alarm", user)
            return transitions

    def shelve(self, machine: str, minutes: float, user: str, comment: str = "",
               host: str | None = None) -> list[AlarmTransition]:
        with self._actions, self._lock:
            now = datetime.now(timezone.utc)
            transitions = self.board.get(machine).shelve(now + timedelta(minutes=minutes), now, user, comment)
            self._record(transitions, raise_errors=True, host=host)
            return transitions

    def unshelve(self, machine: str, user: str, host: str | None = None) -> list[AlarmTransition]:
        with self._actions, self._lock:
            transitions = self.board.get(machine).unshelve(datetime.now(timezone.utc), user)
            self._record(transitions, raise_errors=True, host=host)
            return transitions

    # -- teach-in and tool changes (any thread; applied on the engine thread) ---------------------
    def machine(self, name: str) -> LiveMachine:
        for machine in self.machines:
            if machine.name == name:
                return machine
        raise AlarmError(f"unknown machine {name!r}; this node watches {', '.join(m.name for m in self.machines)}")

    def tool_change(self, machine: str, reason: str, user: str, comment: str = "") -> object:
        """The operator changed the tool: recorded first (write-ahead, retried by the store), then
        on the engine thread the run ends and is labelled, the tool life resets and, when set, a
        teach-in starts. Returns the stored record (None without a tool-change log)."""
        self.machine(machine)
        if reason not in TOOL_CHANGE_REASONS:
            raise AlarmError(f"tool change reason must be one of {', '.join(TOOL_CHANGE_REASONS)}, not {reason!r}")
        if not user.strip():
            raise AlarmError("recording a tool change needs a user name")
        monitor = self.machine(machine).monitor
        record = None
        if self.tool_changes is not None:
            record = self.tool_changes.record(machine, reason, user, comment, setup=monitor.teach_in.setup,
                                              model_version=str(self.model.version), run_label=label_for(reason),
                                              cutting_s=monitor.teach_in.tool_cutting_s, runs=monitor.teach_in.tool_runs)
            self._tool_change_seen = max(self._tool_change_seen, record.id)
        self._engine_actions.append(("tool_change", machine, reason, user, comment))
        self.wake.set()
        return record

    def start_teach_in(self, machine: str, user: str, forget: bool = False) -> None:
        """Learn mode on the machine's next run(s); ``forget``: Relearn, the setup's stored reference is
        forgotten first (alarm history is not touched)."""
        self.machine(machine)
        if not user.strip():
            raise AlarmError("a teach-in needs a user name")
        self._engine_actions.append(("teach", machine, forget, user, ""))
        self.wake.set()

    def teach_last_run(self, machine: str, user: str) -> None:
        """Mark the machine's last finished run as good: it becomes the setup's reference."""
        self.machine(machine)
        self._engine_actions.append(("mark_good", machine, None, user, ""))
        self.wake.set()

    def _apply_engine_actions(self) -> None:
        self._poll_other_processes()
        while self._engine_actions:
            action, name, value, user, comment = self._engine_actions.popleft()
            machine = self.machine(name)
            teach_in = machine.monitor.teach_in
            try:
                with self._lock:
                    if action == "tool_change":
                        self._apply_tool_change(machine, value, user, comment)
                    elif action == "teach":
                        if value and teach_in.setup:
                            self.library.forget(name, teach_in.setup, user, "relearn")
                            teach_in.reference = None
                        teach_in.start_learning()
                        self._audit("teach.started", f"{name}/{teach_in.setup}", name, user,
                                    "relearn" if value else "teach-in")
                    elif action == "mark_good":
                        self._record_teach_event(teach_in.teach_last_run())
            except Exception as error:  # shown on the machine, never stops the loop
                machine.error = f"{action.replace('_', ' ')} failed: {error}"
                log.warning("machine %s: %s", name, machine.error)

    def _apply_tool_change(self, machine: LiveMachine, reason: str, user: str, comment: str) -> None:
        monitor = machine.monitor
        label = label_for(reason)
        rows = monitor.labelled_run_rows()
        monitor.teach_in.tool_changed(self.config.relearn_after_tool_change)
        self.metrics.tool_changes.labels(machine.name, reason).inc()
        if label is None:
            return
        version = str(self.model.version)
        if self.feedback is not None:
            self.feedback.add_feedback(machine.name, version, monitor.state is WearState.WORN, label == "worn",
                                       f"tool change: {reason}")
        self._keep_floor_run(machine, rows, label, reason, user)

    def _keep_floor_run(self, machine: LiveMachine, rows, label: str, reason: str, user: str) -> None:
        """A labelled run to the feature store for retraining; a failure is logged, never raised."""
        if self.floor_runs is None or rows is None or not len(rows):
            return
        setup, version = machine.monitor.teach_in.setup or rows_setup(rows), str(self.model.version)

        def write() -> None:
            try:
                run = self.floor_runs.add_floor_run(machine.name, setup, version, label, rows, reason, user)
                log.info("machine %s: run stored as floor-labelled run %s (%s)", machine.name, run, label)
            except Exception as error:
                machine.error = f"the labelled run could not be stored: {error}"
                log.warning("machine %s: %s", machine.name, machine.error)

        # storing a 20-minute run takes ~0.6 s: every machine's screen would stall that long
        if self._floor_writer is None:
            self._floor_writer = ThreadPoolExecutor(1, thread_name_prefix="floor-runs")
        self._last_floor_write = self._floor_writer.submit(write)

    def wait_for_floor_runs(self, timeout_s: float | None = None) -> None:
        """Until the labelled runs handed to the store are written (closing waits too)."""
        if self._last_floor_write is not None:
            self._last_floor_write.result(timeout_s)

    def _poll_other_processes(self) -> None:
        """What another process wrote for these machines: tool changes (``cncwear tool-change``) and
        taught references or limits (``cncwear teach``, another window)."""
        now = time.monotonic()
        if now - self._polled_at < self.config.tool_change_poll_s:
            return
        self._polled_at = now
        if self.library.changed_elsewhere():
            for machine in self.machines:
                if machine.monitor.teach_in is not None and machine.monitor.teach_in.reload():
                    log.info("machine %s: taught reference of %s reloaded", machine.name,
                             machine.monitor.teach_in.setup)
        if self.shared_alarms is not None:
            self._apply_requests()
        if self.tool_changes is None:
            return
        try:
            changes = self.tool_changes.since(self._tool_change_seen, [m.name for m in self.machines])
        except Exception as error:
            log.warning("cannot read the tool changes: %s", error)
            return
        for change in changes:
            self._tool_change_seen = max(self._tool_change_seen, change.id)
            self._engine_actions.append(("tool_change", change.machine, change.reason, change.user, change.comment))

    # -- the shared alarm store (engine thread) ----------------------------------------------------
    def _publish_shared(self, force: bool = False) -> None:
        """The machines whose alarm changed to the shared store (all of them the first time, and
        ``force``), else a heartbeat every HEARTBEAT_S; a failure is retried in the next pass."""
        now = time.monotonic()
        names = [m.name for m in self.machines] if force else [m.name for m in self.machines if m.name in self._to_publish]
        try:
            if names:
                self._to_publish.difference_update(names)
                try:
                    self.shared_alarms.publish(self.node_id, [self.alarm_of(name) for name in names])
                except Exception:
                    self._to_publish.update(names)
                    raise
                self._heartbeat_at = now
            elif now - self._heartbeat_at >= HEARTBEAT_S:
                self.shared_alarms.heartbeat(self.node_id)
                self._heartbeat_at = now
        except Exception as error:
            self._heartbeat_at = now  # retried after a heartbeat period, not in every pass
            if not self._shared_failing:
                log.warning("cannot publish the alarms to the shared store: %s", error)
            self._shared_failing = True
            return
        if self._shared_failing:
            log.warning("the alarms are published to the shared store again")
        self._shared_failing = False

    def _apply_requests(self) -> None:
        """Operators' requests from other PCs for these machines: claimed (one node applies each),
        applied as if asked here (audited with the requester's user and host), the outcome recorded."""
        try:
            requests = self.shared_alarms.pending([m.name for m in self.machines])
        except Exception as error:
            log.warning("cannot read the alarm requests: %s", error)
            return
        for request in requests:
            try:
                if not self.shared_alarms.claim(request.id, self.node_id):
                    continue  # another node serving a machine of that name took it
            except Exception as error:
                log.warning("cannot claim alarm request #%d: %s", request.id, error)
                return
            outcome, detail = "applied", ""
            try:
                self._apply_request(request)
            except AlarmError as error:
                outcome, detail = ("expired" if request_expired(request) else "refused"), str(error)
            except Exception as error:  # e.g. the audit write failed: nothing was changed
                outcome, detail = "refused", f"failed: {error}"
                log.warning("alarm request #%d on %s failed: %s", request.id, request.machine, error)
            try:
                self.shared_alarms.finish(request, outcome, detail)
            except Exception as error:
                log.warning("cannot record the outcome of alarm request #%d (%s): %s", request.id, outcome, error)
            log.info("alarm request #%d (%s on %s by %s@%s): %s %s", request.id, request.action, request.machine,
                     request.user, request.host, outcome, detail)

    def _apply_request(self, request) -> None:
        machine = request.machine
        if request_expired(request):
            raise AlarmError(f"{machine}: the request of {request.requested_at:%Y-%m-%d %H:%M:%S} UTC is too old "
                             "to apply; ask again")
        if request.action in ("acknowledge", "false_alarm"):
            occurrence = self.board.get(machine).current
            if request.alarm_id and (occurrence is None or occurrence.alarm_id != request.alarm_id):
                now = "a new alarm was raised since" if occurrence else "it is no longer open"
                raise AlarmError(f"{machine}: alarm {request.alarm_id} was not acknowledged: {now}")
            self.acknowledge(machine, request.user, request.comment, request.action == "false_alarm", host=request.host)
        elif request.action == "shelve":
            self.shelve(machine, request.minutes, request.user, request.comment, host=request.host)
        elif request.action == "unshelve":
            self.unshelve(machine, request.user, host=request.host)
        else:
            raise AlarmError(f"{machine}: unknown alarm request {request.action!r}")

    def _record_teach_event(self, event) -> None:
        if event.action == "refused":
            self._audit("teach.refused", f"{event.machine}/{event.setup}", event.machine, "cncwear", event.detail)

    def _audit(self, action: str, subject: str, machine: str, user: str, comment: str) -> None:
        if self.audit is None:
            return
        try:
            self.audit.record(action, subject=subject, machine=machine, comment=comment, user=user)
        except Exception:
            log.exception("could not write %s to the audit trail", action)

    def _published(self, transitions: list[AlarmTransition]) -> None:
        for transition in transitions:
            self.metrics.set_alarm_state(transition.machine, transition.new_state.value)
            self._to_publish.add(transition.machine)
            if transition.alarm_id:
                self._peaks[transition.alarm_id] = max(self._peaks.get(transition.alarm_id, 0.0),
                                                       transition.probability or 0.0)
        if transitions:
            self.alarm_version += 1

    def _record(self, transitions: list[AlarmTransition], raise_errors: bool = False, host: str | None = None) -> None:
        """Publish transitions and append them to the audit trail (``host``: where the operator acted)."""
        self._published(transitions)
        if self.audit is None or not transitions:
            return
        try:
            self.audit.record_many([{**audit_entry(t), "host": host} for t in transitions])
        except Exception:
            if raise_errors:
                raise
            log.exception("could not write %d alarm transition(s) to the audit trail", len(transitions))

    # -- the alarm list --------------------------------------------------------------------------
    def alarm_of(self, machine: str) -> dict:
        """The machine's alarm now: state, whether it needs action, its open occurrence."""
        status = self.board.get(machine).status()
        occurrence = status.occurrence
        return {
            "machine": machine, "state": status.state.value, "needs_action": status.needs_action,
            "active": status.active, "alarm_id": occurrence.alarm_id if occurrence else None,
            "raised_at": occurrence.raised_at if occurrence else None,
            "shelved_until": status.shelved_until, "current": True,
            "peak_probability": occurrence.peak_probability if occurrence else None,
            "acknowledged_by": occurrence.acknowledged_by if occurrence else None,
            "comment": (occurrence.comment if occurrence else "") or status.shelve_comment,
            "false_alarm": bool(occurrence and occurrence.false_alarm),
        }

    def alarm_list(self, which: str = "all", machine: str | None = None) -> list[dict]:
        """Rows for the alarm list: each machine's current alarm (when not NORMAL), then the
        recent closed occurrences (``which``: needs_action, active, shelved or all)."""
        current = [self.alarm_of(m.name) for m in self.machines if machine in (None, m.name)]
        current = [row for row in current if row["state"] != AlarmState.NORMAL.value]
        if which == "needs_action":
            return [row for row in current if row["needs_action"]]
        if which == "active":
            return [row for row in current if row["active"]]
        if which == "shelved":
            return [row for row in current if row["state"] == AlarmState.SHELVED.value]
        open_ids = {row["alarm_id"] for row in current}
        closed: dict[str, dict] = {}
        for transition in self.board.history(machine):
            if not transition.alarm_id or transition.alarm_id in open_ids:
                continue
            row = closed.setdefault(transition.alarm_id, {
                "machine": transition.machine, "alarm_id": transition.alarm_id, "raised_at": transition.at,
                "needs_action": False, "active": False, "current": False, "shelved_until": None,
                "acknowledged_by": None, "comment": "", "false_alarm": False})
            row["state"] = "closed" if transition.new_state is AlarmState.NORMAL else transition.new_state.value
            row["peak_probability"] = self._peaks.get(transition.alarm_id)
            if transition.action == "acknowledged":
                row.update(acknowledged_by=transition.user, comment=transition.comment, false_alarm=transition.false_alarm)
        recent = sorted(closed.values(), key=lambda row: row["raised_at"], reverse=True)
        return current + recent

    def alarm_counts(self) -> dict[str, int]:
        return {state.value: count for state, count in self.board.summary().items()}

    # -- what the views show ---------------------------------------------------------------------
    def windows(self, minimum: int = 100) -> dict[str, tuple[pd.DataFrame, np.ndarray]]:
        """Machine → (its last ten minutes of features with their flags, their P(worn)): the drift
        windows as another thread may read them (the checks themselves run in :meth:`check_drift`);
        machines with fewer than ``minimum`` scored samples are left out."""
        windows = {}
        with self._lock:
            for machine in self.machines:
                if machine.monitor.window_size < minimum:
                    continue
                features, probability, flags = machine.monitor.drift_window()
                windows[machine.name] = (features.assign(quality_flags=flags), probability)
        return windows

    def views(self, with_trend: bool = True) -> list[MachineView]:
        with self._lock:
            return [self.view(machine, with_trend) for machine in self.machines]

    def view(self, machine: LiveMachine, with_trend: bool = True) -> MachineView:
        monitor = machine.monitor
        return MachineView(
            machine=machine.name, kind=machine.spec.kind, source=machine.source.describe(),
            health=machine.source.health(), state=monitor.state, smoothed=monitor.tracker.smoothed,
            verdict=monitor.verdict.verdict(),
            scored=machine.monitor.scored, alarm=self.alarm_of(machine.name),
            trend_values=np.fromiter(machine.trend_values, float, len(machine.trend_values)) if with_trend else None,
            newest_received_at=machine.newest_received_at, error=machine.error, drift=monitor.last_check,
            taught=monitor.teach_in.verdict(), setup=monitor.teach_in.setup, tool_runs=monitor.teach_in.tool_runs,
            tool_cutting_s=monitor.teach_in.tool_cutting_s, limits=monitor.teach_in.limits,
            taught_loads=np.fromiter(monitor.teach_in.loads, float, len(monitor.teach_in.loads)) if with_trend else None,
            taught_band=monitor.teach_in.band_pct())


def rows_setup(rows: pd.DataFrame) -> str:
    """The setup text of a run's last sample."""
    return str(setups_of_rows(rows.iloc[-1:])[0])


def live_scorer(model):
    """The model as the live engine calls it: a forest without scikit-learn's per-tree overhead
    (see models.small_batches); any other estimator (the AutoML sidecar too) as it is."""
    from dataclasses import replace

    from ..models.small_batches import for_small_batches

    estimator = for_small_batches(model.estimator, list(model.feature_set.columns))
    return model if estimator is model.estimator else replace(model, estimator=estimator)


def audit_entry(transition: AlarmTransition) -> dict:
    action = "alarm.false_alarm" if transition.false_alarm and transition.action == "acknowledged" else f"alarm.{transition.action}"
    return {"action": action, "subject": transition.alarm_id, "old_value": transition.old_state.value,
            "new_value": transition.new_state.value, "machine": transition.machine,
            "comment": transition.comment or "", "user": transition.user}


def open_machine(spec: MachineSpec, model, metrics: AppMetrics, config: LiveConfig, reference=None,
                 source: LiveSource | None = None) -> LiveMachine:
    """A machine with its source (opened from ``spec`` unless given) and its monitor."""
    from .source_kinds import open_source

    source = source or open_source(spec)
    tracker = WearStateTracker(threshold=config.threshold, window=config.window, hysteresis=config.hysteresis)
    monitor = MachineMonitor(spec.machine, spec.kind, model, metrics, reference, config.threshold, tracker=tracker)
    return LiveMachine(spec, source, monitor)


def state_of_source(health: SourceHealth) -> str:
    """A short operator text for a source's health."""
    if health.state is SourceState.CONNECTED:
        return "connected"
    if health.state is SourceState.RECONNECTING:
        return f"reconnecting — {health.detail}" if health.detail else "reconnecting"
    return health.state.value
