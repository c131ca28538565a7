"""Checks on what callers hand the explanation engine, with messages that name the problem."""

from __future__ import annotations

import difflib

import numpy as np


class ExplanationInputError(ValueError):
    """A row, matrix, feature name or background the engine cannot explain; the message says why."""


def _some(names: list[str], count: int = 5) -> str:
    shown = ", ".join(names[:count])
    return f"{shown}, … ({len(names)} in all)" if len(names) > count else shown


def as_row(x, feature_names: list[str]) -> np.ndarray:
    """One sample as a float vector in feature order; refuses a wrong length, NaN or infinity."""
    try:
        row = np.asarray(x, dtype=float)
    except (TypeError, ValueError) as error:
        raise ExplanationInputError(f"the sample is not numeric: {error}") from None
    if row.ndim == 2 and row.shape[0] == 1:
        row = row[0]
    if row.ndim != 1:
        raise ExplanationInputError(f"expected one sample (a vector of {len(feature_names)} values), got shape {row.shape}")
    if row.size != len(feature_names):
        raise ExplanationInputError(
            f"expected {len(feature_names)} values, one per feature ({_some(feature_names)}), got {row.size}")
    bad = ~np.isfinite(row)
    if bad.any():
        missing = [feature_names[i] for i in np.flatnonzero(bad)]
        raise ExplanationInputError(f"the sample has no valid value for {', '.join(missing)} (NaN or infinite): "
                                    "it cannot be explained")
    return row


def as_matrix(X, feature_names: list[str], what: str = "rows", drop_missing: bool = False) -> np.ndarray:
    """Samples as a float matrix in feature order. Rows with NaN/inf are dropped when
    ``drop_missing`` (background data drawn from a recording may hold a few), refused otherwise."""
    try:
        matrix = np.asarray(X, dtype=float)
    except (TypeError, ValueError) as error:
        raise ExplanationInputError(f"the {what} are not numeric: {error}") from None
    if matrix.ndim != 2 or matrix.shape[1] != len(feature_names):
        raise ExplanationInputError(
            f"the {what} must be a matrix with {len(feature_names)} columns ({_some(feature_names)}), "
            f"got shape {matrix.shape}")
    bad = ~np.isfinite(matrix)
    if bad.any():
        if not drop_missing:
            columns = [feature_names[i] for i in np.flatnonzero(bad.any(axis=0))]
            raise ExplanationInputError(f"{int(bad.any(axis=1).sum())} of the {what} have NaN or infinite values "
                                        f"(in {', '.join(columns)})")
        matrix = matrix[~bad.any(axis=1)]
    if len(matrix) == 0:
        raise ExplanationInputError(f"the {what} are empty" + (" once rows with missing values are left out"
                                                                 if drop_missing and bad.any() else ""))
    return np.ascontiguousarray(matrix)


def feature_index(feature: str | int, feature_names: list[str]) -> int:
    """The column of a feature given by name (or index); an unknown name lists valid ones."""
    if isinstance(feature, (int, np.integer)) and not isinstance(feature, bool):
        if 0 <= feature < len(feature_names):
            return int(feature)
        raise ExplanationInputError(f"feature index {feature} is out of range 0..{len(feature_names) - 1}")
    if feature in feature_names:
        return feature_names.index(feature)
    close = difflib.get_close_matches(str(feature), feature_names, n=3)
    hint = f"did you mean {', '.join(close)}? " if close else ""
    raise ExplanationInputError(f"'{feature}' is not a feature of this model; {hint}valid features include "
                                f"{_some(feature_names)}")
