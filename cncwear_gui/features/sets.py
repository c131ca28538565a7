"""Versioned feature sets. A feature set turns ``Dataset.samples()`` into a numeric matrix.

Each set declares whether it carries per-experiment constants from train.csv (feedrate,
clamp_pressure): those let a model recognise the experiment instead of the tool
(PROVENANCE.md, leakage traps), so figures on such sets are labelled as seed-protocol only.
Outcomes (machining_finalized, passed_visual_inspection) are never features.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..data.schema import OUTCOME_COLUMNS, SIGNAL_COLUMNS

EXPERIMENT_CONSTANTS = ("feedrate", "clamp_pressure")


@dataclass(frozen=True)
class FeatureSet:
    name: str
    version: int
    description: str
    columns: tuple[str, ...]

    @property
    def uses_experiment_constants(self) -> bool:
        return any(column in EXPERIMENT_CONSTANTS for column in self.columns)

    @property
    def key(self) -> str:
        return f"{self.name}@v{self.version}"

    def definition(self) -> dict:
        return {"name": self.name, "version": self.version, "description": self.description, "columns": list(self.columns)}

    @property
    def fingerprint(self) -> str:
        """A hash of the definition: the same name and version must always mean the same features."""
        return hashlib.sha256(json.dumps(self.definition(), sort_keys=True).encode()).hexdigest()[:16]

    def build(self, samples: pd.DataFrame) -> pd.DataFrame:
        self._check(samples)
        return samples[list(self.columns)].astype("float64")

    def matrix(self, samples: pd.DataFrame) -> np.ndarray:
        """The features as a float64 array: what a model call needs, without an extra frame."""
        self._check(samples)
        return samples[list(self.columns)].to_numpy(dtype=np.float64)

    def _check(self, samples: pd.DataFrame) -> None:
        missing = [c for c in self.columns if c not in samples.columns]
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

FEATURE_SETS: dict[str, FeatureSet] = {fs.name: fs for fs in (_SEED, _SIGNALS)}
DEFAULT_FEATURE_SET = _SEED.name

assert not any(c in OUTCOME_COLUMNS for fs in FEATURE_SETS.values() for c in fs.columns)


def training_matrix(samples: pd.DataFrame, feature_set: FeatureSet) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(X, y, experiment groups) from the labelled rows of ``Dataset.samples()``."""
    labelled = samples[samples["worn"] >= 0]
    if labelled.empty:
        raise ValueError("no labelled experiments to train on (tool_condition comes from train.csv)")
    X = feature_set.build(labelled).to_numpy()
    return X, labelled["worn"].to_numpy(dtype=np.int64), labelled["experiment"].to_numpy()


def get_feature_set(name: str) -> FeatureSet:
    try:
        return FEATURE_SETS[name]
    except KeyError:
        raise KeyError(f"unknown feature set '{name}'; known: {', '.join(FEATURE_SETS)}") from None
