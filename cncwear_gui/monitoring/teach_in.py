"""The taught monitor: a reference learned per (machine, setup) and limits as % over it.

This is how industrial tool monitors judge a tool (Caron TMAC, Heidenhain AFC, ToolScope): the
first good run(s) after a tool change are the reference for that machine and job; a later cut
is compared with it, phase by phase, and an alarm needs the load to stay over the limit for a
delay. Nothing here is learned across jobs, so it works on a floor unlike the bundled dataset.

* **Windows.** Cutting samples (the six ``Layer N Up/Down`` phases) are cut into windows of
  :data:`WINDOW_SAMPLES` (2 s at 10 Hz) that never cross a phase change. Per window and
  monitored signal (spindle and axis currents and powers) two statistics: the **level** (the
  absolute mean) and the **variability** (the standard deviation; public analyses of this
  dataset found it separates worn from unworn better than the mean).
* **Reference.** Per (phase, signal, statistic) the taught value is the largest of the teach
  windows (TMAC learns the peak), with the median kept for the trend band.
* **Judgement.** A window's load is its statistic as a percentage of the taught value; the
  window's load is the largest over signals and statistics, and names which. At or above
  ``100 + warn_pct`` it is a warning, at or above ``100 + alarm_pct`` it is over the alarm
  limit; ``delay_windows`` consecutive windows over the alarm limit raise the alarm. A phase the
  reference does not cover is "not taught" and never counts as OK.

Qt-free; numpy only (pandas frames are read, not required).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timezone

import numpy as np

from ..data.schema import CUTTING_CODES, PHASES, SAMPLE_PERIOD_S
from ..data.setup import SetupKey

#: The signals the taught monitor watches: spindle and axis currents and powers.
MONITORED_SIGNALS: tuple[str, ...] = (
    "S1_CurrentFeedback", "S1_OutputPower",
    "X1_CurrentFeedback", "X1_OutputPower",
    "Y1_CurrentFeedback", "Y1_OutputPower",
    "Z1_CurrentFeedback",
)
SIGNAL_NAMES = {
    "S1_CurrentFeedback": "spindle current", "S1_OutputPower": "spindle power",
    "X1_CurrentFeedback": "X-axis current", "X1_OutputPower": "X-axis power",
    "Y1_CurrentFeedback": "Y-axis current", "Y1_OutputPower": "Y-axis power",
    "Z1_CurrentFeedback": "Z-axis current",
}
STATISTICS: tuple[str, ...] = ("level", "variability")
WINDOW_SAMPLES = 20  # 2 s at 10 Hz
MIN_TEACH_WINDOWS = 10  # 20 s of cutting at least
MAX_REJECTED_SHARE = 0.5  # teaching on a run mostly made of rejected samples is refused
_FLOOR = 1e-6  # a taught value this small (a signal idle in that phase) is not judged
REFERENCE_FORMAT = 1


class TeachError(ValueError):
    """Teaching was refused; the message says why (too little cutting, mostly rejected samples)."""


@dataclass
class Limits:
    """Warning and alarm levels as a percentage over the taught value, and the alarm delay."""

    warn_pct: float = 15.0
    alarm_pct: float = 30.0
    delay_windows: int = 3  # consecutive windows over the alarm limit: 6 s

    def __post_init__(self):
        if not 0 < self.warn_pct <= self.alarm_pct <= 999:
            raise ValueError(f"limits: need 0 < warning ({self.warn_pct:g} %) ≤ alarm ({self.alarm_pct:g} %) ≤ 999 %")
        if not 1 <= int(self.delay_windows) <= 1000:
            raise ValueError(f"limits: the alarm delay must be 1 to 1000 windows, got {self.delay_windows}")
        self.delay_windows = int(self.delay_windows)

    @property
    def delay_s(self) -> float:
        return self.delay_windows * WINDOW_SAMPLES * SAMPLE_PERIOD_S

    def to_json(self) -> dict:
        return {"warn_pct": self.warn_pct, "alarm_pct": self.alarm_pct, "delay_windows": self.delay_windows}

    @classmethod
    def from_json(cls, data: dict | None) -> Limits:
        return cls(**{k: v for k, v in (data or {}).items() if k in ("warn_pct", "alarm_pct", "delay_windows")})


# --- windows ---------------------------------------------------------------------------------


@dataclass
class Windows:
    """Cutting windows of a stretch of samples: phase code, first row, and per signal the level
    and variability (``n × len(MONITORED_SIGNALS)`` each)."""

    phase: np.ndarray
    start: np.ndarray
    level: np.ndarray
    variability: np.ndarray

    def __len__(self) -> int:
        return len(self.phase)

    @classmethod
    def empty(cls) -> Windows:
        width = len(MONITORED_SIGNALS)
        return cls(np.empty(0, np.int64), np.empty(0, np.int64), np.empty((0, width)), np.empty((0, width)))

    def take(self, index) -> Windows:
        return Windows(self.phase[index], self.start[index], self.level[index], self.variability[index])

    @classmethod
    def concat(cls, parts: list[Windows]) -> Windows:
        parts = [p for p in parts if len(p)]
        if not parts:
            return cls.empty()
        return cls(*(np.concatenate([getattr(p, name) for p in parts]) for name in ("phase", "start", "level", "variability")))

    def statistic(self, name: str) -> np.ndarray:
        return self.level if name == "level" else self.variability

    @property
    def cutting_s(self) -> float:
        return len(self) * WINDOW_SAMPLES * SAMPLE_PERIOD_S


def signal_matrix(samples) -> np.ndarray:
    """The monitored signals of a samples frame as floats (raises KeyError naming missing ones)."""
    missing = [s for s in MONITORED_SIGNALS if s not in samples.columns]
    if missing:
        raise KeyError(f"the taught monitor needs signal(s) {', '.join(missing)}")
    return samples[list(MONITORED_SIGNALS)].to_numpy(dtype=np.float64)


def cutting_windows(values: np.ndarray, phases: np.ndarray, first_row: int = 0) -> Windows:
    """Windows of ``WINDOW_SAMPLES`` consecutive cutting samples of one phase (a phase's tail
    shorter than a window is left out). ``values``: :func:`signal_matrix`; ``phases``: codes."""
    phases = np.asarray(phases, dtype=np.int64)
    if not len(phases):
        return Windows.empty()
    change = np.flatnonzero(np.diff(phases)) + 1
    starts = np.concatenate(([0], change))
    ends = np.concatenate((change, [len(phases)]))
    chosen = []
    for begin, end in zip(starts, ends):
        if phases[begin] in CUTTING_CODES and end - begin >= WINDOW_SAMPLES:
            chosen.extend(range(begin, end - WINDOW_SAMPLES + 1, WINDOW_SAMPLES))
    if not chosen:
        return Windows.empty()
    begin = np.asarray(chosen)
    blocks = values[begin[:, None] + np.arange(WINDOW_SAMPLES)[None, :]]  # n × W × signals
    with np.errstate(invalid="ignore"):
        level = np.abs(np.nanmean(blocks, axis=1)) if np.isnan(blocks).any() else np.abs(blocks.mean(axis=1))
        variability = np.nanstd(blocks, axis=1) if np.isnan(blocks).any() else blocks.std(axis=1)
    return Windows(phases[begin], begin + first_row, level, variability)


def windows_of_samples(samples) -> Windows:
    """:func:`cutting_windows` of a ``Dataset.samples()``-shaped frame (phase codes in ``phase``)."""
    return cutting_windows(signal_matrix(samples), samples["phase"].to_numpy())


class WindowCutter:
    """Cuts a stream of samples (batch by batch) into the same windows as :func:`cutting_windows`:
    a window never spans two batches' phase change, and an unfinished window waits for the next
    batch."""

    def __init__(self):
        self._values = np.empty((0, len(MONITORED_SIGNALS)))
        self._phases = np.empty(0, np.int64)
        self.rows = 0  # samples seen

    def reset(self) -> None:
        self._values = np.empty((0, len(MONITORED_SIGNALS)))
        self._phases = np.empty(0, np.int64)

    def feed(self, values: np.ndarray, phases: np.ndarray) -> Windows:
        first = self.rows - len(self._phases)
        self.rows += len(phases)
        values = np.concatenate((self._values, values)) if len(self._values) else values
        phases = np.concatenate((self._phases, np.asarray(phases, np.int64))) if len(self._phases) else np.asarray(phases, np.int64)
        windows = cutting_windows(values, phases, first)
        # keep what is not in a window yet: the open segment's remainder
        last_change = np.flatnonzero(np.diff(phases))
        segment_start = int(last_change[-1]) + 1 if len(last_change) else 0
        used = segment_start
        in_segment = windows.start - first >= segment_start
        if in_segment.any():
            used = int(windows.start[in_segment].max() - first) + WINDOW_SAMPLES
        if len(phases) and phases[-1] not in CUTTING_CODES:
            used = len(phases)  # an open non-cutting phase is never windowed
        keep = slice(max(used, segment_start), None)
        self._values, self._phases = values[keep].copy(), phases[keep].copy()
        return windows


# --- the reference ---------------------------------------------------------------------------


@dataclass
class TaughtReference:
    """A setup's learned reference on one machine: per phase, signal and statistic the taught
    (largest) and median window value, and how many windows taught it."""

    machine: str
    setup: SetupKey
    taught: dict[str, dict[str, np.ndarray]]  # phase name → statistic → taught value per signal
    median: dict[str, dict[str, np.ndarray]]
    windows: dict[str, int]  # phase name → teach windows
    runs: list[str] = field(default_factory=list)  # what it was taught on (run ids, file names)
    taught_at: str = ""
    version: int = 0  # set by the store
    signals: tuple[str, ...] = MONITORED_SIGNALS

    @property
    def phases(self) -> list[str]:
        return [p for p in PHASES if p in self.taught]

    @property
    def cutting_s(self) -> float:
        return sum(self.windows.values()) * WINDOW_SAMPLES * SAMPLE_PERIOD_S

    def covers(self, phase_code: int) -> bool:
        return 0 <= phase_code < len(PHASES) and PHASES[phase_code] in self.taught

    def to_json(self) -> dict:
        def arrays(table):
            return {p: {s: [float(v) for v in values] for s, values in stats.items()} for p, stats in table.items()}

        return {"format": REFERENCE_FORMAT, "machine": self.machine, "setup": self.setup.to_json(),
                "signals": list(self.signals), "taught": arrays(self.taught), "median": arrays(self.median),
                "windows": dict(self.windows), "runs": list(self.runs), "taught_at": self.taught_at,
                "window_samples": WINDOW_SAMPLES}

    @classmethod
    def from_json(cls, data: dict, version: int = 0) -> TaughtReference:
        """Raises ValueError for anything not a reference of this format (the caller shows the
        setup as not taught and says why)."""
        if not isinstance(data, dict) or data.get("format") != REFERENCE_FORMAT:
            raise ValueError(f"unsupported taught-reference format {data.get('format') if isinstance(data, dict) else data!r}")
        signals = tuple(data["signals"])
        if signals != MONITORED_SIGNALS or int(data.get("window_samples", 0)) != WINDOW_SAMPLES:
            raise ValueError("the reference was taught on other signals or windows; relearn it")

        def arrays(table):
            out = {}
            for phase, stats in table.items():
                if phase not in PHASES or set(stats) != set(STATISTICS):
                    raise ValueError(f"reference phase {phase!r} is malformed")
                out[phase] = {}
                for name, values in stats.items():
                    array = np.asarray(values, dtype=np.float64)
                    if array.shape != (len(signals),) or not np.isfinite(array).all():
                        raise ValueError(f"reference values for {phase} {name} are malformed")
                    out[phase][name] = array
            return out

        return cls(machine=str(data["machine"]), setup=SetupKey.from_json(data["setup"]),
                   taught=arrays(data["taught"]), median=arrays(data["median"]),
                   windows={str(k): int(v) for k, v in data["windows"].items()}, runs=list(data.get("runs", [])),
                   taught_at=str(data.get("taught_at", "")), version=version, signals=signals)


def teach(windows: Windows, machine: str, setup: SetupKey, runs: list[str] | None = None,
          rejected_share: float = 0.0, min_windows: int = MIN_TEACH_WINDOWS) -> TaughtReference:
    """The reference taught by these cutting windows; :class:`TeachError` when there is too little
    to teach on (fewer than ``min_windows`` cutting windows, or mostly rejected samples)."""
    if not setup.known:
        raise TeachError("cannot teach without the setup: give the job's feed rate and clamp pressure")
    if rejected_share > MAX_REJECTED_SHARE:
        raise TeachError(f"{rejected_share:.0%} of the samples were rejected (limit {MAX_REJECTED_SHARE:.0%}); "
                         "teach on a run with clean data")
    finite = np.isfinite(windows.level).all(axis=1) & np.isfinite(windows.variability).all(axis=1)
    windows = windows.take(finite)
    if len(windows) < min_windows:
        raise TeachError(f"only {len(windows)} cutting window(s) of {WINDOW_SAMPLES * SAMPLE_PERIOD_S:g} s "
                         f"({windows.cutting_s:g} s of cutting); teaching needs at least {min_windows} "
                         f"({min_windows * WINDOW_SAMPLES * SAMPLE_PERIOD_S:g} s)")
    taught, median, counts = {}, {}, {}
    for code in np.unique(windows.phase):
        rows = windows.phase == code
        phase = PHASES[int(code)]
        taught[phase] = {name: windows.statistic(name)[rows].max(axis=0) for name in STATISTICS}
        median[phase] = {name: np.median(windows.statistic(name)[rows], axis=0) for name in STATISTICS}
        counts[phase] = int(rows.sum())
    return TaughtReference(machine, setup, taught, median, counts, list(runs or []),
                           datetime.now(timezone.utc).isoformat(timespec="seconds"))


# --- judging ---------------------------------------------------------------------------------

OK, WARNING, OVER, NOT_TAUGHT = "ok", "warning", "over", "not_taught"
#: The taught monitor's states for a machine, as the metrics and the tile show them.
TAUGHT_STATES = ("not_taught", "teaching", "ok", "warning", "alarm")


@dataclass(frozen=True)
class WindowJudgement:
    """One window against the reference: its load (largest % of taught) and what carries it."""

    phase: str
    start: int  # first sample of the window (row in the stream)
    load_pct: float  # NaN when not taught
    signal: str
    statistic: str
    value: float
    taught: float
    level: str  # OK, WARNING, OVER (the alarm limit), NOT_TAUGHT


def window_pcts(reference: TaughtReference, windows: Windows, index: int) -> dict[str, np.ndarray]:
    """Window ``index`` per statistic and signal as % of the taught value of its phase (NaN where
    the signal is idle in the reference, or the phase is not taught)."""
    code = int(windows.phase[index])
    phase = PHASES[code] if 0 <= code < len(PHASES) else "?"
    out = {}
    for name in STATISTICS:
        value = windows.statistic(name)[index]
        if phase not in reference.taught:
            out[name] = np.full(len(MONITORED_SIGNALS), np.nan)
            continue
        taught = reference.taught[phase][name]
        judged = taught > _FLOOR
        with np.errstate(invalid="ignore", divide="ignore"):
            out[name] = np.where(judged, value / np.where(judged, taught, 1.0) * 100.0, np.nan)
    return out


def judge(reference: TaughtReference | None, windows: Windows, limits: Limits) -> list[WindowJudgement]:
    """Each window against the reference (NOT_TAUGHT without one, or in a phase it does not cover)."""
    out = []
    for index in range(len(windows)):
        code = int(windows.phase[index])
        phase = PHASES[code] if 0 <= code < len(PHASES) else "?"
        start = int(windows.start[index])
        if reference is None or phase not in reference.taught:
            out.append(WindowJudgement(phase, start, math.nan, "", "", math.nan, math.nan, NOT_TAUGHT))
            continue
        best = (-1.0, "", "", math.nan, math.nan)
        for name, pct in window_pcts(reference, windows, index).items():
            if not np.isfinite(pct).any():
                continue
            j = int(np.nanargmax(pct))
            if pct[j] > best[0]:
                best = (float(pct[j]), MONITORED_SIGNALS[j], name, float(windows.statistic(name)[index][j]),
                        float(reference.taught[phase][name][j]))
        load = best[0]
        level = OVER if load >= 100 + limits.alarm_pct else WARNING if load >= 100 + limits.warn_pct else OK
        out.append(WindowJudgement(phase, start, load, best[1], best[2], best[3], best[4], level))
    return out


@dataclass
class TaughtVerdict:
    """The taught monitor's state for a machine now, with the plain sentence behind it."""

    state: str  # "ok", "warning", "alarm", "not_taught", "teaching", "no_setup"
    load_pct: float = math.nan  # the last window's load (% of taught)
    over_windows: int = 0  # consecutive windows over the alarm limit
    judgement: WindowJudgement | None = None  # the window that carries the state
    setup: str = ""
    reference_version: int = 0
    sentence: str = ""

    def to_json(self) -> dict:
        j = self.judgement
        return {"state": self.state, "load_pct": None if math.isnan(self.load_pct) else round(self.load_pct, 1),
                "over_windows": self.over_windows, "setup": self.setup, "reference_version": self.reference_version,
                "sentence": self.sentence,
                "window": None if j is None else {"phase": j.phase, "signal": j.signal, "statistic": j.statistic,
                                                   "value": j.value, "taught": j.taught, "level": j.level}}


def describe(judgement: WindowJudgement, limits: Limits, over_windows: int = 0) -> str:
    """The operator's sentence: which signal, in which phase, how far over taught, how long."""
    if judgement.level == NOT_TAUGHT:
        return f"{judgement.phase} has no taught reference for this setup: the tool is not judged there."
    what = f"{SIGNAL_NAMES.get(judgement.signal, judgement.signal)} {'variability' if judgement.statistic == 'variability' else 'load'}"
    sentence = f"{what[0].upper()}{what[1:]} in {judgement.phase} is at {judgement.load_pct:.0f} % of the taught value"
    if judgement.level == OVER:
        seconds = over_windows * WINDOW_SAMPLES * SAMPLE_PERIOD_S
        return (f"{sentence}, over the alarm limit of {100 + limits.alarm_pct:.0f} % for {over_windows} window(s) "
                f"({seconds:g} s; the alarm needs {limits.delay_windows}).")
    if judgement.level == WARNING:
        return f"{sentence}, over the warning limit of {100 + limits.warn_pct:.0f} %."
    return f"{sentence}; within the limits (warning {100 + limits.warn_pct:.0f} %, alarm {100 + limits.alarm_pct:.0f} %)."


class TaughtJudge:
    """Follows one machine's stream window by window: the consecutive windows over the alarm
    limit, the state and the worst window of the run so far (for the tile's detail)."""

    def __init__(self, reference: TaughtReference | None, limits: Limits | None = None):
        self.reference = reference
        self.limits = limits or Limits()
        self.over = 0
        self.alarm = False  # raised in this run (the delay held)
        self.last: WindowJudgement | None = None
        self.worst: WindowJudgement | None = None  # the run's highest load
        self.alarm_window: WindowJudgement | None = None
        self.alarm_at_window = -1  # windows into the run when the alarm was raised
        self.windows = 0

    def new_run(self) -> None:
        self.over, self.alarm, self.last, self.worst, self.alarm_window = 0, False, None, None, None
        self.alarm_at_window, self.windows = -1, 0

    def update(self, windows: Windows) -> list[WindowJudgement]:
        judged = judge(self.reference, windows, self.limits)
        for item in judged:
            if item.level == NOT_TAUGHT:
                self.last = item
                continue
            self.windows += 1
            self.over = self.over + 1 if item.level == OVER else 0
            if self.over >= self.limits.delay_windows and not self.alarm:
                self.alarm, self.alarm_window, self.alarm_at_window = True, item, self.windows
            if self.worst is None or item.load_pct > self.worst.load_pct:
                self.worst = item
            self.last = item
        return judged

    def verdict(self, setup: str = "") -> TaughtVerdict:
        version = self.reference.version if self.reference is not None else 0
        if self.reference is None:
            return TaughtVerdict("not_taught", setup=setup,
                                 sentence=f"SETUP NOT TAUGHT: {setup or 'this setup'} has no reference on this machine; "
                                          "the taught monitor does not judge the tool until it is taught.")
        last = self.last
        if self.alarm:
            shown = self.alarm_window
            return TaughtVerdict("alarm", last.load_pct if last else math.nan, self.over, shown, setup, version,
                                 describe(shown, self.limits, max(self.over, self.limits.delay_windows)))
        if last is None:
            return TaughtVerdict("ok", setup=setup, reference_version=version,
                                 sentence="Taught; waiting for the first cutting window.")
        if last.level == NOT_TAUGHT:
            return TaughtVerdict("not_taught", setup=setup, reference_version=version, judgement=last,
                                 sentence=describe(last, self.limits))
        state = "warning" if last.level in (WARNING, OVER) else "ok"
        return TaughtVerdict(state, last.load_pct, self.over, last, setup, version,
                             describe(last, self.limits, self.over))


# --- one sample of a recorded run (the Explanations view, ``cncwear explain``) ---------------

NOT_CUTTING = "not_cutting"  # the sample is in no cutting window (a non-cutting phase, or a phase's short tail)


@dataclass
class SampleJudgement:
    """The taught monitor on one sample of a recorded run: the window the sample falls in, the
    whole run, and the window's % of taught per statistic and signal (for a bar chart)."""

    window: TaughtVerdict  # the sample's window; state OK, warning, alarm, not_taught or not_cutting
    run: TaughtVerdict  # the run: alarm if the delay held anywhere, else its highest window
    phase: str  # the sample's phase
    rows: tuple[int, int] | None = None  # the window's first and last row (None: in no window)
    pcts: dict[str, list[float]] = field(default_factory=dict)  # statistic → % of taught per signal
    windows: int = 0  # cutting windows in the run
    windows_judged: int = 0  # of them in taught phases
    windows_over: int = 0  # of them over the alarm limit
    longest_over: int = 0  # the longest stretch of consecutive windows over the alarm limit

    def to_json(self) -> dict:
        return {"window": self.window.to_json(), "run": self.run.to_json(), "phase": self.phase,
                "rows": None if self.rows is None else list(self.rows),
                "pcts": {name: [None if not math.isfinite(v) else round(v, 2) for v in values]
                         for name, values in self.pcts.items()},
                "signals": list(MONITORED_SIGNALS), "windows": self.windows, "windows_judged": self.windows_judged,
                "windows_over": self.windows_over, "longest_over": self.longest_over}


def _window_verdict(judgement: WindowJudgement, over: int, limits: Limits, setup: str, version: int) -> TaughtVerdict:
    if judgement.level == NOT_TAUGHT:
        return TaughtVerdict("not_taught", judgement=judgement, setup=setup, reference_version=version,
                             sentence=describe(judgement, limits))
    if judgement.level == OVER and over >= limits.delay_windows:
        state = "alarm"
    else:
        state = "warning" if judgement.level in (WARNING, OVER) else "ok"
    return TaughtVerdict(state, judgement.load_pct, over, judgement, setup, version, describe(judgement, limits, over))


def _stretch(streaks: list[int], at: int) -> int:
    """The length of the stretch over the alarm limit that judged window ``at`` is in (0: not over);
    ``streaks``: per judged window, the stretch length it ends."""
    if not streaks[at]:
        return 0
    while at + 1 < len(streaks) and streaks[at + 1] > streaks[at]:
        at += 1
    return streaks[at]


def judge_sample(samples, row: int, reference: TaughtReference | None, limits: Limits,
                 setup: str = "") -> SampleJudgement:
    """The taught judgement of sample ``row`` of one run's samples (``Dataset`` shaped, phase
    codes in ``phase``): its window as the live monitor judged it when the window ended (the
    consecutive windows over the alarm limit up to it), and the run as a whole. Without a
    reference both are NOT TAUGHT; the caller says how to teach."""
    if not 0 <= row < len(samples):
        raise IndexError(f"row {row} is not in the run (rows 0 to {len(samples) - 1})")
    windows = windows_of_samples(samples)
    code = int(samples["phase"].to_numpy()[row])
    phase = PHASES[code] if 0 <= code < len(PHASES) else "?"
    inside = np.flatnonzero((windows.start <= row) & (row < windows.start + WINDOW_SAMPLES))
    index = int(inside[0]) if len(inside) else -1
    version = reference.version if reference is not None else 0
    untaught = f"SETUP NOT TAUGHT: {setup or 'this setup'} has no reference; the taught monitor does not judge the tool."

    monitor = TaughtJudge(reference, limits)
    before = monitor.update(windows.take(slice(0, index + 1))) if index >= 0 else []
    over_then = monitor.over
    judged = before + monitor.update(windows.take(slice(index + 1, None)))

    levels = [j.level for j in judged if j.level != NOT_TAUGHT]
    longest = streak = 0
    streaks = []  # the length of the stretch over the alarm limit each judged window ends
    for level in levels:
        streak = streak + 1 if level == OVER else 0
        streaks.append(streak)
        longest = max(longest, streak)
    counts = dict(windows=len(windows), windows_judged=len(levels), windows_over=levels.count(OVER), longest_over=longest)

    if reference is None:
        run = TaughtVerdict("not_taught", setup=setup, sentence=untaught)
    elif not len(windows):
        run = TaughtVerdict(NOT_CUTTING, setup=setup, reference_version=version,
                            sentence="The run has no cutting window: the taught monitor had nothing to judge.")
    elif monitor.alarm:
        stretch = _stretch(streaks, monitor.alarm_at_window - 1)
        run = TaughtVerdict("alarm", monitor.alarm_window.load_pct, stretch, monitor.alarm_window, setup, version,
                            describe(monitor.alarm_window, limits, stretch))
    elif monitor.worst is not None:
        worst = monitor.worst
        stretch = _stretch(streaks, [j for j in judged if j.level != NOT_TAUGHT].index(worst))
        run = TaughtVerdict("warning" if worst.level in (WARNING, OVER) else "ok", worst.load_pct, stretch, worst,
                            setup, version, describe(worst, limits, stretch))
    else:
        run = TaughtVerdict("not_taught", setup=setup, reference_version=version,
                            sentence=describe(judged[0], limits))  # no phase of the run is taught

    if index < 0:
        cutting = code in CUTTING_CODES
        sentence = (f"Sample {row} is in the last samples of {phase}, too few for a "
                    f"{WINDOW_SAMPLES * SAMPLE_PERIOD_S:g} s window: no window judges it." if cutting else
                    f"Sample {row} is in {phase}, not a cutting phase: the taught monitor judges cutting windows only.")
        window = TaughtVerdict(NOT_CUTTING, setup=setup, reference_version=version, sentence=sentence)
        return SampleJudgement(window, run, phase, **counts)
    rows = (int(windows.start[index]), int(windows.start[index]) + WINDOW_SAMPLES - 1)
    if reference is None:
        window = TaughtVerdict("not_taught", setup=setup, sentence=untaught)
        return SampleJudgement(window, run, phase, rows, **counts)
    pcts = ({name: [float(v) for v in values] for name, values in window_pcts(reference, windows, index).items()}
            if before[-1].level != NOT_TAUGHT else {})
    window = _window_verdict(before[-1], over_then, limits, setup, version)
    return SampleJudgement(window, run, phase, rows, pcts, **counts)
