"""Scoring a few rows with a scikit-learn forest, without its per-tree overhead.

``RandomForestClassifier.predict_proba`` sends every tree through joblib, each inside a config
context and a warnings filter: about 0.1 ms per tree whatever the batch, so 10 ms for 100 trees
on one thread and 35 ms with the thread pool on this 2-core machine. The live engine scores about
eight rows per pass, ten passes a second, where that overhead is nearly all the cost.
:class:`SmallBatchForest` sums the same trees in the same order and divides as scikit-learn does
(automl/forest_sum.py, which the AutoML sidecar uses too), so its probabilities are bit-identical
to scikit-learn's on one thread (its thread pool may sum in another order: the last bit can
differ; tests check both); a batch above ``max_rows`` goes to scikit-learn itself, whose thread
pool pays off there.
"""

from __future__ import annotations

import sys

import numpy as np

from ..automl.forest_sum import MAX_ROWS, ForestSum
from .predictor import ClassifierContract, as_matrix


class SmallBatchForest(ClassifierContract):
    """The Predictor interface of a fitted forest (see models/predictor.py), with the forest's own tags.

    ``feature_names`` are the columns it was fitted on (as arrays, so the forest itself has no
    ``feature_names_in_``); given, they are its ``feature_names_in_``.
    """

    def __init__(self, forest, max_rows: int = MAX_ROWS, feature_names: list[str] | None = None):
        import sklearn

        self.forest = forest
        self.max_rows = max_rows
        self.classes_ = forest.classes_
        self.n_features_in_ = forest.n_features_in_
        if feature_names is not None:
            if len(feature_names) != self.n_features_in_:
                raise ValueError(f"{len(feature_names)} feature names for a forest of {self.n_features_in_} features")
            self.feature_names_in_ = np.asarray(feature_names, dtype=object)
        self._sum = ForestSum(forest, sklearn.__version__)

    def __sklearn_tags__(self):
        return self.forest.__sklearn_tags__()

    def predict_proba(self, X) -> np.ndarray:
        X = as_matrix(self, X)
        if len(X) > self.max_rows or X.ndim != 2 or X.shape[1] != self.n_features_in_:
            return self.forest.predict_proba(X)  # scikit-learn's thread pool, or its own error
        return self._sum.predict_proba(X)

    def predict(self, X) -> np.ndarray:
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]


def for_small_batches(estimator, feature_names: list[str] | None = None, max_rows: int = MAX_ROWS):
    """A :class:`SmallBatchForest` for a fitted single-output forest classifier, else ``estimator``.

    ``max_rows=None``: every batch summed here, in tree order, never by scikit-learn's thread pool:
    the same rows give the same bits in any batch (what scoring files needs: a renamed copy of a
    file must get exactly the probabilities of the original)."""
    from sklearn.ensemble._forest import ForestClassifier

    if (isinstance(estimator, ForestClassifier) and getattr(estimator, "n_outputs_", None) == 1
            and not hasattr(estimator, "feature_names_in_")):  # fitted on arrays, as the live engine scores
        return SmallBatchForest(estimator, sys.maxsize if max_rows is None else max_rows, feature_names)
    return estimator
