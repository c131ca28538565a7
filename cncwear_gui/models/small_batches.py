"""Scoring a few rows with a scikit-learn forest, without its per-tree overhead.

``RandomForestClassifier.predict_proba`` sends every tree through joblib, each inside a config
context and a warnings filter: about 0.1 ms per tree whatever the batch, so 10 ms for 100 trees
on one thread and 35 ms with the thread pool on this 2-core machine. The live engine scores about
eight rows per pass, ten passes a second, where that overhead is nearly all the cost.
:class:`SmallBatchForest` sums the same trees' ``predict_proba`` in the same order and divides
as scikit-learn does, so its probabilities are bit-identical to scikit-learn's on one thread
(its thread pool may sum in another order: the last bit can differ; tests check both); a batch above
``max_rows`` goes to scikit-learn itself, whose thread pool pays off there.
"""

from __future__ import annotations

import numpy as np

MAX_ROWS = 256


class SmallBatchForest:
    """The Predictor interface (``predict``, ``predict_proba``, ``classes_``) of a fitted forest."""

    def __init__(self, forest, max_rows: int = MAX_ROWS):
        self.forest = forest
        self.max_rows = max_rows
        self.classes_ = forest.classes_

    def predict_proba(self, X) -> np.ndarray:
        if len(X) > self.max_rows:
            return self.forest.predict_proba(X)
        X32 = np.ascontiguousarray(X, dtype=np.float32)  # what scikit-learn's input check makes of it
        proba = np.zeros((len(X32), len(self.classes_)), dtype=np.float64)
        for tree in self.forest.estimators_:
            proba += tree.predict_proba(X32, check_input=False)
        proba /= len(self.forest.estimators_)
        return proba

    def predict(self, X) -> np.ndarray:
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]


def for_small_batches(estimator):
    """A :class:`SmallBatchForest` for a fitted single-output forest classifier, else ``estimator``."""
    from sklearn.ensemble._forest import ForestClassifier

    if (isinstance(estimator, ForestClassifier) and getattr(estimator, "n_outputs_", None) == 1
            and not hasattr(estimator, "feature_names_in_")):  # fitted on arrays, as the live engine scores
        return SmallBatchForest(estimator)
    return estimator
