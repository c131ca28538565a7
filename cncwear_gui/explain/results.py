"""What the explanation methods return: plain dataclasses that turn into JSON and back.

Small rows are NamedTuples, so ``for condition, weight in result.conditions`` works and JSON holds
them as short lists. ``to_json()`` gives built-in types only (numpy converted, NaN/inf as None);
``from_json()`` rebuilds the object, and ``result_from_json`` picks the class by ``"method"``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields, is_dataclass
from typing import ClassVar, NamedTuple

import numpy as np


class WeightedCondition(NamedTuple):
    condition: str  # as LIME prints it, e.g. "X1_OutputCurrent > 327.00"
    weight: float  # towards the explained class (positive) or away from it


class FeatureValue(NamedTuple):
    feature: str
    value: float


class Contribution(NamedTuple):
    feature: str
    value: float  # the sample's value
    shap: float  # its SHAP value for the target class's probability


@dataclass
class AnchorCondition:
    """One condition of an anchor rule with exact bounds: ``lower < value <= upper``, or
    ``value == equals`` for a categorical feature (None where there is no bound)."""

    feature: str
    text: str
    lower: float | None = None
    upper: float | None = None
    equals: float | None = None

    def holds(self, column: np.ndarray) -> np.ndarray:
        """Which values of this feature's column satisfy the condition."""
        column = np.asarray(column, float)
        keep = np.ones(column.shape, bool)
        if self.equals is not None:
            keep &= column == self.equals
        if self.lower is not None:
            keep &= column > self.lower
        if self.upper is not None:
            keep &= column <= self.upper
        return keep


def plain(value):
    """``value`` with numpy types, NamedTuples and dataclasses turned into JSON's types."""
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, np.ndarray):
        return plain(value.tolist())
    if isinstance(value, np.generic):
        return plain(value.item())
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


def _array(value) -> np.ndarray:
    """A JSON list (of lists) back to a float array, None back to NaN."""
    array = np.array(value, dtype=object)
    array[np.equal(array, None)] = np.nan
    return array.astype(float)


class _Result:
    method: ClassVar[str] = ""
    _rows: ClassVar[dict[str, type]] = {}  # field -> row type of its list
    _arrays: ClassVar[tuple[str, ...]] = ()  # fields held as numpy arrays

    def to_json(self) -> dict:
        return {"method": self.method, **plain(self)}

    @classmethod
    def from_json(cls, data: dict):
        values = {}
        for f in fields(cls):
            value = data.get(f.name)
            if f.name in cls._rows and value is not None:
                row_type = cls._rows[f.name]
                value = [row_type(**row) if isinstance(row, dict) else row_type(*row) for row in value]
            elif f.name in cls._arrays and value is not None:
                value = _array(value)
            values[f.name] = value
        return cls(**values)


@dataclass
class LimeResult(_Result):
    method: ClassVar[str] = "lime"
    _rows: ClassVar[dict[str, type]] = {"conditions": WeightedCondition, "feature_values": FeatureValue}

    predicted: str  # the class the model predicts, which the weights explain
    probabilities: dict[str, float]  # the model's, per class name
    conditions: list[WeightedCondition]  # top-k, largest |weight| first
    feature_values: list[FeatureValue]  # the sample's values of the features in those conditions
    local_fit_score: float  # R² of LIME's weighted linear fit around the sample
    intercept: float
    local_prediction: float  # the linear fit's prediction at the sample
    num_samples: int
    seed: int
    seconds: float


@dataclass
class ShapLocalResult(_Result):
    method: ClassVar[str] = "shap"
    _rows: ClassVar[dict[str, type]] = {"contributions": Contribution}

    explainer_kind: str  # e.g. "TreeSHAP (path-dependent)" or "Kernel SHAP (k-means background)"
    target_class: str  # contributions are to P(target_class)
    predicted: str
    base_value: float
    model_output: float  # the model's P(target_class) for the sample
    contributions: list[Contribution]  # every feature, largest |shap| first
    percentiles: list[float]  # each value's percentile in the background, same order
    display_values: list[str]  # each value as an operator reads it (phase names), same order
    additivity_error: float  # |base_value + sum(shap) - model_output|
    additivity_tolerance: float
    seconds: float

    @property
    def additive(self) -> bool:
        return self.additivity_error <= self.additivity_tolerance

    def waterfall(self, max_bars: int = 12) -> tuple[list[str], np.ndarray, np.ndarray]:
        """(labels, starts, widths) of a waterfall: the largest contributions one bar each, the rest
        summed into one; each bar starts where the previous ended, the first at the base value."""
        ordered = sorted(self.contributions, key=lambda c: -abs(c.shap))
        shown, rest = ordered[:max_bars], ordered[max_bars:]
        labels = [f"{c.feature} = {c.value:.4g}" for c in shown]
        widths = [c.shap for c in shown]
        if rest:
            labels.append(f"{len(rest)} other features")
            widths.append(sum(c.shap for c in rest))
        widths = np.asarray(widths, float)
        return labels, self.base_value + np.concatenate([[0.0], np.cumsum(widths)[:-1]]), widths


@dataclass
class ShapGlobalResult(_Result):
    method: ClassVar[str] = "shap_global"
    _arrays: ClassVar[tuple[str, ...]] = ("mean_abs", "shap_values", "feature_values")

    explainer_kind: str
    target_class: str
    n_rows: int
    base_value: float
    features: list[str]  # largest mean |SHAP| first
    mean_abs: np.ndarray  # per feature, same order
    shap_values: np.ndarray  # features x rows: the beeswarm's x
    feature_values: np.ndarray  # features x rows: the beeswarm's colour
    max_additivity_error: float
    seconds: float


@dataclass
class AnchorResult(_Result):
    """``precision``/``coverage`` are alibi's (precision over its perturbed samples). The
    ``data_*`` figures count the background rows that satisfy the rule: how often the model
    really gives ``predicted`` on recorded samples matching it."""

    method: ClassVar[str] = "anchor"
    _rows: ClassVar[dict[str, type]] = {"conditions": AnchorCondition}

    rule: list[str]  # the conditions as text; empty when the prediction holds almost everywhere
    conditions: list[AnchorCondition]
    predicted: str
    precision: float
    coverage: float
    threshold: float
    threshold_met: bool
    data_precision: float | None  # None when no background row matches the rule
    data_coverage: float
    data_support: int  # background rows matching the rule
    seconds: float


@dataclass
class DependenceResult(_Result):
    method: ClassVar[str] = "dependence"
    _arrays: ClassVar[tuple[str, ...]] = ("grid", "pdp", "ice")

    feature: str
    target_class: str  # the curves are P(target_class)
    grid: np.ndarray
    pdp: np.ndarray  # mean of the ICE curves
    ice: np.ndarray  # rows x grid
    centred: bool  # each ICE curve minus its value at the first grid point
    categorical: bool
    seconds: float


@dataclass
class SurrogateResult(_Result):
    method: ClassVar[str] = "surrogate"

    max_depth: int
    depth: int  # the fitted tree's depth
    n_leaves: int
    fidelity: float  # agreement with the model's predictions on held-out rows
    train_fidelity: float  # on the rows it was fitted to
    n_train: int
    n_heldout: int
    class_names: list[str]
    text: str  # sklearn.tree.export_text
    nodes: list[dict]  # id, parent, depth, feature, threshold, left, right, samples, class_counts,
    #                    predicted, rule (the node's split), path (conditions from the root), leaf
    depth_fidelities: dict[str, float] | None  # validation fidelity per depth when the depth was chosen
    seconds: float


RESULT_TYPES = {cls.method: cls for cls in (LimeResult, ShapLocalResult, ShapGlobalResult, AnchorResult,
                                            DependenceResult, SurrogateResult)}


def result_from_json(data: dict):
    return RESULT_TYPES[data["method"]].from_json(data)
