"""One machine under watch: score each batch of samples, judge the tool, check drift.

Two views of the same calls: the smoothed P(worn) (a rolling mean, for the trend and the
gauge) and the run's tool verdict (models/verdict.py), which decides the wear state and the
alarm: "replace the tool" is a statement about the run, not about one 100 ms sample.

The live engine scores the batches of all machines in one model call and hands each machine its
share (:meth:`MachineMonitor.ingest`); :meth:`MachineMonitor.score` does both for one machine.

Scoring and drift feed the Prometheus metrics; the last ``window`` samples (10 minutes at
10 Hz: features, P(worn), flags, phase code and setup) are kept for the drift check against the
model's per-setup reference (``monitoring.setup_drift``): the window's current setup (that of its
newest samples) is compared with the training runs of that setup, phase by phase; a setup the
reference has no run of is *unfamiliar*, never drift. Each check is kept as the monitor's
:class:`DriftCheck` (``last_check``), which the live engine hands to its views (the window's
Monitoring view draws them; ``cncwear serve`` only exports the gauges; both through
:meth:`AppMetrics.set_drift`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime, timezone

import numpy as np
import pandas as pd

from ..data.schema import SIGNAL_COLUMNS
from ..data.setup import setups_of_rows
from ..models.verdict import RunVerdictTracker, ToolVerdict
from ..monitoring.metrics import AppMetrics
from ..monitoring.setup_drift import SetupDriftReference
from ..monitoring.teach_in import signal_matrix
from .teach_state import MachineTeachIn
from .wear_state import WearState, WearStateTracker

DRIFT_WINDOW = 6000  # samples: ten minutes at 10 Hz
RUN_ROWS = 12_000  # the run kept for labelling at a tool change: 20 minutes at 10 Hz


_RUN_COLUMNS = frozenset((*SIGNAL_COLUMNS, "phase", "Machining_Process", "feedrate", "clamp_pressure",
                          "program", "quality_flags"))


DRIFT_STATES = ("failed", "unfamiliar", "not_judged", "drifted", "ok")
_last_run_id = 0


def new_run_id() -> int:
    """A run's id in the prediction log: microseconds since the epoch at its start, never repeated
    in this process (the per-run roll-ups are keyed by machine and run id)."""
    global _last_run_id
    _last_run_id = max(time.time_ns() // 1000, _last_run_id + 1)
    return _last_run_id


@dataclass
class DriftCheck:
    """One machine's window compared with the training runs of its setup at one moment.

    ``rows``: the window's rows of the current setup (those compared); ``left_out``: the older
    rows of the window from before the setup last changed."""

    machine: str
    checked_at: datetime
    rows: int
    report: object | None = None  # monitoring.drift.DriftReport; None when the window could not be compared
    error: str = ""
    prediction_fractions: np.ndarray | None = None  # the window's P(worn) on the reference's 10 bins
    model_version: str = ""  # the model that scored the window (its reference was compared)
    setup: str = ""  # the setup key text of the rows compared
    left_out: int = 0

    @property
    def state(self) -> str:
        """One of :data:`DRIFT_STATES`: failed (not compared), unfamiliar (no training run of this
        setup: no drift judgement), not_judged (no whole phase in the window), drifted or ok."""
        report = self.report
        if report is None:
            return "failed"
        if report.unfamiliar:
            return "unfamiliar"
        if report.drifted:
            return "drifted"
        return "ok" if any(f.psi is not None for f in report.features) else "not_judged"

    def psi_of(self, columns: list[str]) -> np.ndarray:
        """PSI per column in the given order (NaN where not compared)."""
        if self.report is None:
            return np.full(len(columns), np.nan)
        by_name = {f.name: f.psi for f in self.report.features}
        return np.array([np.nan if by_name.get(c) is None else by_name[c] for c in columns], dtype=np.float64)


class RingBuffer:
    """The last ``capacity`` rows of a 2-D float array, in arrival order on read."""

    def __init__(self, capacity: int, width: int, dtype=float):
        self._data = np.zeros((capacity, width), dtype=dtype)
        self._next = 0
        self.size = 0

    def extend(self, rows: np.ndarray) -> None:
        capacity = len(self._data)
        rows = rows[-capacity:]
        end = self._next + len(rows)
        if end <= capacity:
            self._data[self._next:end] = rows
        else:
            split = capacity - self._next
            self._data[self._next:] = rows[:split]
            self._data[:end - capacity] = rows[split:]
        self._next = end % capacity
        self.size = min(capacity, self.size + len(rows))

    def read(self) -> np.ndarray:
        if self.size < len(self._data):
            return self._data[:self.size].copy()
        return np.concatenate([self._data[self._next:], self._data[:self._next]])


@dataclass
class MachineMonitor:
    machine: str
    kind: str
    model: object  # models.active.ActiveModel
    metrics: AppMetrics
    reference: SetupDriftReference | None = None  # the model's per-setup drift reference
    threshold: float = 0.5
    window: int = DRIFT_WINDOW
    tracker: WearStateTracker = None  # smoothed P(worn), for the trend
    verdict: RunVerdictTracker = field(default_factory=RunVerdictTracker)
    state: WearState = WearState.UNKNOWN  # from the run verdict, with the decided state held
    last_drift: object | None = None  # drift.DriftReport of the last check that compared
    last_check: DriftCheck | None = None  # the last check, a failed one too
    alarm: object | None = None  # live.alarms.MachineAlarm, updated per sample
    last_states: np.ndarray | None = None  # the last batch's smoothed states and values, per sample
    last_smoothed: np.ndarray | None = None
    last_runs: np.ndarray | None = None  # the last batch's run id per sample (new_run_id)
    run_id: int = field(default_factory=new_run_id)  # the run in progress, as the verdict tracker cuts runs
    scored: int = 0
    errors: int = 0
    teach_in: MachineTeachIn | None = None  # the taught monitor (None: the classifier alone)
    teach_events: list = field(default_factory=list)  # TeachEvents of the last batch
    _run_rows: list = field(default_factory=list, repr=False)  # the samples of the run in progress
    _last_run_rows: object = field(default=None, repr=False)
    _features: RingBuffer = field(default=None, repr=False)
    _probabilities: RingBuffer = field(default=None, repr=False)
    _flags: RingBuffer = field(default=None, repr=False)
    _phases: RingBuffer = field(default=None, repr=False)
    _setups: RingBuffer = field(default=None, repr=False)  # codes into _setup_texts
    _setup_texts: list = field(default_factory=list, repr=False)
    _setup_codes: dict = field(default_factory=dict, repr=False)

    def __post_init__(self):
        self.tracker = self.tracker or WearStateTracker(threshold=self.threshold)
        self.metrics.add_machine(self.machine, self.kind)
        self.set_model(self.model, self.reference)

    def score(self, rows: pd.DataFrame) -> np.ndarray | None:
        """Score a batch; a failing model is counted and reported, never raised into the loop."""
        if rows.empty:
            return None
        started = time.perf_counter()
        try:
            features = self.model.feature_set.matrix(rows)
            probability = self.model.probability_of(features)
        except Exception:
            self.count_error()
            raise
        flags = rows["quality_flags"].to_numpy() if "quality_flags" in rows else np.zeros(len(rows), np.int64)
        phases = rows["phase"].to_numpy() if "phase" in rows else None
        self.ingest(features, probability, flags, time.perf_counter() - started, phases, rows)
        return probability

    def count_error(self) -> None:
        self.errors += 1
        self.metrics.scoring_errors.labels(self.machine).inc()

    def ingest(self, features: np.ndarray, probability: np.ndarray, flags: np.ndarray, latency_s: float,
               phases: np.ndarray | None = None, rows: pd.DataFrame | None = None) -> list:
        """Take a scored batch (features, P(worn), flag bitmasks and phase codes per sample, and
        the samples themselves for the taught monitor): update the smoothed P(worn) and the run
        verdict sample by sample, the taught monitor window by window, then the alarm and the
        metrics. Samples with a flag the model's feature set leaves out of training are no
        evidence for the verdict. The alarm is raised by either judgement: the model's verdict
        or the taught monitor's alarm.

        Returns the alarm transitions the batch caused (empty without an alarm)."""
        taught_alarm = False
        self.teach_events = []
        setups = setups_of_rows(rows) if rows is not None else np.full(len(probability), "setup unknown", dtype=object)
        if self.teach_in is not None and rows is not None and phases is not None:
            taught_alarm = self._feed_teach_in(rows, phases, setups)
        self.metrics.prediction_latency.labels(self.machine).observe(latency_s)
        worn = int(np.count_nonzero(probability >= self.threshold))
        self.metrics.predictions.labels(self.machine, "worn").inc(worn)
        self.metrics.predictions.labels(self.machine, "ok").inc(len(probability) - worn)
        transitions = []
        now = datetime.now(timezone.utc)
        states = np.empty(len(probability), dtype=object)
        smoothed = np.empty(len(probability))
        runs = np.empty(len(probability), dtype=np.int64)
        ignored = self.model.feature_set.exclude_flags
        evidence = (flags & ignored) == 0 if ignored else np.ones(len(probability), dtype=bool)
        phase_codes = phases if phases is not None else np.full(len(probability), -1)
        for index, value in enumerate(probability):
            self.tracker.update(float(value))
            if evidence[index]:
                cut_before = self.verdict.runs
                self.verdict.update(value >= self.threshold, int(phase_codes[index]))
                if self.verdict.runs != cut_before:
                    self.run_id = new_run_id()
                self.state = self._state_from(self.verdict.verdict())
            states[index] = self.state
            runs[index] = self.run_id
            smoothed[index] = self.tracker.smoothed
            if self.alarm is not None:
                transitions += self.alarm.update(WearState.WORN if taught_alarm else self.state, now, float(value))
        self.last_states, self.last_smoothed, self.last_runs = states, smoothed, runs
        self.scored += len(probability)
        if not np.isnan(self.tracker.smoothed):
            self.metrics.worn_probability.labels(self.machine).set(self.tracker.smoothed)
        self.metrics.set_wear_state(self.machine, self.state.value)
        active = self.alarm.active if self.alarm is not None else self.state is WearState.WORN
        self.metrics.alarms_active.labels(self.machine).set(1 if active else 0)
        self.metrics.count_flags(self.machine, flags)
        self._flags.extend(flags.reshape(-1, 1))
        self._features.extend(features)
        self._probabilities.extend(probability.reshape(-1, 1))
        self._phases.extend(phase_codes_of(phase_codes).reshape(-1, 1))
        self._setups.extend(np.fromiter((self._setup_code(s) for s in setups), np.int64, len(setups)).reshape(-1, 1))
        return transitions

    def _setup_code(self, setup: str) -> int:
        code = self._setup_codes.get(setup)
        if code is None:
            code = self._setup_codes[setup] = len(self._setup_texts)
            self._setup_texts.append(setup)
        return code

    def _feed_teach_in(self, rows: pd.DataFrame, phases: np.ndarray, setups: np.ndarray) -> bool:
        """The taught monitor's share of the batch; True while its alarm is raised."""
        teach_in = self.teach_in
        before = teach_in.setup
        try:
            signals = signal_matrix(rows)
        except KeyError as error:
            teach_in.problem = str(error)
            return False
        ended_before = teach_in.runs
        self.teach_events = teach_in.feed(signals, phases, setups)
        if teach_in.runs != ended_before or teach_in.setup != before:
            self._last_run_rows = self.run_rows() if self._run_rows else self._last_run_rows
            self._run_rows = []
        self._run_rows.append(rows[[c for c in rows.columns if c in _RUN_COLUMNS]])
        if sum(len(r) for r in self._run_rows) > RUN_ROWS:
            self._run_rows = [pd.concat(self._run_rows, ignore_index=True).iloc[-RUN_ROWS:]]
        verdict = teach_in.verdict()
        self.metrics.set_taught_state(self.machine, teach_in.state, verdict.load_pct, teach_in.setup)
        return verdict.state == "alarm"

    def run_rows(self) -> pd.DataFrame | None:
        """The samples of the run in progress (its signals, phase and job constants), or None."""
        return pd.concat(self._run_rows, ignore_index=True) if self._run_rows else None

    def labelled_run_rows(self) -> pd.DataFrame | None:
        """The run a tool change labels: the one in progress when it has cut, else the last one."""
        current = self.run_rows()
        if current is not None and self.teach_in is not None and self.teach_in.run_has_cut:
            return current
        return self._last_run_rows if self._last_run_rows is not None else current

    def _state_from(self, verdict: ToolVerdict) -> WearState:
        """WORN or OK once the run's verdict is decided. Until a new run's verdict decides, the
        last decided state holds (most parts are cut with the tool of the previous one), so the
        light and the ToolWorn alert do not flicker at every part start; UNKNOWN only before the
        first verdict."""
        if verdict.decided:
            return WearState.WORN if verdict.worn else WearState.OK
        return self.state

    def set_model(self, model, reference=None) -> None:
        """Score with another model from the next batch on; the drift window restarts with it."""
        self.model, self.reference = model, checked_reference(reference)
        self._features = RingBuffer(self.window, len(model.feature_set.columns))
        self._probabilities = RingBuffer(self.window, 1)
        self._flags = RingBuffer(self.window, 1, dtype=np.int64)
        self._phases = RingBuffer(self.window, 1, dtype=np.int64)
        self._setups = RingBuffer(self.window, 1, dtype=np.int64)

    def set_reference(self, reference) -> None:
        """Check drift against ``reference`` (the current model's per-setup reference) from now
        on; the window is kept."""
        self.reference = checked_reference(reference)

    @property
    def window_size(self) -> int:
        return self._probabilities.size

    def drift_window(self) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
        """The drift window: its features, P(worn) and flag bitmasks, oldest first."""
        features = pd.DataFrame(self._features.read(), columns=list(self.model.feature_set.columns))
        return features, self._probabilities.read()[:, 0], self._flags.read()[:, 0]

    def window_phases_and_setups(self) -> tuple[np.ndarray, np.ndarray]:
        """The drift window's phase codes (-1 unknown) and setup key texts, oldest first."""
        texts = np.asarray(self._setup_texts, dtype=object)
        return self._phases.read()[:, 0], texts[self._setups.read()[:, 0]]

    def check_drift(self, checked_at: datetime | None = None):
        """Drift of the window's current setup (the rows since the setup last changed) against
        that setup's training runs; None without a reference or a window, or when the window
        cannot be compared (the check then carries the error)."""
        if self.reference is None or self._features.size < 2:
            return None
        from ..monitoring.drift import prediction_histogram
        from ..monitoring.setup_drift import compare

        checked_at = checked_at or datetime.now(timezone.utc)
        features, probability, flags = self.drift_window()
        phases, codes = self._phases.read()[:, 0], self._setups.read()[:, 0]
        changed = np.flatnonzero(codes != codes[-1])
        start = int(changed[-1]) + 1 if changed.size else 0  # older rows are of another setup: left out
        setup = self._setup_texts[codes[-1]]
        version = str(getattr(self.model, "version", ""))
        rows = len(features) - start
        try:
            report = compare(self.reference, features.iloc[start:], phases[start:], setup,
                             probability[start:], flags[start:])
        except (ValueError, KeyError) as error:
            self.last_check = DriftCheck(self.machine, checked_at, rows, None, f"{type(error).__name__}: {error}",
                                         model_version=version, setup=setup, left_out=start)
            raise
        self.last_drift = report
        self.last_check = DriftCheck(self.machine, checked_at, rows, report, "",
                                     prediction_histogram(probability[start:])[0], version, setup, start)
        self.metrics.set_drift(self.machine, report)
        return report


def checked_reference(reference):
    """``reference`` when it is a per-setup drift reference (or None); the live check has one kind."""
    if reference is not None and not isinstance(reference, SetupDriftReference):
        raise TypeError(f"the live drift check needs the model's per-setup reference "
                        f"(monitoring.setup_drift.SetupDriftReference, setup_reference_for), not {type(reference).__name__}")
    return reference


def phase_codes_of(phases: np.ndarray) -> np.ndarray:
    """Phase codes as integers (-1 where unknown: never in a reference)."""
    phases = np.asarray(phases)
    if np.issubdtype(phases.dtype, np.integer):
        return phases.astype(np.int64, copy=False)
    values = phases.astype(np.float64)
    return np.where(np.isfinite(values), values, -1).astype(np.int64)
