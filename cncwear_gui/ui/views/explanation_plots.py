"""The Explanations view's panels: each takes a result object from cncwear_gui.explain and draws it.

Panels only read plain results; they never compute. Colours follow the SHAP/LIME convention
(orange pushes towards WORN, blue towards UNWORN), and every bar also carries its signed value
as text, so nothing is told by colour alone.
"""

from __future__ import annotations

import html

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QFont, QFontMetrics
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ..theme import (
    ANCHOR_WARNING_BACKGROUND,
    ICE_LINES,
    REFERENCE_LINE,
    REFERENCE_TEXT,
    TOWARDS_UNWORN,
    TOWARDS_WORN,
    ZERO_LINE,
    feature_value_colour,
)

MAX_WATERFALL_BARS = 12
MAX_SUMMARY_FEATURES = 15
LIME_TABLE_MIN_WIDTH = 600  # px of the LIME panel from which its value table fits beside the bars
LOW_LOCAL_FIT = 0.3  # below this R², LIME's linear surrogate says little about the sample


def _bar_colours(values) -> list:
    return [pg.mkBrush(*(TOWARDS_WORN if v >= 0 else TOWARDS_UNWORN)) for v in values]


class HorizontalBars(pg.PlotWidget):
    """Labelled horizontal bars, top to bottom in the order given; each bar may start anywhere."""

    def __init__(self, x_label: str, label_width: int = 200, parent=None):
        super().__init__(parent)
        self.setLabel("bottom", x_label)
        self.getAxis("bottom").enableAutoSIPrefix(False)
        self.showGrid(x=True, alpha=0.2)
        self.setMouseEnabled(False, False)
        self.hideButtons()
        self.setMinimumWidth(label_width + 80)  # the three local panels side by side fit 1024 px
        self.max_label_width = label_width
        self.getAxis("left").setWidth(label_width)
        self.label_font = QFont()
        self.label_font.setPointSize(8)
        self.getAxis("left").setStyle(tickFont=self.label_font)
        self._items: list = []
        self._extent = (0.0, 1.0, 0.0)  # the bars' low and high, and their value texts' width in px
        self.getViewBox().sigResized.connect(lambda _box: self._fit_x_range())

    def show_bars(self, labels: list[str], starts, widths, texts: list[str] | None = None) -> None:
        """No plot title: pyqtgraph widens the plot to a title's full text, past the widget's edge
        (the bars' right side was cut); the panels say it in their word-wrapped header instead."""
        for item in self._items:
            self.removeItem(item)
        self._items = []
        count = len(labels)
        y = np.arange(count)[::-1].astype(float)  # the first label on top
        starts, widths = np.asarray(starts, float), np.asarray(widths, float)
        bars = pg.BarGraphItem(x0=np.minimum(starts, starts + widths), y=y, height=0.7, width=np.abs(widths),
                               brushes=_bar_colours(widths), pens=[pg.mkPen(None)] * count)
        self.addItem(bars)
        self._items.append(bars)
        for index, text in enumerate(texts or []):
            end = starts[index] + widths[index]
            label = pg.TextItem(text, color=pg.getConfigOption("foreground"), anchor=(0, 0.5) if widths[index] >= 0 else (1, 0.5))
            label.setPos(end, y[index])
            self.addItem(label)
            self._items.append(label)
        # pyqtgraph silently drops a tick label wider than its axis: elide the longest in the middle
        metrics = QFontMetrics(self.label_font)
        fitted = [metrics.elidedText(label, Qt.ElideMiddle, self.max_label_width - 16) for label in labels]
        self.getAxis("left").setTicks([list(zip(y, fitted))])
        widest = max((metrics.horizontalAdvance(label) for label in fitted), default=0)
        self.getAxis("left").setWidth(min(self.max_label_width, widest + 16))  # the rest of the width to the bars
        low = min(0.0, float(np.min(starts)), float(np.min(starts + widths))) if count else 0.0
        high = max(0.0, float(np.max(starts)), float(np.max(starts + widths))) if count else 1.0
        text_px = max((QFontMetrics(QFont()).horizontalAdvance(t) for t in texts or []), default=0) + 8
        self._extent = (low, high, text_px)
        self._fit_x_range()
        self.setYRange(-0.9, max(count - 0.1, 0.9), padding=0)  # pyqtgraph hides labels that touch the edge

    def _fit_x_range(self) -> None:
        """Room beyond the bars for the values printed at their ends, in pixels at the plot's width:
        a share of the data range was too little on a narrow plot (1024 × 768), the texts were cut."""
        low, high, text_px = self._extent
        span = (high - low) or 0.1
        sides = 2 if low < 0 else 1  # a negative bar's value is printed left of its end
        plot_px = max(self.getViewBox().width(), 1.0)
        share = min(sides * text_px / plot_px, 0.8)  # the bars keep a fifth of the width at least
        total = span / (1 - share)
        pad = (total - span) / sides
        self.setXRange(low - (pad if low < 0 else span * 0.02), high + pad, padding=0)

    def add_marker(self, x: float, text: str, position: float = 0.97) -> None:
        """A dashed vertical line labelled at ``position`` (0 bottom … 1 top of the plot), the text on
        the side with more room; without the text where it would run past the plot's edge (a narrow
        pane: the panel's header gives the same figure)."""
        (x_min, x_max), _ = self.getViewBox().viewRange()
        left, right = x - x_min, x_max - x
        room_px = max(left, right) / ((x_max - x_min) or 1.0) * self.getViewBox().width()
        anchor = (1, 0.5) if left > right else (0, 0.5)
        fits = QFontMetrics(QFont()).horizontalAdvance(text) + 4 <= room_px
        line = pg.InfiniteLine(pos=x, angle=90, pen=pg.mkPen(REFERENCE_LINE, width=1, style=Qt.DashLine),
                               label=text if fits else None,
                               labelOpts={"position": position, "color": REFERENCE_TEXT, "anchors": [anchor, anchor]})
        line.setToolTip(text)
        self.addItem(line)
        self._items.append(line)


def _value_table(headers: list[str]) -> QTableWidget:
    table = QTableWidget(0, len(headers))
    table.setHorizontalHeaderLabels(headers)
    table.verticalHeader().hide()
    table.setEditTriggers(QTableWidget.NoEditTriggers)
    table.horizontalHeader().setSectionResizeMode(QHeaderView.Stretch)
    return table


def _fill(table: QTableWidget, rows: list[tuple]) -> None:
    table.setRowCount(len(rows))
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            text = f"{value:.4g}" if isinstance(value, (float, np.floating)) else str(value)
            item = QTableWidgetItem(text)
            item.setTextAlignment(Qt.AlignRight | Qt.AlignVCenter if c else Qt.AlignLeft | Qt.AlignVCenter)
            table.setItem(r, c, item)


class LimePanel(QWidget):
    """As on the talk's slide: prediction probabilities, weighted conditions, the feature values."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.header = QLabel("LIME: waiting for a sample")
        self.header.setWordWrap(True)
        self.bars = HorizontalBars("weight (orange → WORN, blue → UNWORN)", label_width=200)
        self.values = _value_table(["feature", "value"])
        self.values.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeToContents)  # values whole; names elide
        self.values.setMinimumWidth(170)  # the bars get the width first: a fixed 260 px table left them ~120 px
        self.values.setMaximumWidth(260)
        body = QHBoxLayout()
        body.addWidget(self.bars, 3)
        body.addWidget(self.values, 1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.header)
        layout.addLayout(body, 1)

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt's name
        """The feature values beside the bars only when the bars keep room for their values' texts;
        on a narrow pane (1024 × 768) the bars get the width (the SHAP labels carry the values too)."""
        super().resizeEvent(event)
        self.values.setVisible(event.size().width() >= LIME_TABLE_MIN_WIDTH)

    def show_result(self, result) -> None:
        probabilities = " · ".join(f"P({name}) = {p:.2f}" for name, p in result.probabilities.items())
        fit = f"local fit R² = {result.local_fit_score:.2f}"
        if result.local_fit_score < LOW_LOCAL_FIT:
            fit += " ⚠ low: the linear fit explains this sample poorly; trust SHAP and the anchor more"
        conditions = [c for c, _ in result.conditions]
        weights = [w for _, w in result.conditions]
        self.header.setText(f"<b>LIME</b> — predicted <b>{result.predicted.upper()}</b> · {probabilities} · {fit}"
                            f"<br>top {len(weights)} conditions (fixed seed: repeatable)")
        self.bars.show_bars(conditions, np.zeros(len(weights)), weights, [f"{w:+.3f}" for w in weights])
        _fill(self.values, [(name, value) for name, value in result.feature_values])


class WaterfallPanel(QWidget):
    """SHAP waterfall: the base value plus each contribution lands on the model's output."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.header = QLabel("SHAP: waiting for a sample")
        self.header.setWordWrap(True)
        self.bars = HorizontalBars("P(worn)", label_width=180)
        layout = QVBoxLayout(self)
        layout.addWidget(self.header)
        layout.addWidget(self.bars, 1)

    def show_result(self, result) -> None:
        labels, starts, widths = result.waterfall(MAX_WATERFALL_BARS)
        self.bars.show_bars(labels, starts, widths, [f"{w:+.3f}" for w in widths])
        self.bars.add_marker(result.base_value, f"base {result.base_value:.3f}", position=0.04)
        self.bars.add_marker(result.model_output, f"output {result.model_output:.3f}", position=0.97)
        total = result.base_value + sum(c.shap for c in result.contributions)
        self.header.setText(
            f"<b>SHAP</b> ({result.explainer_kind}) — base {result.base_value:.3f} + contributions "
            f"{total - result.base_value:+.3f} = <b>{total:.3f}</b>; the model says {result.model_output:.3f} "
            f"(additivity error {result.additivity_error:.1e}); dashed: the base and the output"
            f"<br>from the average prediction to this sample's")


def _breakable(text: str) -> str:
    """A zero-width space after each underscore: a feature name (M1_CURRENT_PROGRAM_NUMBER) is one word
    to Qt's wrapping, wider than a narrow card, and was cut at its edge; now it breaks after a part."""
    return text.replace("_", "_\u200b")


class AnchorCard(QFrame):
    """The anchor rule with its precision and coverage; a warning when the threshold was not met."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setFrameShape(QFrame.StyledPanel)
        self.title = QLabel("<b>Anchor rule</b>")
        self.rule = QLabel("waiting for a sample")
        self.rule.setTextFormat(Qt.RichText)  # conditions contain "<": never let Qt guess
        self.rule.setWordWrap(True)
        self.rule.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.rule.setStyleSheet("font-size: 13pt;")
        self.figures = QLabel("")
        self.figures.setTextFormat(Qt.RichText)
        self.figures.setWordWrap(True)
        self.warning = QLabel("")
        self.warning.setWordWrap(True)
        layout = QVBoxLayout(self)
        for widget in (self.title, self.rule, self.figures, self.warning):
            layout.addWidget(widget)
        layout.addStretch(1)

    def show_result(self, result) -> None:
        conditions = ("<br>AND ".join(_breakable(html.escape(c)) for c in result.rule) if result.rule
                      else "(empty rule: the prediction holds almost everywhere)")
        self.rule.setText(f"IF {conditions}<br>THEN <b>{result.predicted.upper()}</b>")
        figures = (f"precision {result.precision:.1%} (target {result.threshold:.0%}) · "
                   f"coverage {result.coverage:.1%} · {result.seconds:.1f} s")
        if result.data_precision is not None:
            figures += (f"<br>On recorded data: {result.data_support:,} samples match the rule; the model calls "
                        f"{result.data_precision:.0%} of them {result.predicted.upper()}")
        self.figures.setText(figures)
        if result.threshold_met:
            self.warning.setText("")
            self.setStyleSheet("")
        else:
            self.warning.setText(f"⚠ Threshold not met: the best rule found holds only {result.precision:.0%} of "
                                 "the time. Do not read it as a reason.")
            self.setStyleSheet(f"AnchorCard {{ background: {ANCHOR_WARNING_BACKGROUND}; }}")

    def show_message(self, text: str) -> None:
        self.rule.setText(text)
        self.figures.setText("")
        self.warning.setText("")


class DependencePanel(QWidget):
    """ICE curves (one per sampled row) and their mean, the PDP, for a chosen feature."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.feature = QComboBox()
        self.feature.setMinimumWidth(260)
        self.centred = QCheckBox("centred ICE (each curve starts at 0)")
        self.header = QLabel("")
        controls = QHBoxLayout()
        controls.addWidget(QLabel("Feature:"))
        controls.addWidget(self.feature)
        controls.addWidget(self.centred)
        controls.addWidget(self.header, 1)
        self.plot = pg.PlotWidget()
        self.plot.setLabel("left", "P(worn)")
        self.plot.getAxis("left").enableAutoSIPrefix(False)
        self.plot.showGrid(x=True, y=True, alpha=0.2)
        self.plot.addLegend(offset=(10, 10))
        self.ice = self.plot.plot(pen=pg.mkPen(*ICE_LINES), name="ICE: one sample each")
        self.pdp = self.plot.plot(pen=pg.mkPen(pg.getConfigOption("foreground"), width=3), name="PDP: the average")
        layout = QVBoxLayout(self)
        layout.addLayout(controls)
        layout.addWidget(self.plot, 1)

    def set_features(self, names: list[str], preferred: str | None = None) -> None:
        self.feature.blockSignals(True)
        self.feature.clear()
        self.feature.addItems(names)
        if preferred in names:
            self.feature.setCurrentText(preferred)
        self.feature.blockSignals(False)

    def show_result(self, result) -> None:
        grid = np.asarray(result.grid, float)
        ice = np.asarray(result.ice, float)
        rows = ice.shape[0]
        xs = np.tile(grid, rows)
        connect = np.ones(xs.size, dtype=bool)
        connect[len(grid) - 1::len(grid)] = False  # one polyline per sample, not joined end to start
        self.ice.setData(xs, ice.ravel(), connect=connect)
        self.pdp.setData(grid, np.asarray(result.pdp, float))
        self.plot.setLabel("bottom", result.feature)
        self.plot.setLabel("left", "ΔP(worn) from the curve's start" if result.centred else "P(worn)")
        spread = float(np.ptp(result.pdp)) if len(result.pdp) else 0.0
        self.header.setText(f"{rows} ICE curves over {len(grid)} values; the PDP moves by {spread:.3f}")


class ShapSummaryPanel(QWidget):
    """Global SHAP over a sample of rows: mean |SHAP| bars and a beeswarm coloured by feature value."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.header = QLabel("")
        self.header.setWordWrap(True)
        self.bars = HorizontalBars("mean |SHAP| (P(worn))", label_width=200)
        self.swarm = pg.PlotWidget()
        self.swarm.setLabel("bottom", "SHAP value (towards WORN →)")
        self.swarm.getAxis("bottom").enableAutoSIPrefix(False)
        self.swarm.showGrid(x=True, alpha=0.2)
        self.swarm.getAxis("left").setWidth(200)
        small = QFont()
        small.setPointSize(8)
        self.swarm.getAxis("left").setStyle(tickFont=small)
        self.swarm.setMouseEnabled(False, False)
        self.points = pg.ScatterPlotItem(size=4, pen=None)
        self.swarm.addItem(self.points)
        self.swarm.addItem(pg.InfiniteLine(pos=0, angle=90, pen=pg.mkPen(ZERO_LINE)))
        body = QHBoxLayout()
        body.addWidget(self.bars, 1)
        body.addWidget(self.swarm, 1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.header)
        layout.addLayout(body, 1)

    def show_result(self, result) -> None:
        order = list(np.argsort(result.mean_abs)[::-1][:MAX_SUMMARY_FEATURES])
        names = [result.features[i] for i in order]
        self.bars.show_bars(names, np.zeros(len(order)), [result.mean_abs[i] for i in order],
                            [f"{result.mean_abs[i]:.3f}" for i in order])
        xs, ys, brushes = [], [], []
        rng = np.random.default_rng(0)
        for rank, index in enumerate(order):
            shap_values = np.asarray(result.shap_values[index], float)
            values = np.asarray(result.feature_values[index], float)
            low, high = np.nanpercentile(values, [5, 95]) if len(values) else (0.0, 1.0)
            scaled = np.clip((values - low) / ((high - low) or 1.0), 0, 1)
            xs.append(shap_values)
            ys.append(len(order) - 1 - rank + rng.uniform(-0.3, 0.3, len(shap_values)))
            brushes += [pg.mkBrush(*feature_value_colour(s)) for s in scaled]
        if xs:
            self.points.setData(np.concatenate(xs), np.concatenate(ys), brush=brushes)
        self.swarm.getAxis("left").setTicks([[(len(order) - 1 - r, n) for r, n in enumerate(names)]])
        self.header.setText(f"<b>Global SHAP</b> over {result.n_rows} samples of the loaded data: which features "
                            "move P(worn) most (left), each dot a sample's SHAP value, red for a high feature value, blue for a low one (right)")
