"""Versioned feature sets. A feature set turns ``Dataset.samples()`` into a numeric matrix.

Each set declares what could let a model recognise the run instead of the tool:
- per-experiment constants from train.csv (feedrate, clamp_pressure): figures on such sets are
  labelled as seed-protocol only (PROVENANCE.md, leakage traps);
- setup-dependent columns (absolute positions, NC program and sequence numbers): they describe
  where and with which setup a run was cut (features/derived.py explains the 0.2 mm Z offset).
A set may also drop the samples the dataset calls unreliable from its training rows.
Outcomes (machining_finalized, passed_visual_inspection) are never features.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # pandas loads lazily: the GUI lists feature sets before its first paint
    import pandas as pd

from ..data.schema import DOCUMENTED_UNRELIABLE, OUTCOME_COLUMNS, QUALITY_FLAGS, SIGNAL_COLUMNS
from .derived import DERIVED, PROCESS_SIGNALS, SETUP_DEPENDENT_SIGNALS, compute

EXPERIMENT_CONSTANTS = ("feedrate", "clamp_pressure")


@dataclass(frozen=True)
class FeatureSet:
    name: str
    version: int
    description: str
    columns: tuple[str, ...]
    exclude_flags: int = 0  # quality-flag bits whose samples are left out of the training rows

    @property
    def uses_experiment_constants(self) -> bool:
        return any(column in EXPERIMENT_CONSTANTS for column in self.columns)

    @property
    def setup_dependent_columns(self) -> list[str]:
        return [column for column in self.columns if column in SETUP_DEPENDENT_SIGNALS]

    @property
    def inputs(self) -> tuple[str, ...]:
        """The sample columns the set reads (derived columns read signals)."""
        needed: dict[str, None] = {}
        for column in self.columns:
            for source in DERIVED[column][2] if column in DERIVED else (column,):
                needed[source] = None
        return tuple(needed)

    @property
    def key(self) -> str:
        return f"{self.name}@v{self.version}"

    def definition(self) -> dict:
        definition = {"name": self.name, "version": self.version, "description": self.description,
                      "columns": list(self.columns)}
        derived = {c: DERIVED[c][1] for c in self.columns if c in DERIVED}
        if derived:
            definition["derived"] = derived
        if self.exclude_flags:
            definition["exclude_flags"] = [name for bit, name, _ in QUALITY_FLAGS if self.exclude_flags & bit]
        return definition

    @property
    def fingerprint(self) -> str:
        """A hash of the definition: the same name and version must always mean the same features."""
        return hashlib.sha256(json.dumps(self.definition(), sort_keys=True).encode()).hexdigest()[:16]

    def build(self, samples: pd.DataFrame) -> pd.DataFrame:
        import pandas as pd

        return pd.DataFrame(self.matrix(samples), columns=list(self.columns), index=samples.index)

    def matrix(self, samples: pd.DataFrame) -> np.ndarray:
        """The features as a float64 array: what a model call needs, without an extra frame."""
        self._check(samples)
        if not any(column in DERIVED for column in self.columns):
            return samples[list(self.columns)].to_numpy(dtype=np.float64)
        out = np.empty((len(samples), len(self.columns)), dtype=np.float64)
        for index, column in enumerate(self.columns):
            out[:, index] = compute(samples, column) if column in DERIVED else samples[column].to_numpy(dtype=np.float64)
        return out

    def _check(self, samples: pd.DataFrame) -> None:
        missing = [c for c in self.inputs if c not in samples.columns]
        if missing:
            raise KeyError(f"feature set {self.key} needs column(s) {missing}")


_SEED = FeatureSet(
    name="seed_slides",
    version=1,
    description=(
        "As in the talk: all 47 signals, the Machining_Process phase code, and train.csv's "
        "feedrate and clamp_pressure. Per-experiment constants: valid for the seed protocol only."
    ),
    columns=(*SIGNAL_COLUMNS, "phase", *EXPERIMENT_CONSTANTS),
)
_SIGNALS = FeatureSet(
    name="signals",
    version=1,
    description="All 47 per-sample signals and the Machining_Process phase code; no train.csv constants.",
    columns=(*SIGNAL_COLUMNS, "phase"),
)
_PROCESS = FeatureSet(
    name="process",
    version=1,
    description=(
        "Signal-derived and setup-free: command-actual tracking errors, axis and spindle loads, "
        "loads per commanded path speed, and the phase; no absolute positions, no program or "
        "sequence numbers, no train.csv constants. Trains without the samples the dataset calls "
        "unreliable (M1_CURRENT_FEEDRATE == 50, X1_ActualPosition == 198)."
    ),
    columns=(*DERIVED, *PROCESS_SIGNALS, "phase"),
    exclude_flags=DOCUMENTED_UNRELIABLE,
)

FEATURE_SETS: dict[str, FeatureSet] = {fs.name: fs for fs in (_SEED, _SIGNALS, _PROCESS)}
DEFAULT_FEATURE_SET = _SEED.name

assert not any(c in OUTCOME_COLUMNS for fs in FEATURE_SETS.values() for c in fs.columns)
assert not _PROCESS.setup_dependent_columns and not _PROCESS.uses_experiment_constants


def training_rows(samples: pd.DataFrame, feature_set: FeatureSet) -> pd.DataFrame:
    """The labelled samples a model on this set trains and is evaluated on."""
    keep = samples["worn"].to_numpy() >= 0
    if feature_set.exclude_flags:
        keep &= (samples["quality_flags"].to_numpy() & feature_set.exclude_flags) == 0
    labelled = samples[keep]
    if labelled.empty:
        raise ValueError("no labelled experiments to train on (tool_condition comes from train.csv)")
    return labelled


def training_matrix(samples: pd.DataFrame, feature_set: FeatureSet) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(X, y, experiment groups) from the labelled rows of ``Dataset.samples()``."""
    labelled = training_rows(samples, feature_set)
    return (feature_set.matrix(labelled), labelled["worn"].to_numpy(dtype=np.int64),
            labelled["experiment"].to_numpy())


def get_feature_set(name: str) -> FeatureSet:
    """A feature set by name, or by key (``name@vN``, which must be the version this code defines)."""
    base, _, version = name.partition("@")
    feature_set = FEATURE_SETS.get(base)
    if feature_set is None or (version and version != f"v{feature_set.version}"):
        raise KeyError(f"unknown feature set '{name}'; known: {', '.join(fs.key for fs in FEATURE_SETS.values())}")
    return feature_set
