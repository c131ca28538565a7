"""Model statistics of a real random forest on experiments it never saw, checked against scikit-learn."""

import json

import numpy as np
import pytest
from sklearn.metrics import accuracy_score, confusion_matrix, roc_auc_score, roc_curve

from cncwear_gui.features.sets import FEATURE_SETS
from cncwear_gui.monitoring.model_stats import MAX_CURVE_POINTS, ModelStatistics, model_statistics

SIGNALS = FEATURE_SETS["signals"]
HELD_OUT = (3, 8, 11, 13)  # two unworn (3, 11), two worn (8, 13)


@pytest.fixture(scope="module")
def held_out(bundled_dataset):
    from sklearn.ensemble import RandomForestClassifier

    samples = bundled_dataset.samples(labelled_only=True)
    test = samples["experiment"].isin(HELD_OUT).to_numpy()
    X, y = SIGNALS.build(samples).to_numpy(), samples["worn"].to_numpy()
    model = RandomForestClassifier(n_estimators=20, min_samples_leaf=5, random_state=0, n_jobs=1)
    model.fit(X[~test], y[~test])
    return y[test], model.predict_proba(X[test])[:, 1], samples["experiment"].to_numpy()[test]


@pytest.mark.parametrize("threshold", [0.5, 0.3])
def test_confusion_matrix_accuracy_and_auc_agree_with_sklearn(held_out, threshold):
    y, p, _ = held_out
    stats = model_statistics(y, p, threshold)
    predicted = (p >= threshold).astype(int)
    assert stats.n == len(y) and stats.tn + stats.fp + stats.fn + stats.tp == len(y)
    assert stats.matrix == confusion_matrix(y, predicted, labels=[0, 1]).tolist()
    assert stats.matrix[1] == [stats.fn, stats.tp] and stats.tp + stats.fn == int(y.sum())
    assert stats.accuracy == pytest.approx(accuracy_score(y, predicted), abs=1e-15)
    assert stats.roc_auc == pytest.approx(roc_auc_score(y, p), abs=1e-15)
    assert 0.5 < stats.roc_auc <= 1.0 and stats.fp + stats.fn > 0  # a real, imperfect model


def test_curves_are_downsampled_monotone_and_still_exact(held_out):
    y, p, _ = held_out
    stats = model_statistics(y, p)
    assert len(roc_curve(y, p)[0]) > MAX_CURVE_POINTS  # the downsampling is exercised
    assert 2 <= len(stats.fpr) == len(stats.tpr) == len(stats.roc_thresholds) <= MAX_CURVE_POINTS
    assert (stats.fpr[0], stats.tpr[0], stats.fpr[-1], stats.tpr[-1]) == (0.0, 0.0, 1.0, 1.0)
    assert np.all(np.diff(stats.fpr) >= 0) and np.all(np.diff(stats.tpr) >= 0)
    assert np.all(np.diff(stats.roc_thresholds) < 0) and stats.roc_thresholds[0] == np.inf
    negatives, positives = p[y == 0], p[y == 1]
    for fpr, tpr, threshold in list(zip(stats.fpr, stats.tpr, stats.roc_thresholds))[1::17]:
        assert fpr == pytest.approx(np.mean(negatives >= threshold)) and tpr == pytest.approx(np.mean(positives >= threshold))

    assert 2 <= len(stats.pr_thresholds) == len(stats.precision) == len(stats.recall) <= MAX_CURVE_POINTS
    assert np.all(np.diff(stats.pr_thresholds) > 0) and np.all(np.diff(stats.recall) <= 0)
    assert stats.recall[0] == 1.0 and stats.pr_thresholds[-1] == p.max()
    for threshold, precision, recall in list(zip(stats.pr_thresholds, stats.precision, stats.recall))[::23]:
        flagged = p >= threshold
        assert precision == pytest.approx(np.mean(y[flagged] == 1)) and recall == pytest.approx(np.mean(flagged[y == 1]))


def test_single_class_has_no_roc_but_a_confusion_matrix(held_out):
    y, p, experiments = held_out
    worn_run = experiments == 8
    stats = model_statistics(y[worn_run], p[worn_run])
    assert set(y[worn_run]) == {1}
    assert stats.roc_auc is None and stats.fpr is None and stats.tpr is None and stats.roc_thresholds is None
    assert not stats.has_roc
    assert stats.tn == stats.fp == 0 and stats.tp == int(np.sum(p[worn_run] >= 0.5)) and stats.tp + stats.fn == worn_run.sum()
    assert stats.accuracy == pytest.approx(np.mean(p[worn_run] >= 0.5))
    assert stats.precision is not None and set(stats.precision) == {1.0}

    unworn_run = experiments == 3
    stats = model_statistics(y[unworn_run], p[unworn_run])
    assert stats.roc_auc is None and stats.precision is None and stats.recall is None
    assert stats.fn == stats.tp == 0 and stats.tn + stats.fp == unworn_run.sum()


def test_statistics_round_trip_through_strict_json(held_out):
    y, p, _ = held_out
    stats = model_statistics(y, p, 0.4)
    text = json.dumps(stats.to_json(), allow_nan=False)
    assert ModelStatistics.from_json(json.loads(text)) == stats


def test_bad_input_is_refused(held_out):
    y, p, _ = held_out
    with pytest.raises(ValueError, match="same length"):
        model_statistics(y, p[:-1])
    with pytest.raises(ValueError, match="NaN"):
        model_statistics(y, np.where(np.arange(len(p)) == 5, np.nan, p))
    with pytest.raises(ValueError, match="NaN"):
        model_statistics(np.where(np.arange(len(y)) == 5, np.nan, y.astype(float)), p)
    with pytest.raises(ValueError, match="only 0"):
        model_statistics(y + 1, p)
    with pytest.raises(ValueError, match="empty"):
        model_statistics(y[:0], p[:0])
    with pytest.raises(ValueError, match="threshold"):
        model_statistics(y, p, 1.5)
