"""One machine's taught monitor in the live stream: its setup, learn mode, reference and verdict.

The stream is cut into runs: a run ends at a Starting/Prep sample after cutting (the next part,
or a replay looping) and whenever the setup key changes mid-stream (another job). A machine in
learn mode (after a tool change when that is set, or when the operator asks for a teach-in)
collects the cutting windows of its next ``teach_runs`` runs and teaches on them when the last
one ends; a run with too little cutting is refused with the reason and learning goes on with the
next run. Outside learn mode every window is judged against the setup's reference, which the
:class:`TaughtLibrary` finds in the store; a setup without one is SETUP NOT TAUGHT.
"""

from __future__ import annotations

import logging
from collections import deque
from dataclasses import dataclass, field

import numpy as np

from ..data.schema import CUTTING_CODES, PHASE_CODES
from ..data.setup import SetupKey
from ..monitoring.taught_lookup import read_reference
from ..monitoring.teach_in import (
    MIN_TEACH_WINDOWS,
    NOT_TAUGHT,
    Limits,
    TaughtJudge,
    TaughtReference,
    TaughtVerdict,
    TeachError,
    WindowCutter,
    Windows,
    teach,
)
from ..store.taught_references import TaughtReferenceStore

log = logging.getLogger(__name__)
LOAD_TREND_WINDOWS = 150  # five minutes of 2 s windows for the tile's trend
_RUN_START_CODES = np.array([PHASE_CODES["Starting"], PHASE_CODES["Prep"]])


def taught_limits(settings) -> Limits:
    """The default limits a ``settings.Settings`` asks for (out-of-range values: the defaults)."""
    try:
        return Limits(settings.taught_warn_pct, settings.taught_alarm_pct, settings.taught_delay_windows)
    except (TypeError, ValueError) as error:
        log.warning("taught limits from the settings ignored: %s", error)
        return Limits()


class TaughtLibrary:
    """Taught references and limits per (machine, setup): from the store at ``url`` (read once
    per setup, kept), or in memory when there is no store. A stored reference that cannot be
    read is NOT TAUGHT with the reason, never a crash."""

    def __init__(self, url: str | None = None, limits: Limits | None = None, user: str = ""):
        self.store = TaughtReferenceStore(url) if url else None
        self.default_limits = limits or Limits()
        self.user = user
        self._cache: dict[tuple[str, str], tuple[TaughtReference | None, Limits, str]] = {}
        self._revision = self._store_revision()

    def _store_revision(self) -> tuple | None:
        if self.store is None:
            return None
        try:
            return self.store.revision()
        except Exception as error:  # judged as before; the next poll tries again
            log.warning("cannot read the taught references' revision: %s", error)
            return None

    def changed_elsewhere(self) -> bool:
        """True (and the cache dropped) when the store changed since the last look: another
        process taught, forgot or set limits. Own writes count too; re-reading them is harmless."""
        revision = self._store_revision()
        if revision is None or revision == self._revision:
            return False
        self._revision = revision
        self._cache.clear()
        return True

    def lookup(self, machine: str, setup: str) -> tuple[TaughtReference | None, Limits, str]:
        """(reference or None, limits, the problem when a stored one could not be used)."""
        key = (machine, setup)
        if key not in self._cache:
            self._cache[key] = self._load(machine, setup)
        return self._cache[key]

    def _load(self, machine: str, setup: str) -> tuple[TaughtReference | None, Limits, str]:
        if self.store is None:
            return None, self.default_limits, ""
        return read_reference(self.store, machine, setup, self.default_limits)

    def save(self, reference: TaughtReference, comment: str = "") -> TaughtReference:
        """Store a newly taught reference (a new version) and use it from now on."""
        if self.store is not None:
            reference.version = self.store.save(reference.machine, reference.setup.text, reference.to_json(),
                                                self.user or "cncwear", comment)
        else:
            reference.version = (self._cache.get((reference.machine, reference.setup.text), (None,))[0] or
                                 TaughtReference("", SetupKey(), {}, {}, {})).version + 1
        limits = self._cache.get((reference.machine, reference.setup.text), (None, self.default_limits, ""))[1]
        self._cache[(reference.machine, reference.setup.text)] = (reference, limits, "")
        return reference

    def forget(self, machine: str, setup: str, user: str, comment: str = "") -> None:
        if self.store is not None:
            self.store.forget(machine, setup, user, comment)
        limits = self.lookup(machine, setup)[1]
        self._cache[(machine, setup)] = (None, limits, "")

    def set_limits(self, machine: str, setup: str, limits: Limits, user: str) -> None:
        if self.store is not None:
            self.store.set_limits(machine, setup, limits.to_json(), user)
        reference, _, problem = self.lookup(machine, setup)
        self._cache[(machine, setup)] = (reference, limits, problem)

    def invalidate(self) -> None:
        self._cache.clear()

    def close(self) -> None:
        if self.store is not None:
            self.store.close()


@dataclass
class TeachEvent:
    """Something the node records: a reference taught, or a teach-in refused."""

    machine: str
    setup: str
    action: str  # "taught" | "refused"
    detail: str
    reference: TaughtReference | None = None


@dataclass
class MachineTeachIn:
    machine: str
    library: TaughtLibrary
    teach_runs: int = 1
    min_windows: int = MIN_TEACH_WINDOWS
    setup: str = ""  # the setup key text of the samples now
    reference: TaughtReference | None = None
    limits: Limits = field(default_factory=Limits)
    problem: str = ""  # why the setup is not taught although it was (a corrupt reference), or a refused teach-in
    learning: bool = False  # learn mode: the next runs teach
    runs: int = 0  # runs ended since the node started
    tool_runs: int = 0  # runs since the last tool change
    tool_cutting_s: float = 0.0  # cutting seconds since the last tool change
    judge: TaughtJudge = field(default=None)
    last_run: Windows | None = None  # the cutting windows of the last run that ended (Mark run good)
    loads: deque = field(default_factory=lambda: deque(maxlen=LOAD_TREND_WINDOWS))  # judged windows' load, %
    _run: list = field(default_factory=list)  # the current run's windows
    _collected: list = field(default_factory=list)  # learn mode: windows of the runs so far
    _collected_runs: int = 0
    _cut: bool = False
    _cutter: WindowCutter = field(default_factory=WindowCutter)
    _setup_key: SetupKey = field(default_factory=SetupKey)

    def __post_init__(self):
        self.judge = self.judge or TaughtJudge(None, self.limits)

    # -- the stream ------------------------------------------------------------------------------
    def feed(self, signals: np.ndarray, phases: np.ndarray, setups: np.ndarray) -> list[TeachEvent]:
        """One batch: monitored signals (n × len(MONITORED_SIGNALS)), phase codes, setup texts."""
        events: list[TeachEvent] = []
        phases = np.asarray(phases, dtype=np.int64)
        n = len(phases)
        if not n:
            return events
        changes = (np.flatnonzero(setups[1:] != setups[:-1]) + 1).tolist()
        starts = np.isin(phases, _RUN_START_CODES)
        cutting = np.isin(phases, CUTTING_CODES)
        for begin, end in zip([0] + changes, changes + [n]):
            if setups[begin] != self.setup:  # another job: the run ends here
                events += self._end_run()
                self._enter_setup(str(setups[begin]))
            events += self._feed_segment(signals[begin:end], phases[begin:end], starts[begin:end], cutting[begin:end])
        return events

    def _feed_segment(self, signals, phases, starts, cutting) -> list[TeachEvent]:
        """One setup's samples: split where a Starting/Prep sample follows cutting (a new run)."""
        events = []
        position, n = 0, len(phases)
        while position < n:
            if self._cut:
                after = np.flatnonzero(starts[position:])
            else:
                first_cut = np.flatnonzero(cutting[position:])
                after = np.flatnonzero(starts[position + first_cut[0]:]) + first_cut[0] if len(first_cut) else []
            boundary = position + int(after[0]) if len(after) else n
            if boundary > position:
                self._windows(signals[position:boundary], phases[position:boundary])
                self._cut = self._cut or bool(cutting[position:boundary].any())
            if boundary < n:
                events += self._end_run()  # the start sample opens the next run (then ``_cut`` is False)
            position = boundary
        return events

    def _windows(self, signals, phases) -> None:
        windows = self._cutter.feed(signals, phases)
        if not len(windows):
            return
        self._run.append(windows)
        self.tool_cutting_s += windows.cutting_s
        if not self.learning:
            self.loads.extend(j.load_pct for j in self.judge.update(windows) if j.level != NOT_TAUGHT)

    def _end_run(self) -> list[TeachEvent]:
        """The run so far ends (a new part, a setup change, a tool change)."""
        events = []
        run = Windows.concat(self._run)
        had_cutting = self._cut
        self._run, self._cut = [], False
        self._cutter.reset()
        if had_cutting:
            self.runs += 1
            self.tool_runs += 1
            self.last_run = run
        if self.learning and had_cutting and self.setup:
            self._collected.append(run)
            self._collected_runs += 1
            if self._collected_runs >= self.teach_runs:
                events.append(self._teach_collected())
        self.judge.new_run()
        return events

    def _teach_collected(self) -> TeachEvent:
        windows = Windows.concat(self._collected)
        runs = self._collected_runs
        try:
            reference = teach(windows, self.machine, self._setup_key, [f"{runs} live run(s)"],
                              min_windows=self.min_windows)
        except TeachError as error:
            self.problem = f"teach-in refused: {error}; learning goes on with the next run"
            log.info("machine %s, %s: %s", self.machine, self.setup, self.problem)
            return TeachEvent(self.machine, self.setup, "refused", str(error))
        self._collected, self._collected_runs = [], 0
        self.learning = False
        try:
            reference = self.library.save(reference, comment=f"taught on {runs} run(s) after a teach-in")
        except Exception as error:  # kept in memory; the store problem is shown
            log.warning("machine %s: the taught reference could not be stored: %s", self.machine, error)
            self.problem = f"taught, but not stored: {error}"
        else:
            self.problem = ""
        self.reference = reference
        self.judge = TaughtJudge(reference, self.limits)
        return TeachEvent(self.machine, self.setup, "taught",
                          f"v{reference.version}: {len(reference.phases)} phase(s), {reference.cutting_s:g} s of cutting",
                          reference)

    def _enter_setup(self, setup: str) -> None:
        self.setup = setup
        try:
            self._setup_key = SetupKey.parse(setup) if setup and setup != SetupKey().text else SetupKey()
        except ValueError:
            self._setup_key = SetupKey()
        if self._setup_key.known:
            self.reference, self.limits, self.problem = self.library.lookup(self.machine, setup)
        else:
            self.reference, self.limits, self.problem = None, self.library.default_limits, ""
        self.judge = TaughtJudge(self.reference, self.limits)
        if self.learning and self._collected:  # windows of another setup never teach this one
            self._collected, self._collected_runs = [], 0

    def reload(self) -> bool:
        """Take the store's reference and limits for the current setup when they are not the ones
        judging (taught, forgotten or limits set by another process); True when they changed. The
        judge restarts only then, so an unrelated change never resets an alarm delay."""
        if not self._setup_key.known:
            return False
        reference, limits, problem = self.library.lookup(self.machine, self.setup)
        if (getattr(reference, "version", None), limits) == (getattr(self.reference, "version", None), self.limits):
            return False
        self.reference, self.limits, self.problem = reference, limits, problem
        self.judge = TaughtJudge(reference, limits)
        return True

    # -- operator actions (called on the engine thread) ---------------------------------------
    def start_learning(self, runs: int | None = None) -> None:
        """Learn mode: the next ``runs`` runs (default ``teach_runs``) become the reference."""
        self.learning = True
        self.teach_runs = runs or self.teach_runs
        self._collected, self._collected_runs = [], 0
        self.problem = ""

    def tool_changed(self, relearn: bool) -> None:
        """End the run, reset the tool life, and start a teach-in when ``relearn``."""
        self._end_run()
        self.tool_runs, self.tool_cutting_s = 0, 0.0
        if relearn:
            self.start_learning()

    def teach_last_run(self) -> TeachEvent:
        """Mark the last run that ended as good: it becomes the setup's reference."""
        if self.last_run is None:
            raise TeachError("no run has ended on this machine yet")
        if not self._setup_key.known:
            raise TeachError("the machine's setup is unknown: give its feed rate and clamp pressure")
        self._collected, self._collected_runs = [self.last_run], 1
        return self._teach_collected()

    def set_limits(self, limits: Limits) -> None:
        self.limits = limits
        self.judge.limits = limits

    # -- what the views show -------------------------------------------------------------------
    def verdict(self) -> TaughtVerdict:
        if not self._setup_key.known:
            return TaughtVerdict("no_setup", setup=self.setup,
                                 sentence="The setup is unknown (no feed rate and clamp pressure): the tool cannot "
                                          "be judged against a taught reference.")
        if self.learning:
            done = self._collected_runs
            return TaughtVerdict("teaching", setup=self.setup,
                                 reference_version=self.reference.version if self.reference else 0,
                                 sentence=f"Teaching: run {done + 1} of {self.teach_runs} becomes the reference for "
                                          f"{self.setup}." + (f" {self.problem}" if self.problem else ""))
        verdict = self.judge.verdict(self.setup)
        if verdict.state == "not_taught" and self.problem:
            verdict.sentence = f"{verdict.sentence} {self.problem}"
        return verdict

    @property
    def run_has_cut(self) -> bool:
        """The run in progress has cutting samples."""
        return self._cut

    @property
    def state(self) -> str:
        """One of TAUGHT_STATES (no setup counts as not taught: it is never OK)."""
        state = self.verdict().state
        return "not_taught" if state == "no_setup" else state

    def band_pct(self) -> tuple[float, float] | None:
        """The taught band of the statistic that carries the load now, in % of taught: from the
        teach windows' median to their peak (100 %); None when nothing is judged."""
        last = self.judge.last
        if self.reference is None or last is None or last.level == NOT_TAUGHT or not last.taught:
            return None
        index = self.reference.signals.index(last.signal)
        median = float(self.reference.median[last.phase][last.statistic][index])
        return (median / last.taught * 100.0, 100.0)
