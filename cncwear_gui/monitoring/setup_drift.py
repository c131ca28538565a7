"""Drift against the setup's own reference: a window is compared with the training runs of its job.

Each bundled experiment is its own job (feed rate, clamp pressure: ``data.setup``), so the pooled
training profile of :mod:`.drift` flags every one of them. Here the reference keeps, per setup,
per training run and per machining phase, a compact profile of every feature column (the same
bins and KS subsample as :class:`.drift.ColumnReference`, with :data:`PROFILE_SAMPLE` values).

Comparing a window (:func:`compare`):

* **Only whole phases.** The window is cut into its phase segments; a segment touching the
  window's first or last row is left out (the window's edge cut it). Inside one phase the
  positions, the NC block number and the velocities follow the tool path, so part of a phase
  never looks like the whole of it: with the cut segments in, 117 of 156 clean 60 s windows had
  a position or block-number column at alarm level (``benchmarks/setup_drift.py``).
* **Nearest run.** The segments of each phase (at least :data:`MIN_PHASE_ROWS` rows) are
  compared with every reference run of the setup that has that phase (with as many rows); per
  feature the smallest PSI and the smallest KS over the runs count: the window drifted only
  where it is unlike *every* run of this setup. A setup's worn and unworn runs differ (wear, a
  0.2 mm Z offset), so pooling them would flag each against the pair.
* **Phases weighted by rows**, then the thresholds of :class:`.drift.DriftThresholds`. The
  window drifted when the usual share of features is at alarm level **or any one feature is**:
  within one setup and phase a single signal moving (a gain, a frozen sensor) is a finding.
* **Unfamiliar setup.** A setup without reference runs is reported as such (``unfamiliar``),
  never as drift: there is nothing of this job to compare with.

There is no P(worn) histogram per run (a setup's worn and unworn runs predict opposite ends), so
``worn_probability`` only gives the window's mean; ``flags`` are compared with the setup's rates.

Qt-free: numpy and pandas only.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from functools import cached_property
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..data.schema import PHASES
from ..data.setup import setups_of_rows
from .drift import (
    ColumnReference,
    DriftReport,
    DriftThresholds,
    FeatureDrift,
    PackedReferences,
    _write_json_atomic,
    check_window,
    column_reference,
    drift_report,
    feature_group,
    flag_rates_of,
    numeric_matrix,
    sorted_finite,
)

if TYPE_CHECKING:
    import pandas as pd

    from ..features.sets import FeatureSet

MIN_PHASE_ROWS = 30  # 3 s at 10 Hz: fewer rows per phase are too few for ten bins
PROFILE_SAMPLE = 100  # KS subsample per (run, phase, column); its resolution is 0.01
SETUP_REFERENCE_FORMAT = 1
CACHED_STRETCHES = 1024  # 8 machines × a 10-minute window of ~40 stretches, three times over


@dataclass
class SegmentProfile:
    """One stretch of one phase of one training run (at least MIN_PHASE_ROWS rows): one
    reference per feature column. A phase the program enters several times (Repositioning
    between the layers) has one per stretch: they are at different places of the part."""

    phase: int
    rows: int
    references: list[ColumnReference]

    @cached_property
    def packed(self) -> PackedReferences:
        return PackedReferences(self.references)

    def to_json(self) -> dict:
        return {"phase": self.phase, "rows": self.rows, "references": [r.to_json() for r in self.references]}

    @classmethod
    def from_json(cls, data: dict) -> SegmentProfile:
        return cls(int(data["phase"]), int(data["rows"]), [ColumnReference.from_json(r) for r in data["references"]])


@dataclass
class RunProfile:
    experiment: int
    segments: list[SegmentProfile]


@dataclass
class SetupProfile:
    runs: list[RunProfile]
    flag_rates: dict[str, float]


@dataclass
class SetupDriftReference:
    """Per setup (``SetupKey.text``), per training run and phase, the feature columns' profiles."""

    feature_set: str
    columns: list[str]
    profiles: dict[str, SetupProfile]
    n_rows: int
    created_at: str
    sample_size: int = PROFILE_SAMPLE
    _nearest: OrderedDict = field(default_factory=OrderedDict, init=False, repr=False, compare=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False, compare=False)

    @property
    def setups(self) -> list[str]:
        return sorted(self.profiles)

    def nearest(self, setup: str, phase: int, block: np.ndarray, candidates: list[SegmentProfile]):
        """Per column the smallest PSI and KS of ``block`` (one whole stretch) over the candidate
        stretches, and its finite rows per column. Remembered for the last :data:`CACHED_STRETCHES`
        stretches: a live window slides by a few seconds, so all but its newest stretches were
        compared in the previous call."""
        key = (setup, phase, block.shape, hashlib.blake2b(np.ascontiguousarray(block).tobytes(), digest_size=16).digest())
        with self._lock:
            found = self._nearest.get(key)
            if found is not None:
                self._nearest.move_to_end(key)
                return found
        pairs = [candidate.packed.compare(block) for candidate in candidates]
        with np.errstate(all="ignore"):  # a column no candidate could compare stays NaN
            found = (np.fmin.reduce([p for p, _ in pairs]), np.fmin.reduce([k for _, k in pairs]),
                     np.isfinite(block).sum(axis=0))
        with self._lock:
            self._nearest[key] = found
            if len(self._nearest) > CACHED_STRETCHES:
                self._nearest.popitem(last=False)
        return found

    @classmethod
    def build(cls, samples: pd.DataFrame, feature_set: FeatureSet,
              sample_size: int = PROFILE_SAMPLE) -> SetupDriftReference:
        """The reference of ``Dataset.samples()``-shaped training rows (experiment, phase,
        feedrate, clamp_pressure, quality_flags). Rows without a known setup are left out."""
        missing = [c for c in ("experiment", "phase", "quality_flags") if c not in samples.columns]
        if missing:
            raise ValueError(f"training samples lack column(s) {', '.join(missing)}")
        setups = setups_of_rows(samples)
        known = setups != "setup unknown"
        if not known.any():
            raise ValueError("no training row has a known setup (feed rate and clamp pressure); "
                             "a per-setup drift reference needs train.csv or metadata")
        matrix = feature_set.matrix(samples)
        columns = list(feature_set.columns)
        experiments = samples["experiment"].to_numpy()
        phases = samples["phase"].to_numpy()
        flags = samples["quality_flags"].to_numpy()
        profiles: dict[str, SetupProfile] = {}
        for setup in sorted(set(setups[known])):
            in_setup = setups == setup
            runs = []
            for experiment in np.unique(experiments[in_setup]):
                rows = np.flatnonzero(in_setup & (experiments == experiment))
                segments = [SegmentProfile(int(phases[part[0]]), int(part.size), [
                                column_reference(name, sorted_finite(matrix[part, j]), sample_size)
                                for j, name in enumerate(columns)])
                            for part in phase_segments(phases[rows], rows) if part.size >= MIN_PHASE_ROWS]
                if segments:
                    runs.append(RunProfile(int(experiment), segments))
            if runs:
                profiles[setup] = SetupProfile(runs, flag_rates_of(flags[in_setup], int(in_setup.sum()), "build"))
        return cls(feature_set.key, columns, profiles, int(known.sum()),
                   datetime.now(timezone.utc).isoformat(timespec="seconds"), sample_size)

    def to_json(self) -> dict:
        return {
            "format": SETUP_REFERENCE_FORMAT,
            "feature_set": self.feature_set,
            "columns": list(self.columns),
            "n_rows": self.n_rows,
            "created_at": self.created_at,
            "sample_size": self.sample_size,
            "setups": {
                setup: {
                    "flag_rates": profile.flag_rates,
                    "runs": [{"experiment": run.experiment, "segments": [seg.to_json() for seg in run.segments]}
                             for run in profile.runs],
                }
                for setup, profile in self.profiles.items()
            },
        }

    @classmethod
    def from_json(cls, data: dict) -> SetupDriftReference:
        if data.get("format") != SETUP_REFERENCE_FORMAT:
            raise ValueError(f"unsupported setup drift reference format {data.get('format')!r}")
        columns = list(data["columns"])
        profiles = {}
        for setup, profile in data["setups"].items():
            runs = []
            for run in profile["runs"]:
                segments = [SegmentProfile.from_json(seg) for seg in run["segments"]]
                if any([r.name for r in seg.references] != columns for seg in segments):
                    raise ValueError(f"setup {setup}, experiment {run['experiment']}: "
                                     "the segment references do not match the columns")
                runs.append(RunProfile(int(run["experiment"]), segments))
            profiles[setup] = SetupProfile(runs, {k: float(v) for k, v in profile["flag_rates"].items()})
        return cls(data["feature_set"], columns, profiles, int(data["n_rows"]), data["created_at"],
                   int(data.get("sample_size", PROFILE_SAMPLE)))

    def save(self, path: str | Path) -> Path:
        """Write JSON atomically, synced to the disk."""
        return _write_json_atomic(self.to_json(), Path(path))

    @classmethod
    def load(cls, path: str | Path) -> SetupDriftReference:
        return cls.from_json(json.loads(Path(path).read_text(encoding="utf-8")))


def phase_segments(phases: np.ndarray, rows: np.ndarray | None = None) -> list[np.ndarray]:
    """The rows (``rows`` or positions) of each stretch of equal phase codes, in order."""
    rows = np.arange(len(phases)) if rows is None else rows
    change = np.flatnonzero(phases[1:] != phases[:-1]) + 1
    return np.split(rows, change)


def _phase_names(codes) -> str:
    return ", ".join(PHASES[c] if 0 <= c < len(PHASES) else str(c) for c in sorted(codes))


def compare(
    reference: SetupDriftReference,
    features: pd.DataFrame,
    phases: np.ndarray,
    setup: str,
    worn_probability: np.ndarray | None = None,
    flags: np.ndarray | None = None,
    thresholds: DriftThresholds | None = None,
) -> DriftReport:
    """A window of one setup (rows in time order, their phase codes) against the setup's reference
    runs (see the module docstring). Raises ValueError like :func:`.drift.compute_drift`."""
    thresholds = thresholds or DriftThresholds()
    setup = str(setup)
    n = check_window(features, reference.columns, reference.feature_set)
    phases = np.asarray(phases).ravel()
    if phases.size != n:
        raise ValueError(f"compare: phases has {phases.size} values for {n} rows")
    if not np.issubdtype(phases.dtype, np.integer):
        try:
            values = phases.astype(np.float64)
        except (TypeError, ValueError):
            raise ValueError("compare: phases must be the phase codes (the samples' phase column)") from None
        phases = np.where(np.isfinite(values), values, -1).astype(np.int64)  # an unknown phase is never in a reference
    probabilities = None
    if worn_probability is not None:
        probabilities = np.asarray(worn_probability, dtype=np.float64).ravel()
        if probabilities.size != n:
            raise ValueError(f"compare: worn_probability has {probabilities.size} values for {n} rows")
    rates = {} if flags is None else flag_rates_of(flags, n, "compare")
    finite = None if probabilities is None else probabilities[np.isfinite(probabilities)]
    mean = float(finite.mean()) if finite is not None and finite.size else None
    common = {"feature_set": reference.feature_set, "prediction_mean": mean, "rates": rates, "setup": setup}

    profile = reference.profiles.get(setup)
    if profile is None:
        note = (f"unfamiliar setup {setup}: no reference run; not judged as drift" if setup != "setup unknown" else
                "setup unknown (no feed rate and clamp pressure): no reference run; not judged as drift")
        report = drift_report([], n, thresholds, notes=[note], unfamiliar=True, **{**common, "rates": {}})
        report.flag_rates = rates  # kept, but not compared: no reference rates for this setup
        return report

    matrix = numeric_matrix(features, reference.columns)
    width = len(reference.columns)
    psi_sum = np.zeros(width)
    ks_sum = np.zeros(width)
    weight = np.zeros(width)
    judged, untaught = set(), set()
    by_phase: dict[int, list[SegmentProfile]] = {}
    for run in profile.runs:
        for segment in run.segments:
            by_phase.setdefault(segment.phase, []).append(segment)
    for rows in phase_segments(phases)[1:-1]:  # the first and the last: cut by the edges
        if rows.size < MIN_PHASE_ROWS:
            continue
        code = int(phases[rows[0]])
        candidates = by_phase.get(code)
        if not candidates:
            untaught.add(code)
            continue
        judged.add(code)
        nearest_psi, nearest_ks, rows_finite = reference.nearest(setup, code, matrix[rows[0]:rows[-1] + 1], candidates)
        compared = np.isfinite(nearest_psi)
        psi_sum[compared] += rows_finite[compared] * nearest_psi[compared]
        ks_sum[compared] += rows_finite[compared] * nearest_ks[compared]
        weight[compared] += rows_finite[compared]

    notes = []
    if judged:
        runs = ", ".join(str(run.experiment) for run in profile.runs)
        notes.append(f"setup {setup}: {_phase_names(judged)} compared with the nearest of run(s) {runs}")
    else:
        notes.append(f"setup {setup}: not judged; no whole phase of at least {MIN_PHASE_ROWS} rows in this window "
                     "that the reference has (phases cut by the window's edges are left out)")
    if untaught:
        notes.append(f"phase(s) {_phase_names(untaught)} not in the reference of this setup; not judged")
    drifts, empty = [], []
    for j, name in enumerate(reference.columns):
        if not weight[j]:
            if judged:
                empty.append(name)
            drifts.append(FeatureDrift(name, feature_group(name), None, None, "ok"))
            continue
        value_psi, value_ks = float(psi_sum[j] / weight[j]), float(ks_sum[j] / weight[j])
        drifts.append(FeatureDrift(name, feature_group(name), value_psi, value_ks, thresholds.level(value_psi, value_ks)))
    return drift_report(drifts, n, thresholds, reference_rates=profile.flag_rates, empty=empty,
                        any_feature_drifts=True, notes=notes, **common)
