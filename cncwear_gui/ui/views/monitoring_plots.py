"""The Monitoring view's plots: drift heatmap and trends, prediction histogram, model statistics.

Widgets only draw what they are given; they never compute drift or statistics. Items are created
once and updated with ``setData``/``setImage``. ISA-101: PSI below the warning level stays grey;
amber marks a moderate change (PSI ≥ 0.1), red a significant one (PSI ≥ 0.25), and the levels are
also written on the colour bar, the threshold lines and in the tables (never colour alone).
"""

from __future__ import annotations

import math
from datetime import datetime, timezone

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics
from PySide6.QtWidgets import QHeaderView, QLabel, QSizePolicy, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget

from ...monitoring.drift import FEATURE_GROUPS, PREDICTION_EDGES, DriftThresholds
from ..theme import (
    ALARM_BACKGROUND,
    ALARM_LINE,
    DARK_BARS,
    GREY,
    GROUP_COLOURS,
    LIGHT_GREY,
    PSI_MAP,
    SECOND_LINE,
    THRESHOLD_LINE,
    THRESHOLD_TEXT,
    WARN_LINE,
    WARNING_BACKGROUND,
)

THRESHOLDS = DriftThresholds()
PSI_CLIP = 1.0  # the heatmap's colour scale ends here; larger PSI shows as the darkest red
MIN_LOG_PSI = 1e-3  # the trend plot is logarithmic: smaller values are drawn at this floor
MAX_LOG_PSI = 20.0  # a window of never-seen values scores about 18
LEVEL_TEXT = {"ok": "● ok", "warn": "▲ warn", "alarm": "◆ ALARM"}
LEVEL_BACKGROUND = {"ok": None, "warn": QColor(WARNING_BACKGROUND), "alarm": QColor(ALARM_BACKGROUND)}
# Trend lines: one muted colour and one symbol per group, so each is told apart without colour too.
GROUP_STYLE = {
    "X1": (GROUP_COLOURS["X1"], "o", Qt.SolidLine),
    "Y1": (GROUP_COLOURS["Y1"], "s", Qt.DashLine),
    "Z1": (GROUP_COLOURS["Z1"], "t", Qt.SolidLine),
    "S1": (GROUP_COLOURS["S1"], "d", Qt.DashLine),
    "M1": (GROUP_COLOURS["M1"], "x", Qt.SolidLine),
    "process": (GROUP_COLOURS["process"], "+", Qt.DotLine),
}


def psi_colour_map() -> pg.ColorMap:
    """Grey below the warning level, amber for warn, red for alarm (stepped at 0.1 and 0.25)."""
    warn, alarm = THRESHOLDS.psi_warn / PSI_CLIP, THRESHOLDS.psi_alarm / PSI_CLIP
    return pg.ColorMap(
        [0.0, warn - 1e-6, warn, alarm - 1e-6, alarm, 1.0],
        PSI_MAP,
    )


def _small_font(points: int = 8) -> QFont:
    font = QFont()
    font.setPointSize(points)
    return font


def _quiet_plot(plot: pg.PlotItem) -> None:
    plot.setMouseEnabled(False, False)
    plot.hideButtons()
    plot.setMenuEnabled(False)


class _TimeAxis(pg.AxisItem):
    """Check times (UTC) at column centres, thinned to a readable number of labels."""

    def __init__(self):
        super().__init__("bottom")
        self.times: list[datetime] = []

    def tickValues(self, minVal, maxVal, size):
        n = len(self.times)
        if not n:
            return []
        step = max(1, math.ceil(n / max(2, int(size / 85))))
        return [(step, [i + 0.5 for i in range(n - 1, -1, -step)])]

    def tickStrings(self, values, scale, spacing):
        labels = []
        for value in values:
            index = int(value)
            labels.append(self.times[index].strftime("%H:%M:%S") if 0 <= index < len(self.times) else "")
        return labels


class DriftHeatmap(pg.GraphicsLayoutWidget):
    """PSI per feature (rows, grouped X1, Y1, Z1, S1, M1, process) × check (columns, oldest left).

    ``matrix`` keeps the raw PSI (NaN where a feature was not compared: drawn empty, not as "no
    change"); the colours are clipped at ``PSI_CLIP``. Hovering a cell names the feature, the time and its PSI in ``hover_text``.
    """

    def __init__(self, parent=None):
        super().__init__(parent)
        self.features: list[str] = []
        self.times: list[datetime] = []
        self.matrix = np.zeros((0, 0))
        self.time_axis = _TimeAxis()
        self.plot = self.addPlot(axisItems={"bottom": self.time_axis})
        _quiet_plot(self.plot)
        self.plot.invertY(True)
        self.plot.setLabel("bottom", "check time (UTC)")
        self.plot.getAxis("left").setStyle(tickFont=_small_font(7))
        self.plot.getAxis("left").setWidth(150)
        self.image = pg.ImageItem()
        self.plot.addItem(self.image)
        self.colour_bar = pg.ColorBarItem(values=(0, PSI_CLIP), colorMap=psi_colour_map(), interactive=False,
                                          width=18, label="PSI (clipped at 1)")
        self.colour_bar.setImageItem(self.image, insert_in=self.plot)
        self.colour_bar.axis.setTicks([[(0.0, "0 ok"), (THRESHOLDS.psi_warn, "0.1 warn"),
                                        (THRESHOLDS.psi_alarm, "0.25 alarm"), (PSI_CLIP, "≥ 1")]])
        self.colour_bar.axis.setWidth(78)  # room for the level names next to the thresholds
        self.separators = []  # lines between the feature groups
        self.placeholder = pg.TextItem("No drift check yet", color=GREY, anchor=(0.5, 0.5))
        self.plot.addItem(self.placeholder)
        self.hover_text = ""
        self.hovered = QLabel("Hover a cell to read its PSI.")
        self.scene().sigMouseMoved.connect(self._hover)

    def show_checks(self, features: list[str], times: list[datetime], matrix: np.ndarray) -> None:
        self.features, self.times, self.matrix = list(features), list(times), np.asarray(matrix, dtype=np.float64)
        self.time_axis.times = self.times
        n_features, n_checks = self.matrix.shape if self.matrix.ndim == 2 else (0, 0)
        self.placeholder.setVisible(n_checks == 0)
        if n_checks == 0:
            self.image.clear()
            self.placeholder.setPos(0.5, 0.5)
            self.plot.setRange(xRange=(0, 1), yRange=(0, 1), padding=0)
            return
        clipped = np.clip(self.matrix, 0.0, PSI_CLIP)  # NaN (not compared, e.g. an unfamiliar setup) stays empty
        self.image.setImage(clipped.T, levels=(0.0, PSI_CLIP), autoLevels=False)  # col-major: [check, feature]
        self.image.setRect(0, 0, n_checks, n_features)
        self.plot.getAxis("left").setTicks([[(i + 0.5, name) for i, name in enumerate(self.features)]])
        self._separate_groups()
        self.plot.setRange(xRange=(0, n_checks), yRange=(0, n_features), padding=0)
        self.time_axis.picture = None
        self.time_axis.update()

    def _separate_groups(self) -> None:
        from ...monitoring.drift import feature_group

        for line in self.separators:
            self.plot.removeItem(line)
        groups = [feature_group(name) for name in self.features]
        self.separators = [pg.InfiniteLine(pos=i, angle=0, pen=pg.mkPen(GREY, width=1))
                           for i in range(1, len(groups)) if groups[i] != groups[i - 1]]
        for line in self.separators:
            self.plot.addItem(line)

    def _hover(self, position) -> None:
        if not self.features or not self.times or not self.plot.sceneBoundingRect().contains(position):
            return
        point = self.plot.vb.mapSceneToView(position)
        column, row = int(math.floor(point.x())), int(math.floor(point.y()))
        if 0 <= row < len(self.features) and 0 <= column < len(self.times):
            value = self.matrix[row, column]
            level = "not compared" if np.isnan(value) else THRESHOLDS.level(float(value), None)
            psi = "—" if np.isnan(value) else f"{value:.3f}"
            self.hover_text = (f"{self.features[row]} at {self.times[column]:%H:%M:%S} UTC: PSI {psi}"
                               + ("" if np.isnan(value) else f" ({LEVEL_TEXT[level]})"))
            self.hovered.setText(self.hover_text)


class GroupPsiPlot(pg.PlotWidget):
    """The largest PSI per feature group per check (log scale), with the warn and alarm lines; the
    checks are spaced as the heatmap's columns, labelled with their time."""

    def __init__(self, parent=None):
        self.time_axis = _TimeAxis()
        super().__init__(parent, axisItems={"bottom": self.time_axis})
        _quiet_plot(self.getPlotItem())
        self.setLogMode(y=True)
        self.setLabel("left", "largest PSI in group")
        self.setLabel("bottom", "check time (UTC)")
        self.getAxis("left").enableAutoSIPrefix(False)
        self.showGrid(y=True, alpha=0.15)
        self.legend = self.addLegend(offset=(5, -1), labelTextSize="8pt", colCount=6)  # bottom: PSI < 0.01 is rare
        self.curves = {}
        for group in FEATURE_GROUPS:
            colour, symbol, style = GROUP_STYLE[group]
            self.curves[group] = self.plot([], [], name=group, pen=pg.mkPen(colour, width=2, style=style),
                                           symbol=symbol, symbolSize=6, symbolBrush=colour, symbolPen=colour)
        for value, text, colour, anchor in ((THRESHOLDS.psi_warn, "warn 0.1", WARN_LINE, (0, 0)),
                                            (THRESHOLDS.psi_alarm, "alarm 0.25", ALARM_LINE, (0, 1))):
            line = pg.InfiniteLine(pos=math.log10(value), angle=0, pen=pg.mkPen(colour, width=2, style=Qt.DashLine),
                                   label=text, labelOpts={"position": 0.03, "color": colour, "anchors": [anchor, anchor]})
            self.addItem(line)
        self.setYRange(math.log10(MIN_LOG_PSI), math.log10(MAX_LOG_PSI), padding=0.02)

    def show_series(self, times: list[datetime], groups: dict[str, list[float]]) -> None:
        self.time_axis.times = list(times)
        x = np.arange(len(times), dtype=np.float64) + 0.5
        for group, curve in self.curves.items():
            values = np.array([np.nan if v is None else v for v in groups.get(group, [])], dtype=np.float64)
            if values.size != x.size or not np.isfinite(values).any():  # nothing judged: no curve (not a line at 0)
                curve.setData([], [])
                continue
            curve.setData(x, np.clip(values, MIN_LOG_PSI, None), connect="finite")
        self.setXRange(0, max(1, x.size), padding=0.01)
        self.time_axis.picture = None
        self.time_axis.update()


class PredictionHistogram(pg.PlotWidget):
    """The window's predicted P(worn) distribution against the training reference (10 bins)."""

    def __init__(self, parent=None):
        super().__init__(parent)
        _quiet_plot(self.getPlotItem())
        self.setLabel("bottom", "predicted P(worn)")
        self.setLabel("left", "samples (%)")
        self.getAxis("left").enableAutoSIPrefix(False)
        self.showGrid(y=True, alpha=0.15)
        edges = np.asarray(PREDICTION_EDGES)
        self.centres = (edges[:-1] + edges[1:]) / 2
        width = (edges[1] - edges[0]) * 0.4
        self.reference_bars = pg.BarGraphItem(x=self.centres - width / 2, height=np.zeros(10), width=width,
                                              brush=pg.mkBrush(*LIGHT_GREY), pen=pg.mkPen(GREY))
        self.window_bars = pg.BarGraphItem(x=self.centres + width / 2, height=np.zeros(10), width=width,
                                           brush=pg.mkBrush(*DARK_BARS), pen=pg.mkPen(GREY))
        self.addItem(self.reference_bars)
        self.addItem(self.window_bars)
        legend = self.addLegend(labelTextSize="8pt")
        legend.addItem(self.reference_bars, "training reference")
        legend.addItem(self.window_bars, "this window")
        legend.anchor(itemPos=(0.5, 0), parentPos=(0.74, 0), offset=(0, 2))  # both ends of P(worn) hold the bars
        self.threshold = pg.InfiniteLine(pos=0.5, angle=90, pen=pg.mkPen(THRESHOLD_LINE, width=2, style=Qt.DashLine),
                                         label="worn threshold", labelOpts={"position": 0.55, "color": THRESHOLD_TEXT})
        self.addItem(self.threshold)
        self.setXRange(0, 1, padding=0.02)
        self.reference = np.zeros(10)
        self.window = np.zeros(10)

    def show_distribution(self, reference: list[float] | None, window: np.ndarray | None, threshold: float) -> None:
        self.reference = np.zeros(10) if reference is None else np.asarray(reference, dtype=np.float64) * 100
        self.window = np.zeros(10) if window is None else np.asarray(window, dtype=np.float64) * 100
        self.reference_bars.setOpts(height=self.reference)
        self.window_bars.setOpts(height=self.window)
        self.threshold.setValue(threshold)
        self.setYRange(0, max(5.0, float(max(self.reference.max(), self.window.max())) * 1.1), padding=0)


class ConfusionMatrix(QTableWidget):
    """2×2: rows true OK / true WORN, columns predicted OK / predicted WORN; counts and row shares.
    Each cell keeps its count in Qt.UserRole."""

    ROWS = ("true OK", "true WORN")
    COLUMNS = ("predicted OK", "predicted WORN")

    def __init__(self, parent=None):
        super().__init__(2, 2, parent)
        self.setHorizontalHeaderLabels(self.COLUMNS)
        self.setVerticalHeaderLabels(self.ROWS)
        self.horizontalHeader().setSectionResizeMode(QHeaderView.Stretch)
        self.verticalHeader().setSectionResizeMode(QHeaderView.Stretch)
        self.setEditTriggers(QTableWidget.NoEditTriggers)
        self.setSelectionMode(QTableWidget.NoSelection)
        self.setFocusPolicy(Qt.NoFocus)
        bold = QFont(self.font())
        bold.setPointSize(11)
        lines = QFontMetrics(bold).lineSpacing() * 2 + 8  # a cell's count and share, on two lines in a narrow column
        self.setFixedHeight(self.horizontalHeader().sizeHint().height() + 2 * lines + 4)
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Fixed)
        self.show_matrix(None)

    def show_matrix(self, matrix: list[list[int]] | None) -> None:
        bold = QFont()
        bold.setPointSize(11)
        for r in range(2):
            total = sum(matrix[r]) if matrix else 0
            for c in range(2):
                if matrix is None:
                    item = QTableWidgetItem("—")
                else:
                    count = int(matrix[r][c])
                    share = f"{count / total:.1%}" if total else "—"
                    item = QTableWidgetItem(f"{count:,}\n({share} of {self.ROWS[r]})")  # whole in a 300 px column
                    item.setData(Qt.UserRole, count)
                    item.setToolTip(f"{self.ROWS[r]}, {self.COLUMNS[c]}: {count:,} samples = {share} of the {self.ROWS[r]} samples")
                    if r == c:
                        item.setFont(bold)
                item.setTextAlignment(Qt.AlignCenter)
                self.setItem(r, c, item)

    def counts(self) -> list[list[int | None]]:
        return [[self.item(r, c).data(Qt.UserRole) for c in range(2)] for r in range(2)]


class RocPlot(pg.PlotWidget):
    """ROC curve with its AUC, the chance diagonal, and the operating point at the worn threshold."""

    def __init__(self, parent=None):
        super().__init__(parent)
        _quiet_plot(self.getPlotItem())
        self.setLabel("bottom", "false positive rate")
        self.setLabel("left", "true positive rate")
        self.setAspectLocked(False)
        self.setXRange(0, 1, padding=0.03)
        self.setYRange(0, 1, padding=0.03)
        self.showGrid(x=True, y=True, alpha=0.15)
        self.addItem(pg.PlotDataItem([0, 1], [0, 1], pen=pg.mkPen(LIGHT_GREY, style=Qt.DashLine)))
        self.curve = self.plot([], [], pen=pg.mkPen(GREY, width=2))
        self.point = self.plot([], [], pen=None, symbol="o", symbolSize=10, symbolBrush=THRESHOLD_LINE, symbolPen=GREY)
        self.point_label = pg.TextItem("", color=THRESHOLD_TEXT, anchor=(0, 0))
        self.addItem(self.point_label)
        self.setTitle("ROC: not available", size="9pt")

    def show_roc(self, statistics, threshold: float) -> None:
        if statistics is None or not statistics.has_roc:
            self.curve.setData([], [])
            self.point.setData([], [])
            self.point_label.setText("")
            self.setTitle("ROC: n/a (one class)" if statistics is not None else "ROC: not available", size="9pt")
            return
        self.curve.setData(statistics.fpr, statistics.tpr)
        fpr = statistics.fp / max(1, statistics.fp + statistics.tn)
        tpr = statistics.tp / max(1, statistics.tp + statistics.fn)
        self.point.setData([fpr], [tpr])
        self.point_label.setText(f" threshold {threshold:.2f}")
        self.point_label.setPos(fpr, tpr)
        self.setTitle(f"ROC · AUC {statistics.roc_auc:.4f}", size="9pt")


class PrecisionRecallPlot(pg.PlotWidget):
    """Precision and recall against the decision threshold, with the app's worn threshold marked."""

    def __init__(self, parent=None):
        super().__init__(parent)
        _quiet_plot(self.getPlotItem())
        self.setLabel("bottom", "threshold on P(worn)")
        self.setLabel("left", "precision, recall")
        self.setXRange(0, 1, padding=0.03)
        self.setYRange(0, 1.02, padding=0.03)
        self.showGrid(x=True, y=True, alpha=0.15)
        self.addLegend(offset=(-5, -30), labelTextSize="8pt")
        self.precision = self.plot([], [], name="precision", pen=pg.mkPen(GREY, width=2))
        self.recall = self.plot([], [], name="recall", pen=pg.mkPen(SECOND_LINE, width=2, style=Qt.DashLine))
        self.threshold = pg.InfiniteLine(pos=0.5, angle=90, pen=pg.mkPen(THRESHOLD_LINE, width=2, style=Qt.DashLine),
                                         label="worn threshold 0.50", labelOpts={"position": 0.12, "color": THRESHOLD_TEXT})
        self.addItem(self.threshold)
        self.setTitle("precision, recall: n/a", size="9pt")

    def show_curves(self, statistics, threshold: float) -> None:
        self.threshold.setValue(threshold)
        self.threshold.label.setFormat(f"worn threshold {threshold:.2f}")
        if statistics is None or statistics.pr_thresholds is None:
            self.precision.setData([], [])
            self.recall.setData([], [])
            self.setTitle("precision, recall: n/a", size="9pt")
            return
        thresholds = np.asarray(statistics.pr_thresholds, dtype=np.float64)
        self.precision.setData(thresholds, statistics.precision)
        self.recall.setData(thresholds, statistics.recall)
        at = np.searchsorted(thresholds, threshold, side="left")
        at = min(int(at), thresholds.size - 1)
        # short: pyqtgraph widens a plot to its title's text, past a narrow column's edge
        self.setTitle(f"prec. {statistics.precision[at]:.3f} · rec. {statistics.recall[at]:.3f} @ {threshold:.2f}",
                      size="9pt")


class Caption(QWidget):
    """A plot with a one-line caption under it."""

    def __init__(self, widget: QWidget, text: str, parent=None):
        super().__init__(parent)
        self.label = QLabel(text)
        self.label.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(widget, 1)
        layout.addWidget(self.label)


def utc_now() -> datetime:
    return datetime.now(timezone.utc)
