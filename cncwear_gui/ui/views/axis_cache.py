"""Axes painted from a pixmap cache.

A pyqtgraph axis draws its tick labels and its grid lines, which span the whole plot, so every
change inside the plot (a new point, a moved line) repaints both axes. For a plot updated live
that is most of its paint time. With Qt's device-coordinate cache an axis is drawn once into a
pixmap and blitted afterwards; pyqtgraph invalidates it whenever the range or size changes.
"""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtWidgets import QGraphicsItem


def cache_axes(plot: pg.PlotWidget) -> None:
    for name in ("left", "bottom", "right", "top"):
        plot.getPlotItem().getAxis(name).setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
