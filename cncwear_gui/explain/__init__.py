"""Why the model called a sample worn: LIME, SHAP, Anchors, ICE/PDP and a surrogate tree.

Qt-free and cheap to import: shap, alibi, lime and scikit-learn load on first use.
"""

from .engine import METHODS, ExplanationEngine
from .inputs import ExplanationInputError
from .results import (
    AnchorCondition,
    AnchorResult,
    Contribution,
    DependenceResult,
    FeatureValue,
    LimeResult,
    ShapGlobalResult,
    ShapLocalResult,
    SurrogateResult,
    WeightedCondition,
    result_from_json,
)
from .summary import plain_language

__all__ = [
    "METHODS",
    "AnchorCondition",
    "AnchorResult",
    "Contribution",
    "DependenceResult",
    "ExplanationEngine",
    "ExplanationInputError",
    "FeatureValue",
    "LimeResult",
    "ShapGlobalResult",
    "ShapLocalResult",
    "SurrogateResult",
    "WeightedCondition",
    "plain_language",
    "result_from_json",
]
