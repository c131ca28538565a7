"""One or two sentences for the operator, from the top SHAP features and the anchor rule, e.g.

    Called WORN (P(worn) = 0.97) mainly because X1_OutputCurrent is high (329) and
    S1_ActualVelocity is low (0.0); the rule 'X1_OutputCurrent > 327.00 and phase = Layer 1 Up'
    gives WORN in 96 % of the 412 recorded samples that match it.
"""

from __future__ import annotations

from .results import AnchorResult, ShapLocalResult

MIN_SHARE = 0.005  # contributions smaller than this (in probability) are not named as reasons


def _percent(fraction: float) -> str:
    return f"{round(100 * fraction)} %"


def _level(percentile: float) -> str:
    if percentile >= 75:
        return "high"
    if percentile >= 60:
        return "fairly high"
    if percentile <= 25:
        return "low"
    if percentile <= 40:
        return "fairly low"
    return "typical"


def _reason(feature: str, display: str, percentile: float) -> str:
    try:
        float(display)
    except ValueError:  # a category, such as the phase's name
        return f"{feature} is {display}"
    return f"{feature} is {_level(percentile)} ({display})"


def _shap_part(shap: ShapLocalResult, top: int) -> str:
    towards_target = shap.predicted == shap.target_class
    reasons = [
        _reason(c.feature, display, percentile)
        for c, display, percentile in zip(shap.contributions, shap.display_values, shap.percentiles)
        if (c.shap > MIN_SHARE if towards_target else c.shap < -MIN_SHARE)
    ][:top]
    head = f"Called {shap.predicted.upper()} (P({shap.target_class}) = {shap.model_output:.2f})"
    if not reasons:
        return head + " with no single feature standing out"
    return head + " mainly because " + " and ".join([", ".join(reasons[:-1]), reasons[-1]] if len(reasons) > 1 else reasons)


def _anchor_part(anchor: AnchorResult, predicted: str) -> str:
    if not anchor.threshold_met:
        return (f"no simple rule reached {_percent(anchor.threshold)} precision for this sample, "
                "so weigh this call with care")
    if not anchor.rule:
        return f"the model gives {predicted.upper()} for nearly every sample, whatever its values"
    rule = " and ".join(anchor.rule)
    if anchor.data_support and anchor.data_precision is not None:
        return (f"the rule '{rule}' gives {predicted.upper()} in {_percent(anchor.data_precision)} of the "
                f"{anchor.data_support:,} recorded samples that match it")
    return f"the rule '{rule}' gives {predicted.upper()} in {_percent(anchor.precision)} of similar samples"


def plain_language(anchor: AnchorResult | None, shap: ShapLocalResult | None, top: int = 2) -> str:
    """The operator's sentence; either result may be missing."""
    if shap is None and anchor is None:
        return ""
    predicted = shap.predicted if shap is not None else anchor.predicted
    first = _shap_part(shap, top) if shap is not None else f"Called {predicted.upper()}"
    if anchor is None:
        return first + "."
    return f"{first}; {_anchor_part(anchor, predicted)}."
