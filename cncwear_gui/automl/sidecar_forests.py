"""Scoring a few rows with the forests of a saved auto-sklearn model, without scikit-learn 0.24's per-tree overhead.

auto-sklearn's random forest and extra trees have 512 trees. scikit-learn 0.24.2 (the version
auto-sklearn 0.15 pins) sends each tree through joblib, a fitted check and an input check: about
0.05 ms per tree whatever the batch, so about 30 ms for one row, of which the trees' own work is
about 6 ms. For batches up to ``MAX_ROWS``, :func:`speed_up_forests` gives each forest a
``predict_proba`` doing the same arithmetic as scikit-learn 0.24.2 (each tree's leaf values,
normalised as ``DecisionTreeClassifier.predict_proba`` does, summed in tree order, divided by the
number of trees, in forest_sum.py, which the main runtime's small-batch forest uses too), so the
result is bit-identical. Each forest is checked on probe rows when it is sped up; if the two ever
differ, that forest keeps scikit-learn's own method.

Runs in the AutoML runtime (Python 3.9): numpy only, imported by sidecar_server.py as a sibling
module (and forest_sum.py as its sibling), without cncwear_gui (which the main runtime may import
it through).
"""

import numpy as np

try:
    from .forest_sum import MAX_ROWS, ForestSum  # imported as cncwear_gui.automl.sidecar_forests
except ImportError:
    from forest_sum import MAX_ROWS, ForestSum  # a sibling file of the sidecar script

PROBE_ROWS = 64


def speed_up_forests(model):
    """Give the single-output forests of a fitted AutoSklearnClassifier the fast small-batch path.

    Returns how many forests were sped up (0 for a model without forests, or one this does not know).
    """
    from sklearn.ensemble._forest import ForestClassifier

    sped_up = 0
    for forest in _estimators(model):
        if isinstance(forest, ForestClassifier) and forest.n_outputs_ == 1 and _install(forest):
            sped_up += 1
    return sped_up


def _estimators(model):
    """The fitted estimators at the end of each ensemble member's pipeline."""
    automl = getattr(model, "automl_", None)
    for container in (getattr(automl, "models_", None), getattr(automl, "cv_models_", None)):
        for member in (container or {}).values():
            pipelines = getattr(member, "estimators_", None) or [member]  # a cv member votes over folds
            for pipeline in pipelines:
                steps = getattr(pipeline, "steps", None)
                choice = getattr(steps[-1][1], "choice", None) if steps else None
                estimator = getattr(choice, "estimator", None)
                if estimator is not None:
                    yield estimator


def _install(forest):
    import sklearn

    scikit_learns = forest.predict_proba
    forest_sum = ForestSum(forest, sklearn.__version__)

    def predict_proba(X):
        if len(X) > MAX_ROWS:
            return scikit_learns(X)
        X32 = np.ascontiguousarray(X, dtype=np.float32)  # what the forest's input check makes of it
        if X32.ndim != 2 or X32.shape[1] != forest.n_features_:
            return scikit_learns(X)  # let scikit-learn raise its own error
        return forest_sum.predict_proba(X32)

    probe = np.random.default_rng(0).normal(scale=3.0, size=(PROBE_ROWS, forest.n_features_))
    if not np.array_equal(predict_proba(probe), scikit_learns(probe)):
        return False
    forest.predict_proba = predict_proba
    return True
