"""Model statistics on evaluation data: confusion matrix, ROC curve and AUC, precision/recall curves.

A sample is predicted worn when ``p_worn >= threshold`` (scikit-learn's convention for
``roc_curve`` thresholds too). Curves are downsampled to at most :data:`MAX_CURVE_POINTS`
points at evenly spaced indices, always keeping the first and the last point, so they stay
monotone and small enough for a plot or a metrics endpoint; ``roc_auc`` is computed on the full
data, not on the downsampled curve.

When ``y_true`` holds a single class, the ROC curve and AUC are undefined: ``fpr``, ``tpr``,
``roc_thresholds`` and ``roc_auc`` are ``None``; the confusion matrix and accuracy are still
computed. Without any worn sample recall is undefined, so the precision/recall curve is ``None``
as well.

Qt-free: numpy and scikit-learn (imported inside :func:`model_statistics`).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

MAX_CURVE_POINTS = 200


def _downsample_indices(n: int, limit: int = MAX_CURVE_POINTS) -> np.ndarray:
    if n <= limit:
        return np.arange(n)
    return np.unique(np.round(np.linspace(0, n - 1, limit)).astype(np.int64))


def _floats(values) -> list[float]:
    return [float(v) for v in values]


def _encode(values: list[float] | None) -> list | None:
    """JSON has no infinity: sklearn's first ROC threshold (+inf) is written as null."""
    return None if values is None else [v if math.isfinite(v) else None for v in values]


def _decode(values: list | None) -> list[float] | None:
    return None if values is None else [math.inf if v is None else float(v) for v in values]


@dataclass
class ModelStatistics:
    threshold: float
    n: int
    accuracy: float
    tn: int
    fp: int
    fn: int
    tp: int
    fpr: list[float] | None = None
    tpr: list[float] | None = None
    roc_thresholds: list[float] | None = None  # decreasing; the first is +inf (nothing predicted worn)
    roc_auc: float | None = None
    pr_thresholds: list[float] | None = None  # increasing
    precision: list[float] | None = None
    recall: list[float] | None = None

    @property
    def matrix(self) -> list[list[int]]:
        """Rows: true OK, true WORN; columns: predicted OK, predicted WORN."""
        return [[self.tn, self.fp], [self.fn, self.tp]]

    @property
    def has_roc(self) -> bool:
        return self.roc_auc is not None

    def to_json(self) -> dict:
        data = asdict(self)
        data["roc_thresholds"] = _encode(self.roc_thresholds)
        data["pr_thresholds"] = _encode(self.pr_thresholds)
        return data

    @classmethod
    def from_json(cls, data: dict) -> ModelStatistics:
        values = dict(data)
        values["roc_thresholds"] = _decode(values.get("roc_thresholds"))
        values["pr_thresholds"] = _decode(values.get("pr_thresholds"))
        return cls(**values)


def _validated(y_true, p_worn, threshold: float) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(y_true).ravel()
    p = np.asarray(p_worn, dtype=np.float64).ravel()
    if y.size != p.size:
        raise ValueError(f"y_true has {y.size} values but p_worn has {p.size}; they must be the same length")
    if y.size == 0:
        raise ValueError("no evaluation samples: y_true and p_worn are empty")
    if not np.issubdtype(y.dtype, np.number) and y.dtype != bool:
        raise ValueError(f"y_true must be 0/1 (OK/WORN), got values of type {y.dtype}")
    y_float = y.astype(np.float64)
    if np.isnan(y_float).any():
        raise ValueError(f"y_true has {int(np.isnan(y_float).sum())} NaN value(s)")
    if not np.isin(y_float, (0.0, 1.0)).all():
        raise ValueError(f"y_true must contain only 0 (OK) and 1 (WORN); found {sorted(set(np.unique(y_float)) - {0.0, 1.0})[:5]}")
    bad = ~np.isfinite(p)
    if bad.any():
        raise ValueError(f"p_worn has {int(bad.sum())} NaN or infinite value(s), e.g. at index {int(np.flatnonzero(bad)[0])}")
    if (p < 0).any() or (p > 1).any():
        raise ValueError("p_worn must be probabilities in [0, 1]")
    if not math.isfinite(threshold) or not 0.0 <= threshold <= 1.0:
        raise ValueError(f"threshold must be in [0, 1], got {threshold}")
    return y_float.astype(np.int64), p


def model_statistics(y_true: np.ndarray, p_worn: np.ndarray, threshold: float = 0.5) -> ModelStatistics:
    """Statistics of P(worn) predictions against true labels (1 = worn, 0 = OK)."""
    from sklearn.metrics import confusion_matrix, precision_recall_curve, roc_auc_score, roc_curve

    y, p = _validated(y_true, p_worn, threshold)
    predicted = (p >= threshold).astype(np.int64)
    tn, fp, fn, tp = (int(v) for v in confusion_matrix(y, predicted, labels=[0, 1]).ravel())
    stats = ModelStatistics(threshold=float(threshold), n=int(y.size), accuracy=(tn + tp) / y.size, tn=tn, fp=fp, fn=fn, tp=tp)
    positives = int(y.sum())
    if 0 < positives < y.size:
        fpr, tpr, thresholds = roc_curve(y, p)
        keep = _downsample_indices(fpr.size)
        stats.fpr, stats.tpr, stats.roc_thresholds = _floats(fpr[keep]), _floats(tpr[keep]), _floats(thresholds[keep])
        stats.roc_auc = float(roc_auc_score(y, p))
    if positives:
        precision, recall, thresholds = precision_recall_curve(y, p)
        # sklearn appends (precision 1, recall 0) without a threshold: drop it to align the lists
        precision, recall = precision[:-1], recall[:-1]
        keep = _downsample_indices(thresholds.size)
        stats.pr_thresholds = _floats(thresholds[keep])
        stats.precision, stats.recall = _floats(precision[keep]), _floats(recall[keep])
    return stats
