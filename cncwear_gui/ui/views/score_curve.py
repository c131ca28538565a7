"""The search's progress as a plot: every candidate's score (muted dots) and the best so far (a
step line) against the elapsed search time. Items are created once; ``refresh`` redraws them
(the view calls it from a timer, so a burst of trials costs one redraw)."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QGraphicsItem

from ..theme import CANDIDATE_DOTS

MIN_HEIGHT_PX = 150  # the title, four grid lines and the time axis readable


class ScoreCurve(pg.PlotWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.setLabel("bottom", "search time", units="s")
        self.setLabel("left", "validation accuracy")
        self.getAxis("left").enableAutoSIPrefix(False)  # scores as 0.95, not "950 (x0.001)"
        self.showGrid(x=True, y=True, alpha=0.2)
        # The axes draw the grid, which spans the plot, so each redraw during a search (every 250 ms)
        # would repaint them; from a pixmap cache they are re-drawn only when the range or size changes.
        for axis in ("left", "bottom", "right", "top"):
            self.getAxis(axis).setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self.setMinimumHeight(MIN_HEIGHT_PX)  # a short screen scrolls the view rather than flatten the plot
        self.setMouseEnabled(False, False)
        self.hideButtons()
        self.addLegend(offset=(10, 10))  # top left: early candidates score low, so it stays clear
        self.trials = pg.ScatterPlotItem(size=7, pen=None, brush=pg.mkBrush(*CANDIDATE_DOTS), name="each candidate")
        ink = pg.getConfigOption("foreground")  # dark on the light theme, light on the dark one
        self.best = pg.PlotDataItem(pen=pg.mkPen(ink, width=2.5), name="best so far")
        self.addItem(self.trials)
        self.addItem(self.best)
        self.budget_s = 60.0
        self._times: list[float] = []
        self._scores: list[float] = []
        self._drawn = 0
        self._x_end = self.budget_s

    def reset(self, budget_s: float, metric: str = "accuracy") -> None:
        self.budget_s = float(budget_s)
        self.setLabel("left", f"validation {metric}")
        self.setTitle(f"Each candidate's {metric} on validation experiments held out whole", size="10pt")
        self.setToolTip(f"Each candidate's {metric} on the search's validation experiments, held out whole from "
                        "its training rows, against the search time; the line is the best so far.")
        self._times, self._scores, self._drawn = [], [], 0
        self._x_end = self.budget_s
        self.trials.clear()
        self.best.setData([], [])
        self.setXRange(0, self.budget_s, padding=0.02)
        self.setYRange(0, 1, padding=0.02)

    def add_trial(self, elapsed_s: float, score: float | None) -> None:
        """Record one finished candidate (failed candidates have no score and are not drawn)."""
        if score is not None:
            self._times.append(float(elapsed_s))
            self._scores.append(float(score))

    @property
    def point_count(self) -> int:
        """Candidates drawn so far."""
        return self._drawn

    def refresh(self, now_s: float | None = None) -> None:
        """Redraw; ``now_s`` extends the best-so-far line to the current search time."""
        if not self._scores:
            return
        times = np.asarray(self._times)
        scores = np.asarray(self._scores)
        if len(scores) != self._drawn:
            self.trials.setData(times, scores)
            self._drawn = len(scores)
            low = float(scores.min())
            self.setYRange(max(0.0, low - 0.02), min(1.0, float(scores.max()) + 0.02), padding=0.02)
        best = np.maximum.accumulate(scores)
        end = max(times[-1], now_s if now_s is not None else times[-1])
        x = np.append(np.repeat(times, 2)[1:], end)  # a step: the best holds until the next record
        y = np.repeat(best, 2)
        self.best.setData(x, y)
        if end > self._x_end:  # only ever widened: a new range re-draws both axes
            self._x_end = end
            self.setXRange(0, end, padding=0.02)
