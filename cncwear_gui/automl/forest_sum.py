"""A fitted scikit-learn forest's ``predict_proba`` for a few rows, without its per-tree overhead.

A forest's ``predict_proba`` sends every tree through joblib, a fitted check and an input check:
0.05-0.1 ms per tree whatever the batch (scikit-learn 0.24.2 in the AutoML runtime, 1.x in the
main one), which is nearly all the cost for the few rows the live engine and the sidecar score.
:class:`ForestSum` does the same arithmetic without it: each tree's leaf values
(what ``tree_.predict`` returns), their first ``n_classes`` columns, normalised to sum to one as
the tree's own ``predict_proba`` does before scikit-learn 1.4 (whose leaves hold weighted counts;
from 1.4 they hold the class fractions, returned as they are), summed in tree order into float64
zeros and divided by the number of trees. The normalising is done once per node when the forest
is wrapped (a copy of the node values, 16 bytes per node for two classes), not per sample, and
the leaves' values are gathered at once and summed by ``np.add.accumulate``, which adds one tree
at a time in order as scikit-learn does (starting from the first tree's values, which is what
adding them to zeros gives). The result is bit-identical to scikit-learn's on one thread.

Both runtimes import this file: the main one as ``cncwear_gui.automl.forest_sum``
(models/small_batches.py), the AutoML runtime's sidecar script as a sibling file
(sidecar_speedups.py), where cncwear_gui may not be importable. So it stays numpy only,
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


class ForestLeaves:
    """The leaf each row reaches in each tree of a fitted forest, as (rows, trees) indices into the
    forest's nodes laid end to end (tree ``t``'s node ``i`` is ``offsets[t] + i``).

    For up to ``VECTOR_ROWS`` rows all trees are walked at once with numpy, one level per step,
    keeping only the (row, tree) pairs not yet at a leaf: the same comparisons as
    ``Tree.apply`` (the float32 value against the float64 threshold, left when less or equal), at
    a fraction of the cost of one compiled call per tree. A NaN goes right here as in scikit-learn
    0.24, but scikit-learn from 1.3 may send it left, so rows with a NaN take the per-tree path.
    Laying the nodes end to end costs 21 bytes per node.
    """

    VECTOR_ROWS = 4  # beyond this, one Tree.apply per tree is faster (measured on 512-tree forests)

    def __init__(self, trees):
        self.trees = list(trees)
        self.offsets = np.cumsum([0] + [tree.node_count for tree in self.trees[:-1]]).astype(np.intp)
        self.feature = np.concatenate([tree.feature for tree in self.trees]).astype(np.int32)
        self.threshold = np.concatenate([tree.threshold for tree in self.trees])
        self.is_leaf = np.concatenate([tree.children_left == -1 for tree in self.trees])
        nodes = np.arange(len(self.feature), dtype=np.int32)

        def children(side):  # a leaf points at itself, so a finished walk stays put
            child = np.concatenate([getattr(tree, side) + offset for tree, offset in zip(self.trees, self.offsets)])
            return np.where(self.is_leaf, nodes, child).astype(np.int32)

        self.left, self.right = children("children_left"), children("children_right")
        self.feature[self.is_leaf] = 0  # a leaf's feature is -2; it is never compared

    def apply(self, X32):
        if len(X32) > self.VECTOR_ROWS or np.isnan(X32).any():
            return np.stack([tree.apply(X32) for tree in self.trees], axis=1) + self.offsets
        rows, n_trees = X32.shape[0], len(self.trees)
        node = np.tile(self.offsets, rows)
        first_value = np.repeat(np.arange(rows, dtype=np.intp) * X32.shape[1], n_trees)  # each pair's row in X32.flat
        values = X32.ravel()
        walking = np.flatnonzero(~self.is_leaf[node])
        while walking.size:
            at = node[walking]
            goes_left = values[first_value[walking] + self.feature[at]] <= self.threshold[at]
            node[walking] = np.where(goes_left, self.left[at], self.right[at])
            walking = walking[~self.is_leaf[node[walking]]]
        return node.reshape(rows, n_trees)


class ForestSum:
    """``predict_proba`` of a fitted single-output forest classifier, summed tree by tree."""

    def __init__(self, forest, sklearn_version):
        self.n_classes = int(forest.n_classes_)
        normalise = not leaves_hold_fractions(sklearn_version)
        values = []
        for estimator in forest.estimators_:
            node_values = estimator.tree_.value[:, 0, :self.n_classes]  # tree_.predict's rows, first n_classes columns
            if normalise:  # as DecisionTreeClassifier.predict_proba does per sample, done once per node
                node_values = np.array(node_values, dtype=np.float64, order="C")
                normalizer = node_values.sum(axis=1)[:, np.newaxis]
                normalizer[normalizer == 0.0] = 1.0
                node_values /= normalizer
            values.append(node_values)
        self.leaves = ForestLeaves(estimator.tree_ for estimator in forest.estimators_)
        self.values = np.concatenate(values).astype(np.float64, copy=False)  # every tree's nodes, in tree order

    def predict_proba(self, X):
        X32 = np.ascontiguousarray(X, dtype=np.float32)  # what the forest's input check makes of it
        leaves = self.leaves.apply(X32)  # (rows, trees)
        total = np.add.accumulate(self.values[leaves], axis=1)[:, -1]  # one addition at a time, in tree order
        total /= len(self.leaves.trees)
        return total
