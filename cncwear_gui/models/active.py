"""The model the app currently predicts with, and how it turns samples into worn probabilities.

``estimator`` follows the scikit-learn contract (predict, predict_proba, classes_); the AutoML
issue's sidecar predictor will satisfy the same contract, so nothing downstream changes.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from ..features.sets import FeatureSet

WORN = 1
FIRST_START_VERSION = "first start, being registered"  # fitted and verified, not in the registry yet
FIRST_START_FAILED_VERSION = "first start, not registered"  # its registration failed or was cancelled


@dataclass
class ActiveModel:
    name: str  # registered model name
    version: str  # registry version ("local" when not registered)
    engine: str  # e.g. "scikit-learn RandomForest"
    feature_set: FeatureSet
    estimator: object
    trained_at: str = ""
    run_id: str = ""

    @property
    def label(self) -> str:
        return f"{self.name} ({self.version})" if self.first_start_unregistered else f"{self.name} v{self.version}"

    @property
    def first_start_unregistered(self) -> bool:
        """A first start's model the registry does not have (yet): no live machine scores with it."""
        return self.version in (FIRST_START_VERSION, FIRST_START_FAILED_VERSION)

    def registration_failed(self) -> ActiveModel:
        return replace(self, version=FIRST_START_FAILED_VERSION) if self.version == FIRST_START_VERSION else self

    def worn_probability(self, samples: pd.DataFrame) -> np.ndarray:
        """P(worn) per row of ``Dataset.samples()``-shaped data."""
        if samples.empty:
            return np.empty(0)
        return self.probability_of(self.feature_set.build(samples).to_numpy())

    def probability_of(self, features: np.ndarray) -> np.ndarray:
        """P(worn) per row of an already built feature matrix (see ``feature_set.build``)."""
        if not len(features):
            return np.empty(0)
        proba = self.estimator.predict_proba(features)
        column = list(self.estimator.classes_).index(WORN)
        return proba[:, column]
