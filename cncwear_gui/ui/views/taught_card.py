"""The Explanations view's taught-monitor card: the sample's window against the taught reference.

It draws a ``monitoring.taught_lookup.TaughtExplanation`` computed in a worker: the state with
the tile's look (symbol, words and colour: ``theme.TAUGHT_LOOK``), the operator's sentence, the
run's judgement, and the window's % of taught per signal against the warning and alarm limits.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QLabel, QVBoxLayout

from ..theme import ALARM_LINE, DARK_BARS, LIGHT_GREY, REFERENCE_LINE, TAUGHT_LOOK, WARN_LINE
from ...monitoring.teach_in import MONITORED_SIGNALS, SIGNAL_NAMES


def taught_state_text(state: str, load_pct: float | None) -> tuple[str, str]:
    """(``"◆ 131 % of taught — WARNING"``, its colour) for a taught state."""
    symbol, text, colour = TAUGHT_LOOK.get(state, TAUGHT_LOOK["not_taught"])
    load = "—" if load_pct is None or math.isnan(load_pct) else f"{load_pct:.0f} %"
    return f"{symbol} {text.format(load=load)}", colour


class TaughtCard(QFrame):
    """The taught monitor on the explained sample (beside LIME, SHAP and the anchor)."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setFrameShape(QFrame.StyledPanel)
        self.result = None
        self.title = QLabel("<b>Taught monitor</b>")
        self.state = QLabel("waiting for a sample")
        self.state.setTextFormat(Qt.PlainText)
        self.state.setStyleSheet("font-size: 13pt; font-weight: bold;")
        self.sentence = QLabel("")
        self.sentence.setTextFormat(Qt.PlainText)
        self.sentence.setWordWrap(True)
        self.sentence.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.detail = QLabel("")
        self.detail.setTextFormat(Qt.PlainText)
        self.detail.setWordWrap(True)
        self.run = QLabel("")
        self.run.setTextFormat(Qt.PlainText)
        self.run.setWordWrap(True)
        self.bars = pg.PlotWidget()
        self.bars.setMouseEnabled(False, False)
        self.bars.hideButtons()
        self.bars.setLabel("bottom", "% of taught (light: level, dark: variability)")
        self.bars.getAxis("bottom").enableAutoSIPrefix(False)
        self.bars.setMinimumHeight(170)
        self.bars.setVisible(False)
        self._items: list = []
        layout = QVBoxLayout(self)
        for widget in (self.title, self.state, self.sentence, self.detail, self.run):
            layout.addWidget(widget)
        layout.addWidget(self.bars, 1)

    def show_message(self, text: str) -> None:
        self.result = None
        self.state.setText(text)
        self.state.setStyleSheet("font-size: 13pt; font-weight: bold;")
        for label in (self.sentence, self.detail, self.run):
            label.setText("")
        self.bars.setVisible(False)

    def show_result(self, result) -> None:
        """``result``: a ``TaughtExplanation``."""
        self.result = result
        window = result.window
        text, colour = taught_state_text(result.state, window.load_pct if window else None)
        self.state.setText(text)
        self.state.setStyleSheet(f"color: {colour}; font-size: 13pt; font-weight: bold;")
        self.sentence.setText(result.sentence)
        judgement = result.judgement
        if judgement is None:
            self.detail.setText(f"Setup: {result.setup}")
            self.run.setText("")
            self.bars.setVisible(False)
            return
        where = f"rows {judgement.rows[0]}–{judgement.rows[1]}" if judgement.rows else "in no window"
        machine = f"{result.machine} · v{result.reference_version} · " if result.reference_version else ""
        limits = result.limits
        self.detail.setText(f"{machine}{result.setup} · {judgement.phase} · window {where} · limits "
                            f"{100 + limits.warn_pct:.0f} % / {100 + limits.alarm_pct:.0f} % after "
                            f"{limits.delay_windows} window(s)")
        run_text, _ = taught_state_text(judgement.run.state, judgement.run.load_pct)
        counts = (f" {judgement.windows_over} of {judgement.windows_judged} window(s) over the alarm limit."
                  if judgement.windows_judged else "")
        self.run.setText(f"The run: {run_text}. {judgement.run.sentence}{counts}")
        self._show_bars(judgement.pcts, limits)

    def _show_bars(self, pcts: dict, limits) -> None:
        for item in self._items:
            self.bars.removeItem(item)
        self._items = []
        if not pcts:
            self.bars.setVisible(False)
            return
        self.bars.setVisible(True)
        y = np.arange(len(MONITORED_SIGNALS))[::-1].astype(float)
        high = 100.0 + limits.alarm_pct
        for offset, (name, brush) in enumerate(zip(("level", "variability"), (LIGHT_GREY, DARK_BARS))):
            values = np.nan_to_num(np.asarray(pcts.get(name, []), float))
            if not len(values):
                continue
            high = max(high, float(values.max()))
            bars = pg.BarGraphItem(x0=np.zeros(len(values)), y=y + (0.2 if offset == 0 else -0.2), height=0.38,
                                   width=values, brush=pg.mkBrush(*brush), pen=pg.mkPen(None))
            self.bars.addItem(bars)
            self._items.append(bars)
        for value, pen, label in ((100.0, pg.mkPen(REFERENCE_LINE, width=1, style=Qt.DashLine), "taught"),
                                  (100 + limits.warn_pct, pg.mkPen(WARN_LINE, width=2, style=Qt.DotLine), "warn"),
                                  (100 + limits.alarm_pct, pg.mkPen(ALARM_LINE, width=2, style=Qt.DashLine), "alarm")):
            line = pg.InfiniteLine(pos=value, angle=90, pen=pen, label=label,
                                   labelOpts={"position": 0.96, "color": pen.color()})
            self.bars.addItem(line)
            self._items.append(line)
        self.bars.getAxis("left").setTicks([list(zip(y, (SIGNAL_NAMES[s] for s in MONITORED_SIGNALS)))])
        self.bars.setXRange(0, high * 1.08, padding=0)
        self.bars.setYRange(-0.7, len(y) - 0.3, padding=0)
