"""A fitted scikit-learn forest's ``predict_proba`` for a few rows, without its per-tree overhead.

A forest's ``predict_proba`` sends every tree through joblib, a fitted check and an input check:
0.05-0.1 ms per tree whatever the batch (scikit-learn 0.24.2 in the AutoML runtime, 1.x in the
main one), which is nearly all the cost for the few rows the live engine and the sidecar score.
:class:`ForestSum` does the same arithmetic without it: each tree's leaf values
(``tree_.predict``), their first ``n_classes`` columns, normalised to sum to one as the tree's
own ``predict_proba`` does before scikit-learn 1.4 (whose leaves hold weighted counts; from 1.4
they hold the class fractions, returned as they are), summed in tree order into float64 zeros and
divided by the number of trees. The result is bit-identical to scikit-learn's on one thread.

Both runtimes import this file: the main one as ``cncwear_gui.automl.forest_sum``
(models/small_batches.py), the AutoML runtime's sidecar script as a sibling file
(sidecar_forests.py), where cncwear_gui may not be importable. So it stays numpy only,
Python 3.9 compatible, and imports nothing from cncwear_gui.
"""

import numpy as np

MAX_ROWS = 256  # above this, scikit-learn's own thread pool pays off


def leaves_hold_fractions(sklearn_version):
    """True from scikit-learn 1.4 on, whose classification trees store each leaf's class fractions."""
    major, minor = (_leading_int(part) for part in (sklearn_version.split(".") + ["0"])[:2])
    return (major, minor) >= (1, 4)


def _leading_int(text):
    digits = ""
    for character in text:
        if not character.isdigit():
            break
        digits += character
    return int(digits or 0)


class ForestSum:
    """``predict_proba`` of a fitted single-output forest classifier, summed tree by tree."""

    def __init__(self, forest, sklearn_version):
        self.trees = [estimator.tree_ for estimator in forest.estimators_]
        self.n_classes = int(forest.n_classes_)
        self.normalise = not leaves_hold_fractions(sklearn_version)

    def predict_proba(self, X):
        X32 = np.ascontiguousarray(X, dtype=np.float32)  # what the forest's input check makes of it
        total = np.zeros((len(X32), self.n_classes), dtype=np.float64)
        for tree in self.trees:
            proba = tree.predict(X32)[:, :self.n_classes]
            if self.normalise:
                normalizer = proba.sum(axis=1)[:, np.newaxis]
                normalizer[normalizer == 0.0] = 1.0
                proba /= normalizer
            total += proba
        total /= len(self.trees)
        return total
