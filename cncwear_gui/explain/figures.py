"""Static charts for the explanation report, drawn with matplotlib's object API (no pyplot, so
it is safe in worker threads) and returned as PNG bytes."""

from __future__ import annotations

import io

import numpy as np

TOWARDS_WORN = "#d66e1e"
TOWARDS_UNWORN = "#2864aa"
MAX_BARS = 12


def _png(figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    return buffer.getvalue()


def _figure(height_rows: int):
    from matplotlib.figure import Figure

    return Figure(figsize=(7.5, 0.9 + 0.32 * max(height_rows, 3)))


def signed_bars(labels: list[str], values: list[float], title: str, xlabel: str) -> bytes:
    """Horizontal bars, first label on top, orange towards WORN and blue towards UNWORN."""
    figure = _figure(len(labels))
    axes = figure.add_subplot()
    y = np.arange(len(labels))[::-1]
    axes.barh(y, values, color=[TOWARDS_WORN if v >= 0 else TOWARDS_UNWORN for v in values])
    axes.set_yticks(y, labels, fontsize=8)
    for position, value in zip(y, values):
        axes.annotate(f"{value:+.3f}", (value, position), xytext=(3 if value >= 0 else -3, 0),
                      textcoords="offset points", va="center", ha="left" if value >= 0 else "right", fontsize=7)
    axes.axvline(0, color="#777777", linewidth=0.8)
    axes.set_title(title, fontsize=9)
    axes.set_xlabel(xlabel, fontsize=8)
    axes.margins(x=0.2)
    return _png(figure)


def waterfall(shap_local) -> bytes:
    """SHAP waterfall: bars from the base value, one per feature, ending at the model's output."""
    labels, starts, widths = shap_local.waterfall(MAX_BARS)
    base, output = shap_local.base_value, shap_local.model_output
    figure = _figure(len(labels))
    axes = figure.add_subplot()
    y = np.arange(len(labels))[::-1]
    axes.barh(y, widths, left=starts, color=[TOWARDS_WORN if w >= 0 else TOWARDS_UNWORN for w in widths])
    axes.set_yticks(y, labels, fontsize=8)
    axes.axvline(base, color="#777777", linestyle="--", linewidth=0.8, label=f"base {base:.3f}")
    axes.axvline(output, color="#222222", linestyle=":", linewidth=1.0, label=f"output {output:.3f}")
    axes.legend(fontsize=7, loc="lower right")
    axes.set_xlabel("P(worn)", fontsize=8)
    axes.set_title("SHAP waterfall: base value + contributions = the model's output", fontsize=9)
    return _png(figure)


def dependence(grid, ice, pdp, feature: str, centred: bool) -> bytes:
    from matplotlib.figure import Figure

    figure = Figure(figsize=(7.5, 3.2))
    axes = figure.add_subplot()
    grid = np.asarray(grid, float)
    for curve in np.asarray(ice, float):
        axes.plot(grid, curve, color="#999999", alpha=0.25, linewidth=0.7)
    axes.plot(grid, pdp, color="#111111", linewidth=2.5, label="PDP (average)")
    axes.set_xlabel(feature, fontsize=8)
    axes.set_ylabel("ΔP(worn)" if centred else "P(worn)", fontsize=8)
    axes.set_title(f"ICE (grey, one per sample) and PDP for {feature}", fontsize=9)
    axes.legend(fontsize=7)
    return _png(figure)


def importance(features: list[str], mean_abs: list[float]) -> bytes:
    order = list(np.argsort(mean_abs)[::-1][:15])
    figure = _figure(len(order))
    axes = figure.add_subplot()
    y = np.arange(len(order))[::-1]
    axes.barh(y, [mean_abs[i] for i in order], color="#777777")
    axes.set_yticks(y, [features[i] for i in order], fontsize=8)
    axes.set_xlabel("mean |SHAP| (P(worn))", fontsize=8)
    axes.set_title("Global SHAP: the features that move P(worn) most", fontsize=9)
    return _png(figure)


def taught_bars(signals: list[str], pcts: dict[str, list[float]], warn_pct: float, alarm_pct: float,
                title: str) -> bytes:
    """The window's level and variability per signal as % of taught, against the taught value
    (100 %) and the warning and alarm limits; signals idle in the reference have no bar."""
    names = list(pcts)
    figure = _figure(len(signals) * len(names) // 2 + 1)
    axes = figure.add_subplot()
    height = 0.8 / max(len(names), 1)
    y = np.arange(len(signals))[::-1]
    for offset, (name, colour) in enumerate(zip(names, ("#9a9a9a", "#505050"))):
        values = np.asarray([np.nan if v is None else v for v in pcts[name]], float)
        positions = y + (len(names) / 2 - offset - 0.5) * height
        axes.barh(positions, np.nan_to_num(values), height=height * 0.95, color=colour, label=name)
        for position, value in zip(positions, values):
            if np.isfinite(value):
                axes.annotate(f"{value:.0f} %", (value, position), xytext=(3, 0), textcoords="offset points",
                              va="center", fontsize=6)
    for position, values in zip(y, zip(*[pcts[name] for name in names])):
        if all(v is None or not np.isfinite(v) for v in values):
            axes.annotate("idle when taught: not judged", (0, position), xytext=(3, 0), textcoords="offset points",
                          va="center", fontsize=7)
    axes.set_yticks(y, signals, fontsize=8)
    axes.axvline(100, color="#222222", linestyle="--", linewidth=0.8, label="taught (100 %)")
    axes.axvline(100 + warn_pct, color="#cc8c28", linewidth=1.2, label=f"warning {100 + warn_pct:.0f} %")
    axes.axvline(100 + alarm_pct, color="#b00000", linewidth=1.2, label=f"alarm {100 + alarm_pct:.0f} %")
    axes.set_xlabel("% of the taught value", fontsize=8)
    axes.set_title(title, fontsize=9)
    axes.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=5, frameon=False)
    axes.margins(x=0.15)
    return _png(figure)
