"""Scoring a few rows with a saved auto-sklearn model without scikit-learn 0.24's per-call overhead.

Several steps of auto-sklearn's pipelines cost far more per call than their arithmetic for the
one row the live engine sends (scikit-learn 0.24.2, the version auto-sklearn 0.15 pins):

- **forests** (random forest, extra trees: 512 trees) send each tree through joblib, a fitted
  check and an input check: about 0.05 ms per tree, so about 30 ms for one row, of which the
  trees' own work is about 6 ms. For batches up to ``MAX_ROWS`` the forest gets a
  ``predict_proba`` doing the same arithmetic as scikit-learn 0.24.2 (forest_sum.py, which the
  main runtime's small-batch forest uses too; up to four rows walk all trees at once). A sparse
  input (the output of a random-trees embedding) is made dense first: a tree compares the same
  values either way.
- **feature selection by a model** (the extra-trees and linear-SVC preprocessors) recomputes
  the model's feature importances on every call, about 12 ms for a 100-tree forest; the mask
  they give depends on the fitted model only, so it is computed once.
- **the data preprocessor's column split** (a ``ColumnTransformer``) validates, indexes and stacks
  the columns on every call; when one branch takes every column in order (all-numerical data, as
  here) small batches go to that branch directly.
- **random-trees embedding** applies its trees through joblib as a forest does; small batches
  are walked as a forest's are (forest_sum.ForestLeaves).
- **histogram gradient boosting** (up to 512 iterations) builds a partial function and an output
  array per tree and iteration; small batches call the same compiled routine with one reused
  output array, adding each tree's values in the same order. That routine is an OpenMP loop
  over rows, and starting its threads costs more than one row's work: :class:`OneThreadForSmallBatches`
  runs small batches with OpenMP on one thread (each row is computed alone either way).

Each step is checked on probe rows (dense and sparse; 64 rows, one and three) when it is sped up
(:func:`_install_checked`), and keeps scikit-learn's own method if the results ever differ, so
predictions stay bit-identical. Measured with ``benchmarks/automl_job.py --model`` (the median of
40 single rows) on the ensembles of two 300 s searches: 9 members (3,000 rows) 40.7 ms before,
17.8 ms after; 8 members (6,000 rows) 53.4 ms before, 14.0 ms after. Loading takes about 1 s longer.

Runs in the AutoML runtime (Python 3.9): numpy and scipy only at import, imported by
sidecar_server.py as a sibling module (and forest_sum.py as its sibling), without cncwear_gui
(which the main runtime may import it through).
"""

import contextlib
import sys

import numpy as np
from scipy.sparse import csr_matrix, issparse

try:
    from .forest_sum import MAX_ROWS, ForestLeaves, ForestSum  # imported as cncwear_gui.automl.sidecar_speedups
except ImportError:
    from forest_sum import MAX_ROWS, ForestLeaves, ForestSum  # a sibling file of the sidecar script

PROBE_ROWS = 64


def speed_up(model):
    """Install the fast small-batch paths in a fitted AutoSklearnClassifier's ensemble members.

    Returns how many steps of each kind were sped up: ``{"forests": i, "boosting": j,
    "preprocessors": k}``, all 0 for a model this does not know.
    """
    return speed_up_pipelines(_pipelines(model))


def speed_up_pipelines(pipelines):
    """:func:`speed_up` for auto-sklearn pipelines (``SimpleClassificationPipeline``) themselves."""
    from sklearn.compose import ColumnTransformer
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
                counts["forests"] += _tried(_install_forest, inner)
            elif last and isinstance(inner, HistGradientBoostingClassifier):
                counts["boosting"] += _tried(_install_boosting, inner)
            elif isinstance(inner, SelectFromModel):
                counts["preprocessors"] += _tried(_install_selection, inner)
            elif isinstance(inner, RandomTreesEmbedding):
                counts["preprocessors"] += _tried(_install_embedding, inner)
            elif isinstance(getattr(component, "column_transformer", None), ColumnTransformer):
                counts["preprocessors"] += _tried(_install_column_split, component.column_transformer)
    return counts


def _tried(install, step):
    """``install(step)``; a step it fails on keeps scikit-learn's own path (said on stderr), and the
    model is served all the same."""
    try:
        return install(step)
    except Exception as error:  # a model unlike the ones this was written for must still be served
        print("sidecar: %s keeps scikit-learn's own path: %s: %s" % (type(step).__name__, type(error).__name__, error),
              file=sys.stderr)
        return False


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


def _probes(n_features, sparse=True):
    """Dense probe rows, the same rows made sparse (with ``sparse``) and dense rows near zero, each
    as a batch and as one row and three rows (the paths for a few rows differ)."""
    dense = np.random.default_rng(0).normal(scale=3.0, size=(PROBE_ROWS, n_features))
    kinds = [dense, csr_matrix(np.where(np.abs(dense) < 3.0, 0.0, dense)), dense / 30.0][::1 if sparse else 2]
    return [probe[rows] for probe in kinds for rows in (slice(None), slice(0, 1), slice(1, 4))]


def _install_checked(owner, name, fast, call, n_features, sparse=True):
    """Set ``owner.<name> = fast`` if ``call`` (the public method that uses it, looked up on each
    call) gives the same on
    the probes (:func:`_probes`; without ``sparse``, the dense ones) before and after, or refuses
    a probe with the same kind of error both times (a probe may be far outside what a step was
    fitted on), and at least one probe was compared. Otherwise the class's own method stays."""
    probes = _probes(n_features, sparse)
    before = [_outcome(call, probe) for probe in probes]
    setattr(owner, name, fast)
    try:
        after = [_outcome(call, probe) for probe in probes]
    except Exception:
        delattr(owner, name)
        raise
    compared = [isinstance(b, np.ndarray) for b in before]
    same = all(type(a) is type(b) and (not isinstance(b, np.ndarray) or np.array_equal(a, b))
               for a, b in zip(after, before))
    if same and any(compared):
        return True
    delattr(owner, name)  # back to the class's own method
    return False


def _outcome(call, probe):
    """What ``call(probe)`` gives, as a dense array, or the error it raised."""
    try:
        result = call(probe)
    except (ValueError, FloatingPointError) as error:
        return error
    return result.toarray() if issparse(result) else np.asarray(result)


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

    return _install_checked(forest, "predict_proba", predict_proba, lambda X: forest.predict_proba(X),
                            forest.n_features_)


def _install_selection(selector):
    mask = selector._get_support_mask()  # depends on the fitted model only
    return _install_checked(selector, "_get_support_mask", lambda: mask, selector.transform, len(mask))


def _install_column_split(split):
    branches = [(name, branch, columns) for name, branch, columns in split.transformers_
                if not (isinstance(branch, str) and branch == "drop")]
    if len(branches) != 1 or split.sparse_output_:
        return False
    _, branch, columns = branches[0]
    n_features = len(columns)
    if list(columns) != list(range(n_features)) or getattr(split, "n_features_in_", n_features) != n_features:
        return False  # not one branch taking every column in order
    scikit_learns = split.transform

    def transform(X):
        if X.shape[0] > MAX_ROWS or issparse(X) or not isinstance(X, np.ndarray) or X.shape[1] != n_features:
            return scikit_learns(X)
        out = branch.transform(X[:, columns])  # what the split hands its branch: a copy of the columns
        return np.hstack([out.toarray() if issparse(out) else out])  # and how it stacks one dense result

    return _install_checked(split, "transform", transform, lambda X: split.transform(X), n_features,
                            sparse=False)  # sparse input is scikit-learn's


def _install_embedding(embedding):
    scikit_learns = embedding.apply
    leaves = ForestLeaves(estimator.tree_ for estimator in embedding.estimators_)

    def apply(X):
        X32 = _small_dense(X, embedding.n_features_)
        return scikit_learns(X) if X32 is None else leaves.apply(X32) - leaves.offsets  # each tree's own node index

    return _install_checked(embedding, "apply", apply, embedding.transform, embedding.n_features_)


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

    return _install_checked(booster, "_predict_iterations", predict_iterations, booster.predict_proba,
                            booster._n_features, sparse=False)  # sparse input is scikit-learn's
