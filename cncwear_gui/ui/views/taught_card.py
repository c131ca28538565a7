"""The Explanations view's taught-monitor strip (under the model's sentence): the sample's window
against the taught reference.

It draws a ``monitoring.taught_lookup.TaughtExplanation`` computed in a worker: the state with
the tile's look (symbol, words and colour: ``theme.TAUGHT_LOOK``), the operator's sentence, the
run's judgement, and the window's % of taught per signal against the warning and alarm limits.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QVBoxLayout

from ..theme import ALARM_LINE, DARK_BARS, LIGHT_GREY, REFERENCE_LINE, TAUGHT_LOOK, WARN_LINE
from ..widgets import fit_wrapped_height
from ...monitoring.teach_in import MONITORED_SIGNALS, SIGNAL_NAMES


def taught_state_text(state: str, load_pct: float | None) -> tuple[str, str]:
    """(``"◆ 131 % of taught — WARNING"``, its colour) for a taught state."""
    symbol, text, colour = TAUGHT_LOOK.get(state, TAUGHT_LOOK["not_taught"])
    load = "—" if load_pct is None or math.isnan(load_pct) else f"{load_pct:.0f} %"
    return f"{symbol} {text.format(load=load)}", colour


class TaughtCard(QFrame):
    """The taught monitor on the explained sample, beside the model's LIME, SHAP and anchor."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setFrameShape(QFrame.StyledPanel)
        self.result = None
        self.setToolTip("The taught monitor, not the model: the sample's 2 s cutting window against the reference "
                        "taught for this setup on a machine, as the operator tile judges it live")
        self.state = QLabel("waiting for a sample")
        self.state.setTextFormat(Qt.PlainText)
        self.state.setWordWrap(True)
        self.state.setStyleSheet("font-size: 13pt; font-weight: bold;")
        self.sentence = QLabel("")
        self.sentence.setTextFormat(Qt.PlainText)
        self.sentence.setWordWrap(True)
        self.sentence.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.detail = QLabel("")
        self.run = QLabel("")
        for label in (self.detail, self.run):
            label.setTextFormat(Qt.PlainText)
            label.setWordWrap(True)
            label.setStyleSheet("font-size: 9pt;")
        self.bars = pg.PlotWidget()
        self.bars.setMouseEnabled(False, False)
        self.bars.hideButtons()
        self.bars.getAxis("bottom").enableAutoSIPrefix(False)
        small = QFont()
        small.setPointSize(8)
        for axis in ("left", "bottom"):
            self.bars.getAxis(axis).setStyle(tickFont=small)
            self.bars.getAxis(axis).label.setFont(small)
        self.bars.setFixedWidth(520)
        self.bars.setMinimumHeight(150)
        self.bars.setVisible(False)
        self._items: list = []
        text = QVBoxLayout()
        text.setSpacing(3)
        for widget in (self.state, self.sentence, self.detail, self.run):
            text.addWidget(widget)
        text.addStretch(1)
        layout = QHBoxLayout(self)  # a strip under the model's sentence: the words, then the bars
        layout.setContentsMargins(6, 4, 6, 4)
        layout.addLayout(text, 1)
        layout.addWidget(self.bars)
        fit_wrapped_height(self)  # its sentences whole when the splitter is short

    def show_message(self, text: str) -> None:
        self.result = None
        self.state.setText(f"Taught monitor: {text}")
        self.state.setStyleSheet("font-size: 13pt; font-weight: bold;")
        for label in (self.sentence, self.detail, self.run):
            label.setText("")
        self.bars.setVisible(False)

    def show_result(self, result) -> None:
        """``result``: a ``TaughtExplanation``."""
        self.result = result
        window = result.window
        text, colour = taught_state_text(result.state, window.load_pct if window else None)
        self.state.setText(f"Taught monitor: {text}")
        self.state.setStyleSheet(f"color: {colour}; font-size: 13pt; font-weight: bold;")
        self.sentence.setText(result.headline)
        self.sentence.setToolTip(result.sentence)
        judgement = result.judgement
        if judgement is None:
            self.detail.setText(f"Setup: {result.setup}")
            self.run.setText("")
            self.bars.setVisible(False)
            return
        where = f"window rows {judgement.rows[0]}–{judgement.rows[1]}" if judgement.rows else "in no cutting window"
        limits = result.limits
        which = ""
        if result.reference_version:
            which = (result.machine_note or f"Judged against {result.machine}'s reference.") + (
                f" Reference v{result.reference_version}" + (f", taught on {', '.join(result.taught_on)}"
                                                             if result.taught_on else "") + ". ")
        self.detail.setText(f"{which}{result.setup} · {judgement.phase} · {where} · limits: warning "
                            f"{100 + limits.warn_pct:.0f} %, alarm {100 + limits.alarm_pct:.0f} % after "
                            f"{limits.delay_windows} window(s)")
        run = judgement.run
        symbol = TAUGHT_LOOK.get(run.state, TAUGHT_LOOK["not_taught"])[0]
        counts = f" {judgement.windows_over} of {judgement.windows_judged} window(s) over the alarm limit."
        self.run.setText(f"The run: {symbol} {run.state.upper().replace('_', ' ')} — {run.sentence}{counts}"
                         if judgement.windows_judged else "")  # nothing judged: the sentence says why
        statistic = judgement.window.judgement.statistic if judgement.window.judgement else ""
        self._show_bars(judgement.pcts.get(statistic or "level", []), statistic or "level", limits)

    def _show_bars(self, pcts: list, statistic: str, limits) -> None:
        """One bar per signal: the statistic that carries the window's load, as % of taught (the
        report draws both statistics)."""
        for item in self._items:
            self.bars.removeItem(item)
        self._items = []
        if not pcts:
            self.bars.setVisible(False)
            return
        self.bars.setVisible(True)
        values = np.asarray(pcts, float)
        y = np.arange(len(values))[::-1].astype(float)
        over = values >= 100 + limits.alarm_pct
        bars = pg.BarGraphItem(x0=np.zeros(len(values)), y=y, height=0.7, width=np.nan_to_num(values),
                               brushes=[pg.mkBrush(*(DARK_BARS if o else LIGHT_GREY)) for o in over],
                               pens=[pg.mkPen(None)] * len(values))
        self.bars.addItem(bars)
        self._items.append(bars)
        for value, position in zip(values, y):
            finite = bool(np.isfinite(value))
            label = pg.TextItem(f"{value:.0f} %" if finite else "idle when taught: not judged",
                                color=pg.getConfigOption("foreground"), anchor=(0, 0.5))
            label.setPos(value if finite else 0.0, position)
            self.bars.addItem(label)
            self._items.append(label)
        for value, pen in ((100.0, pg.mkPen(REFERENCE_LINE, width=1, style=Qt.DashLine)),
                           (100 + limits.warn_pct, pg.mkPen(WARN_LINE, width=2, style=Qt.DotLine)),
                           (100 + limits.alarm_pct, pg.mkPen(ALARM_LINE, width=2, style=Qt.DashLine))):
            line = pg.InfiniteLine(pos=value, angle=90, pen=pen)
            self.bars.addItem(line)
            self._items.append(line)
        self.bars.setLabel("bottom", f"{statistic}, % of taught · dashed: taught · dotted: warning · red: alarm")
        self.bars.getAxis("left").setTicks([list(zip(y, (SIGNAL_NAMES[s] for s in MONITORED_SIGNALS)))])
        high = max(100.0 + limits.alarm_pct, float(np.nanmax(values)) if np.isfinite(values).any() else 0.0)
        self.bars.setXRange(0, high * 1.22, padding=0)
        self.bars.setYRange(-0.6, len(y) - 0.4, padding=0)
