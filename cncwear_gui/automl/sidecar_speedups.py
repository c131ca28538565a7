"""Scoring a few rows with a saved auto-sklearn model without scikit-learn 0.24's per-call overhead.

Three steps of auto-sklearn's pipelines cost far more per call than their arithmetic for the one
row the live engine sends (scikit-learn 0.24.2, the version auto-sklearn 0.15 pins):

- **forests** (random forest, extra trees: 512 trees) send each tree through joblib, a fitted
  check and an input check: about 0.05 ms per tree, so about 30 ms for one row, of which the
  trees' own work is about 6 ms. For batches up to ``MAX_ROWS`` the forest gets a
  ``predict_proba`` doing the same arithmetic as scikit-learn 0.24.2 (forest_sum.py, which the
  main runtime's small-batch forest uses too). A sparse input (the output of a random-trees
  embedding) is made dense first: a tree compares the same values either way.
- **feature selection by a model** (the extra-trees and linear-SVC preprocessors) recomputes
  the model's feature importances on every call, about 12 ms for a 100-tree forest; the mask
  they give depends on the fitted model only, so it is computed once.
- **random-trees embedding** applies its trees through joblib as a forest does; small batches
  go through each tree's own ``apply``.
- **histogram gradient boosting** (up to 512 iterations) builds a partial function and an output
  array per tree and iteration; small batches call the same compiled routine with one reused
  output array, adding each tree's values in the same order. That routine is an OpenMP loop
  over rows, and starting its threads costs more than one row's work: :class:`OneThreadForSmallBatches`
  runs small batches with OpenMP on one thread (each row is computed alone either way).

Each step is checked on probe rows (dense and sparse) when it is sped up, and keeps
scikit-learn's own method if the results ever differ, so predictions stay bit-identical.

Runs in the AutoML runtime (Python 3.9): numpy and scipy only at import, imported by
sidecar_server.py as a sibling module (and forest_sum.py as its sibling), without cncwear_gui
(which the main runtime may import it through).
"""

import contextlib

import numpy as np
from scipy.sparse import csr_matrix, issparse

try:
    from .forest_sum import MAX_ROWS, ForestSum  # imported as cncwear_gui.automl.sidecar_speedups
except ImportError:
    from forest_sum import MAX_ROWS, ForestSum  # a sibling file of the sidecar script

PROBE_ROWS = 64


def speed_up(model):
    """Install the fast small-batch paths in a fitted AutoSklearnClassifier's ensemble members.

    Returns how many steps of each kind were sped up: ``{"forests": i, "boosting": j,
    "preprocessors": k}``, all 0 for a model this does not know.
    """
    return speed_up_pipelines(_pipelines(model))


def speed_up_pipelines(pipelines):
    """:func:`speed_up` for auto-sklearn pipelines (``SimpleClassificationPipeline``) themselves."""
    from sklearn.ensemble import RandomTreesEmbedding
    from sklearn.ensemble._forest import ForestClassifier
    from sklearn.ensemble._hist_gradient_boosting.gradient_boosting import HistGradientBoostingClassifier  # experimental in 0.24
    from sklearn.feature_selection import SelectFromModel

    counts = {"forests": 0, "boosting": 0, "preprocessors": 0}
    for pipeline in pipelines:
        steps = getattr(pipeline, "steps", None) or []
        for index, (_, step) in enumerate(steps):
            component = getattr(step, "choice", None)
            last = index == len(steps) - 1
            inner = getattr(component, "estimator" if last else "preprocessor", None)
            if last and isinstance(inner, ForestClassifier) and inner.n_outputs_ == 1:
                counts["forests"] += _install_forest(inner)
            elif last and isinstance(inner, HistGradientBoostingClassifier):
                counts["boosting"] += _install_boosting(inner)
            elif isinstance(inner, SelectFromModel):
                counts["preprocessors"] += _install_selection(inner)
            elif isinstance(inner, RandomTreesEmbedding):
                counts["preprocessors"] += _install_embedding(inner)
    return counts


class OneThreadForSmallBatches:
    """``with one_thread(rows):`` around a call: OpenMP on one thread when ``rows`` is a small batch."""

    def __init__(self):
        from threadpoolctl import ThreadpoolController  # a scikit-learn dependency

        self.controller = ThreadpoolController()  # made once the model is loaded, so its OpenMP runtime is seen

    def __call__(self, rows):
        if rows > MAX_ROWS:
            return contextlib.nullcontext()
        return self.controller.limit(limits=1, user_api="openmp")


def _pipelines(model):
    """The fitted pipeline of each ensemble member (each fold's, for a member that votes over folds)."""
    automl = getattr(model, "automl_", None)
    for container in (getattr(automl, "models_", None), getattr(automl, "cv_models_", None)):
        for member in (container or {}).values():
            yield from getattr(member, "estimators_", None) or [member]


def _probes(n_features):
    dense = np.random.default_rng(0).normal(scale=3.0, size=(PROBE_ROWS, n_features))
    return dense, csr_matrix(np.where(np.abs(dense) < 3.0, 0.0, dense))


def _same_on_probes(fast, scikit_learns, n_features):
    for probe in _probes(n_features):
        a, b = fast(probe), scikit_learns(probe)
        a, b = (a.toarray() if issparse(a) else a), (b.toarray() if issparse(b) else b)
        if not np.array_equal(a, b):
            return False
    return True


def _small_dense(X, n_features):
    """X as the float32 array a tree reads, or None when scikit-learn's own method should take it."""
    if X.shape[0] > MAX_ROWS:
        return None
    if issparse(X):
        X = X.toarray()
    X32 = np.ascontiguousarray(X, dtype=np.float32)  # what the forest's input check makes of it
    if X32.ndim != 2 or X32.shape[1] != n_features:
        return None  # let scikit-learn raise its own error
    return X32


def _install_forest(forest):
    import sklearn

    scikit_learns = forest.predict_proba
    forest_sum = ForestSum(forest, sklearn.__version__)

    def predict_proba(X):
        X32 = _small_dense(X, forest.n_features_)
        return scikit_learns(X) if X32 is None else forest_sum.predict_proba(X32)

    if not _same_on_probes(predict_proba, scikit_learns, forest.n_features_):
        return False
    forest.predict_proba = predict_proba
    return True


def _install_selection(selector):
    mask = selector._get_support_mask()  # depends on the fitted model only
    probes = _probes(len(mask))
    expected = [selector.transform(probe) for probe in probes]
    selector._get_support_mask = lambda: mask
    for probe, before in zip(probes, expected):
        after = selector.transform(probe)
        if not np.array_equal(*(a.toarray() if issparse(a) else a for a in (after, before))):
            del selector._get_support_mask  # back to the class's own method
            return False
    return True


def _install_embedding(embedding):
    scikit_learns = embedding.apply
    trees = [estimator.tree_ for estimator in embedding.estimators_]

    def apply(X):
        X32 = _small_dense(X, embedding.n_features_)
        return scikit_learns(X) if X32 is None else np.array([tree.apply(X32) for tree in trees]).T

    if not _same_on_probes(apply, scikit_learns, embedding.n_features_):
        return False
    embedding.apply = apply
    return True


def _install_boosting(booster):
    from sklearn.ensemble._hist_gradient_boosting._predictor import _predict_from_raw_data
    from sklearn.ensemble._hist_gradient_boosting.common import Y_DTYPE

    scikit_learns = booster._predict_iterations
    trees = [(k, predictor.nodes, predictor.raw_left_cat_bitsets)
             for iteration in booster._predictors for k, predictor in enumerate(iteration)]

    def predict_iterations(X, predictors, raw_predictions, is_binned):
        if is_binned or predictors is not booster._predictors or X.shape[0] > MAX_ROWS:
            return scikit_learns(X, predictors, raw_predictions, is_binned)
        known_cat_bitsets, f_idx_map = booster._bin_mapper.make_known_categories_bitsets()
        out = np.empty(X.shape[0], dtype=Y_DTYPE)
        for k, nodes, left_cat_bitsets in trees:
            _predict_from_raw_data(nodes, X, left_cat_bitsets, known_cat_bitsets, f_idx_map, out)
            raw_predictions[k, :] += out

    dense, _ = _probes(booster._n_features)
    expected = booster.predict_proba(dense)
    booster._predict_iterations = predict_iterations
    if not np.array_equal(booster.predict_proba(dense), expected):
        del booster._predict_iterations
        return False
    return True
