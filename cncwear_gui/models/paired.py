"""The paired protocol: the taught monitor judged like an industrial monitor, on matched runs.

The dataset has unworn/worn runs of the same setup (feed rate, clamp pressure): :data:`PAIRS`.
Per pair the monitor is taught on the first half of the unworn run's cutting, **per phase** (the
first half of each phase's windows: the phases run in order, so the run's first half overall would
leave the last layers untaught). Then

* the unworn run's second halves are judged in stream order: every streak of ``delay_windows``
  windows over the alarm limit is a false alarm, reported per hour of judged cutting;
* the whole worn run is judged: detected or not, and after how many seconds of cutting (the
  cutting windows up to the one that raised the alarm, taught or not, × 2 s).

Nothing is tuned on the worn run: the limits are :class:`~..monitoring.teach_in.Limits` defaults
unless given. Beside it, a classifier's tool verdict (``models.verdict``) on the same samples: the
unworn second halves' windows and the worn run's windows.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ..data.dataset import Dataset
from ..data.schema import SAMPLE_PERIOD_S
from ..data.setup import SetupKey, setup_of_meta
from ..monitoring.teach_in import (NOT_TAUGHT, OVER, WINDOW_SAMPLES, Limits, TaughtJudge, TeachError,
                                   WindowJudgement, Windows, teach, windows_of_samples)
from ..tasks import Task, ensure_task
from .verdict import BLOCK_SAMPLES, MIN_BLOCKS, ToolVerdict, tool_verdict

PAIRS: tuple[tuple[int, int], ...] = ((17, 18), (12, 14), (11, 13), (3, 15), (1, 6), (2, 7), (2, 8), (5, 16))
WINDOW_S = WINDOW_SAMPLES * SAMPLE_PERIOD_S
MACHINE = "paired protocol"
COLUMNS = ("pair", "setup", "taught phases", "false alarms/h", "detected", "s to detection",
           "classifier unworn half", "classifier worn run")


@dataclass
class PairResult:
    unworn: int
    worn: int
    setup: str
    not_taught: str = ""  # why the pair could not be taught (empty: taught)
    taught_phases: list[str] = field(default_factory=list)
    teach_windows: int = 0
    unworn_judgements: list[WindowJudgement] = field(default_factory=list)  # the second halves, stream order
    false_alarms: int = 0
    worn_judgements: list[WindowJudgement] = field(default_factory=list)
    alarm_index: int = -1  # index into worn_judgements of the window that raised the alarm
    classifier_unworn: ToolVerdict | None = None
    classifier_worn: ToolVerdict | None = None

    @property
    def taught(self) -> bool:
        return not self.not_taught

    @property
    def label(self) -> str:
        return f"{self.unworn}/{self.worn}"

    @staticmethod
    def _judged(judgements: list[WindowJudgement]) -> int:
        return sum(j.level != NOT_TAUGHT for j in judgements)

    @property
    def unworn_judged_windows(self) -> int:
        return self._judged(self.unworn_judgements)

    @property
    def unworn_untaught_windows(self) -> int:
        return len(self.unworn_judgements) - self.unworn_judged_windows

    @property
    def worn_untaught_windows(self) -> int:
        return len(self.worn_judgements) - self._judged(self.worn_judgements)

    @property
    def unworn_cutting_s(self) -> float:
        """Judged cutting of the unworn second halves (windows in untaught phases are not judged)."""
        return self.unworn_judged_windows * WINDOW_S

    @property
    def false_alarms_per_hour(self) -> float:
        return self.false_alarms / (self.unworn_cutting_s / 3600.0) if self.unworn_cutting_s else math.nan

    @property
    def detected(self) -> bool:
        return self.alarm_index >= 0

    @property
    def detection_s(self) -> float:
        return (self.alarm_index + 1) * WINDOW_S if self.detected else math.nan

    @staticmethod
    def _peak(judgements: list[WindowJudgement]) -> float:
        loads = [j.load_pct for j in judgements if j.level != NOT_TAUGHT]
        return max(loads) if loads else math.nan

    def to_json(self) -> dict:
        def number(value, digits=1):
            return None if math.isnan(value) else round(value, digits)

        def verdict(v: ToolVerdict | None):
            return None if v is None else v.to_json()

        alarm = self.worn_judgements[self.alarm_index] if self.detected else None
        judged = self.taught  # an untaught pair's runs were not judged: no figures rather than zeros
        return {
            "unworn": self.unworn, "worn": self.worn, "setup": self.setup, "taught": self.taught,
            "not_taught": self.not_taught or None, "taught_phases": self.taught_phases,
            "teach_windows": self.teach_windows,
            "unworn_half": None if not judged else {"windows": len(self.unworn_judgements), "judged_windows": self.unworn_judged_windows,
                            "untaught_windows": self.unworn_untaught_windows,
                            "cutting_s": self.unworn_cutting_s, "false_alarms": self.false_alarms,
                            "false_alarms_per_hour": number(self.false_alarms_per_hour, 2),
                            "peak_load_pct": number(self._peak(self.unworn_judgements)),
                            "levels": [j.level for j in self.unworn_judgements]},
            "worn_run": None if not judged else {"windows": len(self.worn_judgements), "untaught_windows": self.worn_untaught_windows,
                         "detected": self.detected, "detection_s": number(self.detection_s),
                         "peak_load_pct": number(self._peak(self.worn_judgements)),
                         "alarm": None if alarm is None else {"phase": alarm.phase, "signal": alarm.signal,
                                                              "statistic": alarm.statistic,
                                                              "load_pct": round(alarm.load_pct, 1)}},
            "classifier": None if self.classifier_worn is None else
            {"unworn_half": verdict(self.classifier_unworn), "worn_run": verdict(self.classifier_worn)},
        }

    def row(self) -> tuple[str, ...]:
        def verdict(v: ToolVerdict | None) -> str:
            if v is None:
                return "—"
            if v.samples < BLOCK_SAMPLES * MIN_BLOCKS:
                return f"too few samples ({v.samples})"
            return f"{'worn' if v.worn else 'unworn'} {v.confidence:.0%}"

        classifier = (verdict(self.classifier_unworn), verdict(self.classifier_worn))
        if not self.taught:
            return (self.label, self.setup, f"not taught: {self.not_taught}", "—", "—", "—", *classifier)
        phases = f"{len(self.taught_phases)} of 6"
        if self.unworn_untaught_windows or self.worn_untaught_windows:
            phases += f" ({self.unworn_untaught_windows}+{self.worn_untaught_windows} windows untaught)"
        rate = self.false_alarms_per_hour
        rate_text = "—" if math.isnan(rate) else f"{rate:.0f} ({self.false_alarms} in {self.unworn_cutting_s:g} s)"
        return (self.label, self.setup, phases, rate_text, "yes" if self.detected else "no",
                f"{self.detection_s:g}" if self.detected else "—", *classifier)


@dataclass
class PairedReport:
    pairs: list[PairResult]
    limits: Limits
    threshold: float = 0.5
    classifier: str = ""  # the model's label; empty without one
    classifier_note: str = ""  # e.g. that it was trained on these runs

    @property
    def taught(self) -> list[PairResult]:
        return [p for p in self.pairs if p.taught]

    @property
    def detected(self) -> int:
        return sum(p.detected for p in self.pairs)

    @property
    def false_alarms(self) -> int:
        return sum(p.false_alarms for p in self.taught)

    @property
    def unworn_cutting_s(self) -> float:
        return sum(p.unworn_cutting_s for p in self.taught)

    @property
    def false_alarms_per_hour(self) -> float:
        """Over all taught unworn halves: every false alarm over all their judged cutting."""
        return self.false_alarms / (self.unworn_cutting_s / 3600.0) if self.unworn_cutting_s else math.nan

    @property
    def median_detection_s(self) -> float:
        times = [p.detection_s for p in self.pairs if p.detected]
        return float(np.median(times)) if times else math.nan

    def summary(self) -> str:
        not_taught = len(self.pairs) - len(self.taught)
        rate = self.false_alarms_per_hour
        median = self.median_detection_s
        text = (f"Worn runs detected: {self.detected} of {len(self.pairs)}"
                + (f" ({not_taught} not taught)" if not_taught else "")
                + f"; false alarms: {self.false_alarms} in {self.unworn_cutting_s:g} s of unworn cutting"
                + ("" if math.isnan(rate) else f" ({rate:.0f}/h)")
                + ("" if math.isnan(median) else f"; median {median:g} s of cutting to detection")
                + f". Limits: warning +{self.limits.warn_pct:g} %, alarm +{self.limits.alarm_pct:g} %, "
                  f"delay {self.limits.delay_windows} windows.")
        return text

    def rows(self) -> list[tuple[str, ...]]:
        """One row per pair, in :data:`COLUMNS` order (shown by the CLI and the Training view)."""
        return [p.row() for p in self.pairs]

    def format_table(self) -> str:
        rows = [COLUMNS, *self.rows()]
        widths = [max(len(r[i]) for r in rows) for i in range(len(COLUMNS))]
        lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in rows]
        lines.insert(1, "  ".join("-" * w for w in widths))
        lines += ["", self.summary()]
        if self.classifier:
            lines.append(f"Classifier: {self.classifier}, P(worn) ≥ {self.threshold:g}, tool verdict on the same "
                         "windows' samples." + (f" {self.classifier_note}" if self.classifier_note else ""))
        return "\n".join(lines)

    def to_json(self) -> dict:
        def number(value, digits=1):
            return None if math.isnan(value) else round(value, digits)

        return {"protocol": "paired", "limits": self.limits.to_json(), "threshold": self.threshold,
                "classifier": self.classifier or None, "classifier_note": self.classifier_note or None,
                "pairs": [p.to_json() for p in self.pairs],
                "totals": {"pairs": len(self.pairs), "taught": len(self.taught), "detected": self.detected,
                           "false_alarms": self.false_alarms, "unworn_cutting_s": self.unworn_cutting_s,
                           "false_alarms_per_hour": number(self.false_alarms_per_hour, 2),
                           "median_detection_s": number(self.median_detection_s)},
                "summary": self.summary(),
                "table": {"columns": list(COLUMNS), "rows": [list(row) for row in self.rows()]}}


def split_per_phase(windows: Windows) -> tuple[Windows, Windows]:
    """(teach, judge): per phase the first half of its windows (rounded up) and the rest, each in time order."""
    first = np.zeros(len(windows), dtype=bool)
    for code in np.unique(windows.phase):
        rows = np.flatnonzero(windows.phase == code)  # already in time order
        first[rows[: (len(rows) + 1) // 2]] = True
    return windows.take(first), windows.take(~first)


def judge_stream(judge: TaughtJudge, windows: Windows) -> tuple[list[WindowJudgement], list[int]]:
    """Every window through ``judge`` in order, and the indices of the windows that raised an alarm
    (a streak reaching ``delay_windows``; after it breaks, the next streak is another alarm)."""
    judgements, alarms = [], []
    for index in range(len(windows)):
        item = judge.update(windows.take([index]))[0]
        judgements.append(item)
        if item.level == OVER and judge.over == judge.limits.delay_windows:
            alarms.append(index)
    return judgements, alarms


def paired_protocol(dataset: Dataset, limits: Limits | None = None, model=None, threshold: float = 0.5,
                    task: Task | None = None) -> PairedReport:
    """The taught monitor (and ``model``'s verdict, an ``ActiveModel``, when given) on every pair of
    :data:`PAIRS`; a pair the data lacks or cannot teach is reported with the reason."""
    task = ensure_task(task)
    limits = limits or Limits()
    samples = dataset.samples()
    runs: dict[int, object] = {}
    probabilities: dict[int, np.ndarray] = {}

    def run(experiment: int):
        if experiment not in runs:
            runs[experiment] = samples[samples["experiment"].to_numpy() == experiment].reset_index(drop=True)
        return runs[experiment]

    def verdict(experiment: int, windows: Windows, scope: str) -> ToolVerdict | None:
        if model is None:
            return None
        if experiment not in probabilities:
            probabilities[experiment] = model.worn_probability(run(experiment))
        rows = (windows.start[:, None] + np.arange(WINDOW_SAMPLES)[None, :]).ravel()
        return tool_verdict(probabilities[experiment][rows] >= threshold, scope=scope)

    results = []
    for index, (unworn, worn) in enumerate(PAIRS):
        task.progress(index / len(PAIRS), f"pair {unworn}/{worn}")
        missing = [e for e in (unworn, worn) if e not in dataset.experiments]
        if missing:
            results.append(PairResult(unworn, worn, "", not_taught=f"experiment {missing[0]} is not in the data"))
            continue
        setups = [setup_of_meta(dataset.experiments[e].meta) for e in (unworn, worn)]
        setup: SetupKey = setups[0]
        result = PairResult(unworn, worn, setup.text)
        results.append(result)
        if setups[0] != setups[1]:
            result.not_taught = f"the runs' setups differ ({setups[0].text} and {setups[1].text})"
            continue
        teach_half, judge_half = split_per_phase(windows_of_samples(run(unworn)))
        worn_windows = windows_of_samples(run(worn))
        result.classifier_unworn = verdict(unworn, judge_half, "unworn second half")
        result.classifier_worn = verdict(worn, worn_windows, "worn run")
        try:
            reference = teach(teach_half, MACHINE, setup, runs=[f"experiment {unworn}, first half per phase"])
        except TeachError as error:
            result.not_taught = str(error)
            continue
        result.taught_phases = reference.phases
        result.teach_windows = sum(reference.windows.values())
        result.unworn_judgements, alarms = judge_stream(TaughtJudge(reference, limits), judge_half)
        result.false_alarms = len(alarms)
        result.worn_judgements, alarms = judge_stream(TaughtJudge(reference, limits), worn_windows)
        result.alarm_index = alarms[0] if alarms else -1
    task.progress(1.0, "paired protocol done")
    return PairedReport(results, limits, threshold, model.label if model is not None else "")


def training_note(training_files: list[str] | None, dataset: Dataset) -> str:
    """Whether a classifier trained on ``training_files`` (sha256 prefixes, as training runs tag
    them; None: not recorded) saw the pairs' runs, in words for the report."""
    paired = sorted({e for pair in PAIRS for e in pair if e in dataset.experiments})
    if training_files is None:
        return ("Its run records no training files (a first-start champion is trained on every labelled sample of "
                "the data it started with, the bundled dataset by default): it has most likely seen these runs, "
                "so the classifier column is optimistic.")
    prefixes = {f[:12] for f in training_files}
    seen = [e for e in paired if dataset.experiments[e].sha256[:12] in prefixes]
    if not seen:
        return "It was not trained on any run of the pairs."
    return (f"It was trained on {len(seen)} of the pairs' {len(paired)} runs "
            f"(experiment{'s' if len(seen) > 1 else ''} {', '.join(map(str, seen))}): "
            "the classifier column is optimistic.")


def model_training_files(run_id: str) -> list[str] | None:
    """The training files (sha256 prefixes) a model's MLflow run recorded; None when it recorded none."""
    if not run_id:
        return None
    from ..store.tracking import mlflow_client

    tag = mlflow_client().MlflowClient().get_run(run_id).data.tags.get("cncwear.dataset_files")
    return None if tag is None else [f for f in tag.split(",") if f]
