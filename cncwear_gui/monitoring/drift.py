"""Data and prediction drift: a reference profile of the training data, compared with live windows.

Every model carries a :class:`ReferenceProfile` of its training features (per-column bins and
their fractions, a sorted subsample for the Kolmogorov-Smirnov test, the predicted P(worn)
histogram and the data-quality flag rates). :func:`compute_drift` compares a window of new
samples with it and returns a :class:`DriftReport` whose ``reasons`` an engineer can read.

Per column:

* **PSI** (population stability index) over the reference bins:
  ``sum((a - e) * ln(a / e))`` with ``e`` the reference and ``a`` the window fraction per bin.
  Numeric columns use up to 10 bins whose inner edges are the reference deciles (duplicate
  edges collapsed, outer bins open to -inf/+inf; a bin is ``(lower, upper]``). Columns with at
  most 20 distinct reference values (``phase``, feedrate, clamp_pressure, several M1 columns,
  the quantised OutputCurrent columns) use one bin per reference value plus an "other" bin for
  values never seen in training (reference fraction 0). Empty bins would make the logarithm
  infinite, so both fractions are clipped from below to :data:`PSI_EPSILON` (1e-4) before the
  sum (no renormalisation; the error is at most 1e-4 per bin). A window whose values were never
  seen in training ("other" bin) then scores a finite PSI of about ``2 * ln(1e4) = 18.4`` minus
  the entropy of the reference bins, the largest PSI there is; a numeric column whose window
  falls entirely into one outer decile bin scores about 8.3.
* **KS**: the two-sample Kolmogorov-Smirnov statistic (largest distance between the empirical
  CDFs) of the window against the reference subsample, computed exactly as
  ``scipy.stats.ks_2samp(...).statistic`` does, on sorted arrays with ``searchsorted``.

Non-finite values (NaN, +-inf) are ignored column by column; how often they occur is reported
through the ``non_finite`` data-quality flag rate instead. A column with no finite value in the
window has ``psi``/``ks`` of ``None`` and is named in the reasons.

Qt-free: numpy and pandas only.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..atomic_files import write_atomic

if TYPE_CHECKING:  # pandas loads lazily: the GUI's Monitoring view uses this module's constants
    import pandas as pd

FEATURE_GROUPS: tuple[str, ...] = ("X1", "Y1", "Z1", "S1", "M1", "process")
_SIGNAL_GROUPS = FEATURE_GROUPS[:-1]

PSI_EPSILON = 1e-4  # floor for bin fractions in the PSI sum (empty bins)
MAX_BINS = 10  # numeric columns: deciles -> at most 10 bins
MAX_CATEGORIES = 20  # columns with at most this many distinct values are binned per value
SAMPLE_SIZE = 2000  # sorted reference subsample per column, for KS
PREDICTION_EDGES: tuple[float, ...] = tuple(i / 10 for i in range(11))  # P(worn) bins 0, 0.1, ..., 1
PROFILE_FORMAT = 1
REPORT_FORMAT = 1
LEVELS = ("ok", "warn", "alarm")


def feature_group(column: str) -> str:
    """The signal group of a feature column: X1, Y1, Z1, S1, M1 by prefix, else "process"."""
    prefix = column.split("_", 1)[0]
    return prefix if prefix in _SIGNAL_GROUPS and "_" in column else "process"


@dataclass
class DriftThresholds:
    """When a feature, the predictions or the whole window count as drifted.

    * ``psi_warn`` 0.1 and ``psi_alarm`` 0.25: the credit-scoring convention for the
      population stability index that the industry adopted (< 0.1 no significant change,
      0.1-0.25 moderate change worth a look, > 0.25 significant shift). A random half of the
      training rows scores about 0.001 against the full set, so 0.1 is far above sampling noise
      for windows of a few hundred rows and more.
    * ``ks_alarm`` 0.3: a KS statistic of 0.3 means the two empirical CDFs are 30 percentage
      points apart somewhere, which PSI can miss when a shift stays inside one wide decile bin.
      The sampling noise of KS against a 2,000-value reference for a 10-minute window (6,000
      rows) is about 0.03 (95 % critical value 1.36 * sqrt(1/2000 + 1/6000)), and about 0.14 for
      a 10-second window of 100 rows, so 0.3 only fires on real shifts.
    * ``prediction_psi_alarm`` 0.25: the same PSI convention on the 10-bin P(worn) histogram.
    * ``min_drifted_share`` 0.1: the whole window counts as drifted when at least this share of
      the features is at alarm level (or the prediction PSI is). The often quoted 0.25 would need
      13 of ~50 features, so a shift confined to one physical quantity, e.g. the current and
      power of the X and Y axes (6 columns, 12 %), would never be reported as drift although it
      changes what the model sees most; 0.1 (5 of 50 columns) reports it while one or two noisy
      columns alone do not.
    * ``flag_rate_increase`` 0.05: a data-quality flag is named in the reasons when its rate in
      the window is at least 5 percentage points above the reference rate (it does not by itself
      make the window drifted; it explains odd values).
    """

    psi_warn: float = 0.1
    psi_alarm: float = 0.25
    ks_alarm: float = 0.3
    prediction_psi_alarm: float = 0.25
    min_drifted_share: float = 0.1
    flag_rate_increase: float = 0.05

    def level(self, psi: float | None, ks: float | None) -> str:
        if psi is None:
            return "ok"
        if psi >= self.psi_alarm or (ks is not None and ks >= self.ks_alarm):
            return "alarm"
        return "warn" if psi >= self.psi_warn else "ok"


# --- the reference profile -------------------------------------------------------------------


@dataclass
class ColumnReference:
    """One column of a reference profile.

    ``kind`` "numeric": ``edges`` are the inner bin edges (bins ``(-inf, e0], (e0, e1], ...,
    (e_last, +inf)``). ``kind`` "categorical": ``categories`` are the reference values, and
    ``fractions`` has one more entry than categories, for values never seen (always 0 here).
    ``sample`` is a sorted subsample (at most 2,000 values) of the finite reference values.
    """

    name: str
    kind: str
    fractions: list[float]
    sample: list[float]
    n_finite: int
    edges: list[float] = field(default_factory=list)
    categories: list[float] = field(default_factory=list)

    @cached_property
    def _edges(self) -> np.ndarray:
        return np.asarray(self.edges, dtype=np.float64)

    @cached_property
    def _categories(self) -> np.ndarray:
        return np.asarray(self.categories, dtype=np.float64)

    @cached_property
    def _fractions(self) -> np.ndarray:
        return np.asarray(self.fractions, dtype=np.float64)

    @cached_property
    def _sample(self) -> np.ndarray:
        return np.asarray(self.sample, dtype=np.float64)

    def counts(self, sorted_values: np.ndarray) -> np.ndarray:
        """Bin counts of sorted finite values (same bins as ``fractions``)."""
        if self.kind == "numeric":
            below = np.searchsorted(sorted_values, self._edges, side="right")
            return np.diff(np.concatenate(([0], below, [sorted_values.size])))
        categories = self._categories
        right = np.searchsorted(sorted_values, categories, side="right")
        left = np.searchsorted(sorted_values, categories, side="left")
        per_category = right - left
        return np.append(per_category, sorted_values.size - per_category.sum())

    def to_json(self) -> dict:
        data = {"name": self.name, "kind": self.kind, "n_finite": self.n_finite}
        if self.kind == "numeric":
            data["edges"] = list(self.edges)
        else:
            data["categories"] = list(self.categories)
        data["fractions"] = list(self.fractions)
        data["sample"] = list(self.sample)
        return data

    @classmethod
    def from_json(cls, data: dict) -> ColumnReference:
        return cls(
            name=data["name"],
            kind=data["kind"],
            fractions=[float(v) for v in data["fractions"]],
            sample=[float(v) for v in data["sample"]],
            n_finite=int(data["n_finite"]),
            edges=[float(v) for v in data.get("edges", [])],
            categories=[float(v) for v in data.get("categories", [])],
        )


@dataclass
class ReferenceProfile:
    """The training-data reference stored with each model (see the module docstring)."""

    feature_set: str
    columns: list[str]
    references: dict[str, ColumnReference]
    n_rows: int
    created_at: str
    prediction_fractions: list[float] | None = None  # P(worn) on PREDICTION_EDGES
    prediction_mean: float | None = None
    flag_rates: dict[str, float] | None = None

    def to_json(self) -> dict:
        return {
            "format": PROFILE_FORMAT,
            "feature_set": self.feature_set,
            "columns": list(self.columns),
            "n_rows": self.n_rows,
            "created_at": self.created_at,
            "prediction_edges": list(PREDICTION_EDGES),
            "prediction_fractions": self.prediction_fractions,
            "prediction_mean": self.prediction_mean,
            "flag_rates": self.flag_rates,
            "references": [self.references[c].to_json() for c in self.columns],
        }

    @classmethod
    def from_json(cls, data: dict) -> ReferenceProfile:
        if data.get("format") != PROFILE_FORMAT:
            raise ValueError(f"unsupported reference profile format {data.get('format')!r}")
        references = {r["name"]: ColumnReference.from_json(r) for r in data["references"]}
        columns = list(data["columns"])
        missing = [c for c in columns if c not in references]
        if missing:
            raise ValueError(f"reference profile has no bins for column(s) {missing}")
        fractions = data.get("prediction_fractions")
        mean = data.get("prediction_mean")
        rates = data.get("flag_rates")
        return cls(
            feature_set=data["feature_set"],
            columns=columns,
            references=references,
            n_rows=int(data["n_rows"]),
            created_at=data["created_at"],
            prediction_fractions=None if fractions is None else [float(v) for v in fractions],
            prediction_mean=None if mean is None else float(mean),
            flag_rates=None if rates is None else {k: float(v) for k, v in rates.items()},
        )

    def save(self, path: str | Path) -> Path:
        """Write JSON atomically (:func:`cncwear_gui.atomic_files.write_atomic`), synced to the disk."""
        return _write_json_atomic(self.to_json(), Path(path))

    @classmethod
    def load(cls, path: str | Path) -> ReferenceProfile:
        return cls.from_json(json.loads(Path(path).read_text(encoding="utf-8")))


def _write_json_atomic(data: dict, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    return write_atomic(path, json.dumps(data, allow_nan=False))


def numeric_matrix(features: pd.DataFrame, columns: list[str]) -> np.ndarray:
    try:
        return features[columns].to_numpy(dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise ValueError(f"feature columns must be numeric: {error}") from None


def sorted_finite(column: np.ndarray) -> np.ndarray:
    finite = np.isfinite(column)
    return np.sort(column if finite.all() else column[finite])


def _subsample(sorted_values: np.ndarray, size: int = SAMPLE_SIZE) -> np.ndarray:
    """At most ``size`` values at evenly spaced ranks (deterministic, keeps min and max)."""
    if sorted_values.size <= size:
        return sorted_values
    ranks = np.round(np.linspace(0, sorted_values.size - 1, size)).astype(np.int64)
    return sorted_values[ranks]


def column_reference(name: str, sorted_values: np.ndarray, sample_size: int = SAMPLE_SIZE) -> ColumnReference:
    """The reference of one column from its sorted finite values; ``sample_size`` caps the KS
    subsample (a compact profile of a few hundred rows needs fewer than the model's 2,000)."""
    n = int(sorted_values.size)
    distinct = np.unique(sorted_values)
    sample = _subsample(sorted_values, sample_size).tolist()
    if distinct.size <= MAX_CATEGORIES:
        reference = ColumnReference(name, "categorical", [], sample, n, categories=distinct.tolist())
    else:
        inner = np.quantile(sorted_values, np.arange(1, MAX_BINS) / MAX_BINS)
        reference = ColumnReference(name, "numeric", [], sample, n, edges=np.unique(inner).tolist())
    counts = reference.counts(sorted_values)
    reference.fractions = (counts / n).tolist() if n else [0.0] * counts.size
    return reference


def _probabilities(worn_probability, n: int, what: str) -> np.ndarray:
    values = np.asarray(worn_probability, dtype=np.float64).ravel()
    if values.size != n:
        raise ValueError(f"{what}: worn_probability has {values.size} values for {n} rows")
    return values


def prediction_histogram(values) -> tuple[np.ndarray, float | None]:
    """P(worn) values on :data:`PREDICTION_EDGES` (10 bins over [0, 1], values clipped into it) as
    fractions of the finite values, and their mean (zeros and None without a finite value)."""
    values = np.asarray(values, dtype=np.float64).ravel()
    finite = values[np.isfinite(values)]
    if not finite.size:
        return np.zeros(len(PREDICTION_EDGES) - 1), None
    counts, _ = np.histogram(np.clip(finite, 0.0, 1.0), bins=np.asarray(PREDICTION_EDGES))
    return counts / finite.size, float(finite.mean())


def flag_rates_of(flags, n: int, what: str) -> dict[str, float]:
    values = np.asarray(flags).ravel()
    if values.size != n:
        raise ValueError(f"{what}: flags has {values.size} values for {n} rows")
    if not np.issubdtype(values.dtype, np.integer):
        raise ValueError(f"{what}: flags must be an integer bitmask (the quality_flags column)")
    from ..data.validation import flag_counts  # (loads pandas)

    return {name: count / n for name, count in flag_counts(values.astype(np.int64)).items()}


def build_reference(
    features: pd.DataFrame,
    feature_set: str,
    worn_probability: np.ndarray | None = None,
    flags: np.ndarray | None = None,
) -> ReferenceProfile:
    """The reference profile of a training matrix (``FeatureSet.build(samples)``).

    ``worn_probability``: the model's P(worn) on these rows, for the prediction histogram.
    ``flags``: the rows' ``quality_flags`` bitmask, for the reference data-quality flag rates.
    """
    import pandas as pd

    if not isinstance(features, pd.DataFrame):
        raise ValueError("features must be a pandas DataFrame")
    if features.empty or not len(features.columns):
        raise ValueError("cannot build a drift reference from an empty feature frame")
    columns = [str(c) for c in features.columns]
    matrix = numeric_matrix(features, list(features.columns))
    references = {name: column_reference(name, sorted_finite(matrix[:, j])) for j, name in enumerate(columns)}
    n = len(features)
    profile = ReferenceProfile(
        feature_set=feature_set,
        columns=columns,
        references=references,
        n_rows=n,
        created_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
    )
    if worn_probability is not None:
        fractions, mean = prediction_histogram(_probabilities(worn_probability, n, "build_reference"))
        profile.prediction_fractions = fractions.tolist()
        profile.prediction_mean = mean
    if flags is not None:
        profile.flag_rates = flag_rates_of(flags, n, "build_reference")
    return profile


# --- comparing a window with the reference ---------------------------------------------------


def psi(reference_fractions: np.ndarray, window_fractions: np.ndarray, epsilon: float = PSI_EPSILON) -> float:
    """Population stability index of two binned distributions (fractions clipped to ``epsilon``)."""
    expected = np.maximum(np.asarray(reference_fractions, dtype=np.float64), epsilon)
    actual = np.maximum(np.asarray(window_fractions, dtype=np.float64), epsilon)
    return float(np.sum((actual - expected) * np.log(actual / expected)))


def ks_statistic(sorted_reference: np.ndarray, sorted_window: np.ndarray) -> float:
    """Two-sample KS statistic of two sorted arrays (the same value as scipy's ks_2samp)."""
    both = np.concatenate((sorted_reference, sorted_window))
    cdf_reference = np.searchsorted(sorted_reference, both, side="right") / sorted_reference.size
    cdf_window = np.searchsorted(sorted_window, both, side="right") / sorted_window.size
    return float(np.max(np.abs(cdf_reference - cdf_window)))


@dataclass
class FeatureDrift:
    name: str
    group: str
    psi: float | None
    ks: float | None
    level: str  # "ok" | "warn" | "alarm"


@dataclass
class DriftReport:
    """A window compared with a reference. ``features`` is sorted by PSI, largest first.

    ``drifted`` is decided by the features (share at alarm level, or any one of them in a
    per-setup check) and the prediction PSI only; ``reasons`` also names data-quality flags that
    rose, which explain odd values but are not drift of the process themselves. ``setup``: the
    setup judged in a per-setup check (``monitoring.setup_drift``); ``unfamiliar``: the reference
    has no run of that setup, so the window was not judged.
    """

    features: list[FeatureDrift]
    group_psi: dict[str, float]
    prediction_psi: float | None
    prediction_mean: float | None
    reference_prediction_mean: float | None
    flag_rates: dict[str, float]
    reference_flag_rates: dict[str, float]
    n_rows: int
    drifted: bool
    reasons: list[str]
    feature_set: str = ""
    thresholds: DriftThresholds = field(default_factory=DriftThresholds)
    setup: str = ""
    unfamiliar: bool = False

    def top(self, n: int = 5) -> list[FeatureDrift]:
        return self.features[:n]

    @property
    def alarms(self) -> list[FeatureDrift]:
        return [f for f in self.features if f.level == "alarm"]

    def feature(self, name: str) -> FeatureDrift:
        for drift in self.features:
            if drift.name == name:
                return drift
        raise KeyError(name)

    def to_json(self) -> dict:
        data = asdict(self)
        data["format"] = REPORT_FORMAT
        return data

    @classmethod
    def from_json(cls, data: dict) -> DriftReport:
        if data.get("format") != REPORT_FORMAT:
            raise ValueError(f"unsupported drift report format {data.get('format')!r}")
        fields_ = {k: v for k, v in data.items() if k != "format"}
        fields_["features"] = [FeatureDrift(**f) for f in data["features"]]
        fields_["thresholds"] = DriftThresholds(**data.get("thresholds", {}))
        return cls(**fields_)

    def save(self, path: str | Path) -> Path:
        return _write_json_atomic(self.to_json(), Path(path))

    @classmethod
    def load(cls, path: str | Path) -> DriftReport:
        return cls.from_json(json.loads(Path(path).read_text(encoding="utf-8")))


def _names(drifts: list[FeatureDrift], n: int = 3) -> str:
    return ", ".join(f"{d.name} PSI {d.psi:.2f}" for d in drifts[:n])


class PackedReferences:
    """Column references packed into padded arrays: a whole block of rows is compared with all of
    them in a few numpy calls (the same PSI and KS as :func:`column_drift`, column by column).

    For the per-setup check, which compares many short phase segments with many small profiles,
    where a Python loop over columns would cost more than the arithmetic.
    """

    def __init__(self, references: list[ColumnReference]):
        self.references = references
        width = len(references)
        numeric = [j for j, r in enumerate(references) if r.kind == "numeric"]
        categorical = [j for j, r in enumerate(references) if r.kind != "numeric"]
        self._numeric, self._categorical = np.asarray(numeric, np.int64), np.asarray(categorical, np.int64)
        n_edges = max([len(references[j].edges) for j in numeric], default=0)
        n_categories = max([len(references[j].categories) for j in categorical], default=0)
        self._edges = np.full((len(numeric), n_edges), np.inf)
        self._categories = np.full((len(categorical), n_categories), np.nan)
        # bins per column: numeric e+1 bins then zeros; categorical its values, zeros, then "other"
        self._bins = max(n_edges + 1, n_categories + 1)
        self._fractions = np.zeros((width, self._bins))
        for row, j in enumerate(numeric):
            edges, fractions = references[j].edges, references[j].fractions
            self._edges[row, :len(edges)] = edges
            self._fractions[j, :len(fractions)] = fractions
        for row, j in enumerate(categorical):
            categories, fractions = references[j].categories, references[j].fractions
            self._categories[row, :len(categories)] = categories
            self._fractions[j, :len(categories)] = fractions[:-1]
            self._fractions[j, n_categories] = fractions[-1]
        size = max([len(r.sample) for r in references], default=0)
        self._sample = np.full((size, width), np.nan)
        for j, r in enumerate(references):
            self._sample[:len(r.sample), j] = r.sample
        self._sample_n = np.asarray([len(r.sample) for r in references], dtype=np.float64)
        self._referenced = np.asarray([r.n_finite > 0 for r in references])

    def compare(self, block: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """PSI and KS per column of ``block`` (rows × the references' columns); NaN where the
        block or the reference has no finite value in that column. Non-finite values are ignored."""
        finite = np.isfinite(block)
        values = block if finite.all() else np.where(finite, block, np.nan)
        n = finite.sum(axis=0).astype(np.float64)
        counts = np.zeros((block.shape[1], self._bins))
        if self._numeric.size:
            below = (values[:, self._numeric, None] <= self._edges[None]).sum(axis=0)  # columns × edges
            total = n[self._numeric, None]
            counts[self._numeric, :below.shape[1] + 1] = np.diff(np.concatenate(
                (np.zeros_like(total), below, total), axis=1), axis=1)
        if self._categorical.size:
            per_category = (values[:, self._categorical, None] == self._categories[None]).sum(axis=0)
            k = per_category.shape[1]
            counts[self._categorical, :k] = per_category
            counts[self._categorical, k] = n[self._categorical] - per_category.sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            actual = np.maximum(counts / n[:, None], PSI_EPSILON)
            expected = np.maximum(self._fractions, PSI_EPSILON)
            psi_values = np.sum((actual - expected) * np.log(actual / expected), axis=1)
            ks_values = self._ks(values, n)
        missing = (n == 0) | ~self._referenced
        psi_values[missing] = np.nan
        ks_values[missing] = np.nan
        return psi_values, ks_values

    def _ks(self, values: np.ndarray, n: np.ndarray) -> np.ndarray:
        """Exact two-sample KS per column: one sort of sample and block together (NaN sort last),
        the CDF distance read at the last of each run of equal values."""
        both = np.concatenate((self._sample, values))
        is_sample = np.zeros(both.shape, dtype=np.float64)
        is_sample[:self._sample.shape[0]] = 1.0
        order = np.argsort(both, axis=0, kind="stable")
        ordered = np.take_along_axis(both, order, axis=0)
        from_sample = np.take_along_axis(is_sample, order, axis=0)
        valid = np.isfinite(ordered)
        cdf_sample = np.cumsum(from_sample * valid, axis=0) / self._sample_n
        cdf_window = np.cumsum((1.0 - from_sample) * valid, axis=0) / n
        last_of_run = np.ones(ordered.shape, dtype=bool)
        last_of_run[:-1] = ordered[1:] != ordered[:-1]
        distance = np.where(valid & last_of_run, np.abs(cdf_sample - cdf_window), 0.0)
        return distance.max(axis=0) if len(distance) else np.zeros(values.shape[1])


def column_drift(reference: ColumnReference, sorted_values: np.ndarray) -> tuple[float, float]:
    """PSI and KS of one column's sorted finite window values against its reference."""
    fractions = reference.counts(sorted_values) / sorted_values.size
    return psi(reference._fractions, fractions), ks_statistic(reference._sample, sorted_values)


def compute_drift(
    reference: ReferenceProfile,
    features: pd.DataFrame,
    worn_probability: np.ndarray | None = None,
    flags: np.ndarray | None = None,
    thresholds: DriftThresholds | None = None,
) -> DriftReport:
    """Compare a window of new feature rows (and optionally its P(worn) and flags) with a reference.

    ``features`` needs every reference column (extra columns are ignored). ``worn_probability``
    gives ``prediction_mean`` and, when the reference has a P(worn) histogram, ``prediction_psi``.
    ``flags`` is the window's ``quality_flags`` bitmask. Raises ValueError for missing columns,
    an empty window, non-numeric columns, or probabilities/flags of the wrong length.
    """
    thresholds = thresholds or DriftThresholds()
    n = check_window(features, reference.columns, reference.feature_set)
    probabilities = None if worn_probability is None else _probabilities(worn_probability, n, "compute_drift")
    rates = {} if flags is None else flag_rates_of(flags, n, "compute_drift")

    matrix = numeric_matrix(features, reference.columns)
    drifts: list[FeatureDrift] = []
    empty: list[str] = []  # no finite value in the window
    unreferenced: list[str] = []  # no finite value in the reference
    for j, name in enumerate(reference.columns):
        column_reference = reference.references[name]
        values = sorted_finite(matrix[:, j])
        if not values.size or not column_reference.n_finite:
            (unreferenced if not column_reference.n_finite else empty).append(name)
            drifts.append(FeatureDrift(name, feature_group(name), None, None, "ok"))
            continue
        value_psi, value_ks = column_drift(column_reference, values)
        drifts.append(FeatureDrift(name, feature_group(name), value_psi, value_ks, thresholds.level(value_psi, value_ks)))

    prediction_psi = prediction_mean = None
    if probabilities is not None:
        fractions, prediction_mean = prediction_histogram(probabilities)
        if reference.prediction_fractions is not None and prediction_mean is not None:
            prediction_psi = psi(reference.prediction_fractions, fractions)
    return drift_report(drifts, n, thresholds, feature_set=reference.feature_set, prediction_psi=prediction_psi,
                        prediction_mean=prediction_mean, reference_prediction_mean=reference.prediction_mean,
                        rates=rates, reference_rates=reference.flag_rates, empty=empty, unreferenced=unreferenced)


def check_window(features: pd.DataFrame, columns: list[str], feature_set: str) -> int:
    """The window's row count; raises ValueError for a non-frame, missing columns or no rows."""
    import pandas as pd

    if not isinstance(features, pd.DataFrame):
        raise ValueError("features must be a pandas DataFrame")
    missing = [c for c in columns if c not in features.columns]
    if missing:
        raise ValueError(
            f"the window lacks {len(missing)} column(s) of the reference ({feature_set}): " + ", ".join(missing)
        )
    if len(features) == 0:
        raise ValueError("cannot compute drift on an empty window (0 rows)")
    return len(features)


def drift_report(
    drifts: list[FeatureDrift],
    n_rows: int,
    thresholds: DriftThresholds,
    *,
    feature_set: str = "",
    prediction_psi: float | None = None,
    prediction_mean: float | None = None,
    reference_prediction_mean: float | None = None,
    rates: dict[str, float] | None = None,
    reference_rates: dict[str, float] | None = None,
    empty: list[str] = (),
    unreferenced: list[str] = (),
    any_feature_drifts: bool = False,
    notes: list[str] = (),
    setup: str = "",
    unfamiliar: bool = False,
) -> DriftReport:
    """The report of per-feature drifts: sorted, per group, with the reasons and the decision.

    Drifted when at least ``min_drifted_share`` of the compared features are at alarm level (with
    ``any_feature_drifts``: any one of them), or the prediction PSI is. ``notes`` lead the reasons.
    """
    drifts = sorted(drifts, key=lambda d: -d.psi if d.psi is not None else math.inf)
    group_psi: dict[str, float] = {}
    for group in FEATURE_GROUPS:
        values = [d.psi for d in drifts if d.group == group and d.psi is not None]
        if values:
            group_psi[group] = max(values)

    reasons: list[str] = list(notes)
    compared = [d for d in drifts if d.psi is not None]
    alarms = [d for d in compared if d.level == "alarm"]
    warnings = [d for d in compared if d.level == "warn"]
    if alarms:
        reasons.append(
            f"{len(alarms)} of {len(compared)} features drifted (PSI ≥ {thresholds.psi_alarm:g} or "
            f"KS ≥ {thresholds.ks_alarm:g}); largest: {_names(alarms)}"
        )
    if warnings:
        reasons.append(
            f"{len(warnings)} feature(s) changed moderately (PSI ≥ {thresholds.psi_warn:g}); "
            f"largest: {_names(warnings)}"
        )
    prediction_drifted = prediction_psi is not None and prediction_psi >= thresholds.prediction_psi_alarm
    if prediction_drifted:
        before = "?" if reference_prediction_mean is None else f"{reference_prediction_mean:.2f}"
        reasons.append(
            f"predicted P(worn) distribution shifted: PSI {prediction_psi:.2f} (mean {before} → {prediction_mean:.2f})"
        )
    rates = dict(rates or {})
    reference_rates = dict(reference_rates or {})
    for name, rate in rates.items():
        before = reference_rates.get(name, 0.0)
        if rate - before >= thresholds.flag_rate_increase:
            reasons.append(f"data-quality flag '{name}' on {rate * 100:.1f} % of rows (reference {before * 100:.1f} %)")
    if empty:
        reasons.append(f"no finite values in this window for {len(empty)} feature(s): {', '.join(empty)}")
    if unreferenced:
        reasons.append(f"not compared, no finite values in the reference: {', '.join(unreferenced)}")

    share = len(alarms) / len(compared) if compared else 0.0
    features_drifted = bool(alarms) and (any_feature_drifts or share >= thresholds.min_drifted_share)
    return DriftReport(
        features=drifts,
        group_psi=group_psi,
        prediction_psi=prediction_psi,
        prediction_mean=prediction_mean,
        reference_prediction_mean=reference_prediction_mean,
        flag_rates=rates,
        reference_flag_rates=reference_rates,
        n_rows=n_rows,
        drifted=bool(features_drifted or prediction_drifted),
        reasons=reasons,
        feature_set=feature_set,
        thresholds=thresholds,
        setup=setup,
        unfamiliar=unfamiliar,
    )
