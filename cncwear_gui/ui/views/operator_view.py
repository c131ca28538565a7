"""Operator view: one tile per machine, readable from two metres.

ISA-101 style: a muted grey background; colour only for the abnormal state, and always with text
and a shape (● TOOL OK, ▲ REPLACE TOOL, — NO DATA). The light is REPLACE TOOL when either judgement
says so: the taught monitor (the load as % of the reference taught for this machine and setup,
live/teach_state.py) or the model's verdict on the run in progress (models/verdict.py), each on its
own line and named. An untaught setup is its own state (◇ SETUP NOT TAUGHT, blue), never OK.
Each tile also shows the setup and the tool's life since its change, the trend of the last five
minutes (the load against the taught band and limits once taught, else P(worn) against the
threshold), the source and its health, and the machine's alarm (ISA-18.2) with an Acknowledge
button while it needs action. **Tool changed…** and **Teach…** are the operator's actions.

The tiles are fed by the live engine (``LiveService.updated``), which scores on its own thread:
this view only copies numbers into widgets. Labels change on every pass (that is what "the
prediction on screen" means for the latency figures); the trends come (and are redrawn) once a second.
"""

from __future__ import annotations

import time
from collections import deque

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont, QFontInfo, QFontMetrics
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QMenu,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from ...data.schema import SAMPLE_PERIOD_S
from ...live.wear_state import WearState
from ..state import AppState
from ..theme import TAUGHT_BAND, TAUGHT_LOOK, THRESHOLD_LINE, TILE_COLOURS, TREND_INK
from ..widgets import fit_wrapped_height, mm_to_px

TREND_SECONDS = 300  # the last five minutes of machine time
FULL_SIZE_TEXT_WIDTH = 330  # a tile this wide (less 140 px) has the machine's name and P(worn) at full size
MIN_TEXT_PT = 10.0  # a narrow tile scales those texts down, never below what reads at arm's length
STATE_TEXT_MM = 12.0  # the state text's size on the screen, never scaled down: it reads from 2 m (issue 26);
# from the screen's physical DPI: 47 px on a 15.6" 1366 x 768 panel (100 DPI), 94 px at 200 % scaling
STATE_SYMBOL_SCALE = 1.3  # the symbol beside it (● ▲ —), a little larger
ONE_ACTION_ROW_WIDTH = 330  # a tile this wide has Acknowledge, Tool change and Teach on one row (they need 312 px)
TILE_MIN_WIDTH = 300  # narrower screens get fewer columns (three at 1024 px) and scroll down to the rest
TREND_MIN_HEIGHT = 70  # the five-minute trend stays readable; the texts above it are never squeezed

_LOOK = {
    WearState.OK: ("●", "TOOL OK", *TILE_COLOURS["ok"]),
    WearState.WORN: ("▲", "REPLACE TOOL", *TILE_COLOURS["worn"]),
    WearState.UNKNOWN: ("—", "NO DATA YET", *TILE_COLOURS["unknown"]),
}
_ALARM_TEXT = {
    "normal": "",
    "unacknowledged": "ALARM — acknowledge",
    "acknowledged": "alarm acknowledged",
    "rtn_unacknowledged": "alarm cleared — acknowledge",
    "shelved": "alarm shelved",
}
_SOURCE_TEXT = {"connected": "", "connecting": "connecting…", "reconnecting": "CONNECTION LOST — reconnecting",
                "stopped": "NOT CONNECTED"}
_STATE_TEXTS = [text for _symbol, text, *_colours in _LOOK.values()] + ["JUDGING THE RUN", "NO DATA"]
_STATE_WORDS = sorted({word for text in _STATE_TEXTS for word in text.split()})  # the state text wraps between them


class MachineTile(QFrame):
    acknowledge_requested = Signal(str)  # machine
    tool_change_requested = Signal(str)  # machine
    teach_requested = Signal(str, str)  # machine, "next" | "last_run" | "relearn"

    def __init__(self, name: str, parent=None):
        super().__init__(parent)
        self.setObjectName("machineTile")
        self.machine = name
        self._shown_look: tuple | None = None
        self.setFrameShape(QFrame.StyledPanel)
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Expanding)
        self.name = QLabel(name)
        self.name.setObjectName("machineName")
        self.source = QLabel("")
        self.source.setObjectName("sourceText")
        self.source.setWordWrap(True)
        self.symbol = QLabel("—")
        self.symbol.setObjectName("stateSymbol")
        self.status = QLabel("NO DATA YET")
        self.status.setObjectName("stateText")
        self.status.setWordWrap(True)  # "REPLACE TOOL" takes two lines on a narrow tile
        self.probability = QLabel("P(worn) —")
        self.probability.setObjectName("probability")
        self.verdict = QLabel("")
        self.verdict.setObjectName("verdictText")
        self.verdict.setWordWrap(True)
        self.verdict.setMinimumWidth(1)
        self.setup = QLabel("")
        self.setup.setObjectName("setupText")
        self.setup.setWordWrap(True)
        self.setup.setMinimumWidth(1)
        self.taught = QLabel("")
        self.taught.setObjectName("taughtText")
        self.taught.setWordWrap(True)  # "414 % of taught — OVER THE LIMIT (now 128 %)" wraps, never cut
        self.taught.setMinimumWidth(1)
        self.taught_detail = QLabel("")
        self.taught_detail.setObjectName("taughtDetail")
        self.taught_detail.setWordWrap(True)
        self.taught_detail.setMinimumWidth(1)
        self.tool_changed = QPushButton("Tool change…")
        self.tool_changed.setToolTip("Record a tool change: ends and labels the run, resets the tool life, "
                                     "and starts a teach-in when set")
        self.tool_changed.clicked.connect(lambda: self.tool_change_requested.emit(self.machine))
        self.teach = QPushButton("Teach")
        menu = QMenu(self.teach)
        for key, text in (("next", "Teach on the next run"), ("last_run", "Mark the last run good (teach on it)"),
                          ("relearn", "Relearn: forget this setup's reference")):
            menu.addAction(text).triggered.connect(lambda _=False, key=key: self.teach_requested.emit(self.machine, key))
        self.teach.setMenu(menu)
        self.alarm = QLabel("")
        self.alarm.setObjectName("alarmText")
        self.alarm.setWordWrap(True)
        self.alarm.setMinimumWidth(1)
        self.alarm.setVisible(False)
        self.acknowledge = QPushButton("Acknowledge…")
        self.acknowledge.setVisible(False)
        self.acknowledge.clicked.connect(lambda: self.acknowledge_requested.emit(self.machine))
        self.trend = pg.PlotWidget(background=None)
        self.trend.setMouseEnabled(False, False)
        self.trend.setMinimumHeight(TREND_MIN_HEIGHT)
        self.trend.hideButtons()
        self.trend.setYRange(0, 1, padding=0.02)
        self._set_y_ticks([0, 0.5, 1])
        self.trend.setLabel("left", "P(worn)")
        self.trend.setLabel("bottom", "minutes ago")
        self.curve = self.trend.plot(pen=pg.mkPen(TREND_INK, width=2))
        self.threshold = pg.InfiniteLine(angle=0, pen=pg.mkPen(THRESHOLD_LINE, width=2, style=Qt.DashLine))
        self.trend.addItem(self.threshold)
        self.trend.setXRange(-TREND_SECONDS / 60, 0, padding=0)
        self.band = pg.LinearRegionItem((0, 100), orientation="horizontal", movable=False,
                                        brush=pg.mkBrush(*TAUGHT_BAND), pen=pg.mkPen(None))
        self.warn_line = pg.InfiniteLine(angle=0, pen=pg.mkPen(THRESHOLD_LINE, width=1, style=Qt.DotLine))
        self.alarm_line = pg.InfiniteLine(angle=0, pen=pg.mkPen(THRESHOLD_LINE, width=2, style=Qt.DashLine))
        for item in (self.band, self.warn_line, self.alarm_line):
            item.setVisible(False)
            self.trend.addItem(item)
        self._trend_mode = "probability"
        self._taught_look: tuple | None = None

        for label in (self.name, self.probability, self.source):  # may shrink: the font follows the width
            label.setMinimumWidth(1)
        self._scale = 1.0
        self._state_px = 0  # the state text's pixel size, from the screen's DPI (_fit_state_font)
        head = QHBoxLayout()
        head.addWidget(self.name)
        head.addStretch(1)
        state_row = QHBoxLayout()
        state_row.addWidget(self.symbol)
        state_row.addWidget(self.status, 1)
        # The alarm's state (wrapped, bold) on a line with Acknowledge on a narrow tile (three across at
        # 1024 px), Acknowledge beside Tool change and Teach on a wide one (one row less: 4x2 fits 1400x900).
        alarm_row = self.alarm_row = QHBoxLayout()
        alarm_row.addWidget(self.alarm, 1)
        alarm_row.addWidget(self.acknowledge)
        actions = self.actions = QHBoxLayout()
        actions.addWidget(self.tool_changed)
        actions.addWidget(self.teach)
        actions.addStretch(1)
        self._one_action_row = False
        head.addWidget(self.probability)
        layout = QVBoxLayout(self)
        layout.setSpacing(2)
        layout.addLayout(head)
        layout.addWidget(self.source)
        layout.addWidget(self.setup)
        layout.addLayout(state_row)
        layout.addWidget(self.taught)
        layout.addWidget(self.taught_detail)
        layout.addWidget(self.verdict)
        layout.addLayout(alarm_row)
        layout.addLayout(actions)
        layout.addWidget(self.trend, 1)
        fit_wrapped_height(self)  # the texts whole on a short screen: the view scrolls instead

    def set_kiosk(self, on: bool) -> None:
        """Kiosk mode (ui/kiosk.py): the operator's actions only, Acknowledge and Tool change (no Teach), on
        one row; the taught monitor's long sentence left out (its line above says it, and eight tiles fit
        1366 × 768 without scrolling). The tooltip keeps the sentence."""
        self.teach.setVisible(not on)
        self.taught_detail.setVisible(not on)

    def set_one_action_row(self, one_row: bool) -> None:
        """Acknowledge beside Tool change and Teach (a wide tile), or on the alarm's line (a narrow one).
        The view decides for every tile at once, so the columns stay equal."""
        if one_row != self._one_action_row:
            self._one_action_row = one_row
            if one_row:
                self.actions.insertWidget(0, self.acknowledge)
            else:
                self.alarm_row.addWidget(self.acknowledge)

    def state_width(self) -> int:
        """The width the tile needs for its state text's longest word at 12 mm beside the symbol: the
        view has fewer columns when its tiles would be narrower."""
        self._fit_state_font()
        margins = self.layout().contentsMargins()
        return (self.symbol.minimumSizeHint().width() + self.layout().spacing() + self.status.minimumWidth()
                + margins.left() + margins.right() + 2 * self.frameWidth())

    def _fit_state_font(self) -> None:
        """The state text (and its symbol) ``STATE_TEXT_MM`` high on this tile's screen, whatever the
        tile's width; the label never narrower than the longest word it may show."""
        px = mm_to_px(STATE_TEXT_MM, self)
        if px == self._state_px:
            return
        self._state_px = px
        self.status.setStyleSheet(f"font-size: {px}px;")  # a physical size, from the DPI: not a point size
        self.symbol.setStyleSheet(f"font-size: {round(px * STATE_SYMBOL_SCALE)}px;")
        font = QFont(self.status.font())
        font.setPixelSize(px)
        font.setBold(True)
        metrics = QFontMetrics(font)
        self.status.setMinimumWidth(max(metrics.horizontalAdvance(word) for word in _STATE_WORDS) + 4)

    def state_font_px(self) -> int:
        """The state text's font size now, in logical pixels (the test measures it in mm)."""
        return QFontInfo(self.status.font()).pixelSize()

    def showEvent(self, event) -> None:  # noqa: N802 - Qt's name
        super().showEvent(event)
        self._fit_state_font()  # the screen is known now (and a window moved to another screen is shown anew)

    def resizeEvent(self, event) -> None:
        """Scale the name and P(worn) to the tile: four across on a 1366-pixel screen still reads
        whole. The state text keeps its 12 mm (the view gives fewer columns instead)."""
        super().resizeEvent(event)
        self._fit_state_font()
        scale = round(max(0.4, min(1.0, (self.width() - 140) / FULL_SIZE_TEXT_WIDTH)), 2)
        if scale != self._scale:
            self._scale = scale
            for label, points in ((self.name, 20), (self.probability, 18)):
                label.setStyleSheet(f"font-size: {max(MIN_TEXT_PT, points * scale):.1f}pt;")

    def show_view(self, view, threshold: float, now: float) -> None:
        """Copy one machine's state (live.engine.MachineView) into the widgets."""
        connected = view.health.state.value == "connected"
        state = view.state if connected or view.state is WearState.UNKNOWN else WearState.UNKNOWN
        taught = view.taught
        if connected and taught is not None and taught.state == "alarm":
            state = WearState.WORN  # the taught monitor's alarm lights the tile like the model's verdict
        alarm_state = view.alarm.get("state", "normal")
        look = (state, alarm_state, connected, bool(view.scored))
        if look != self._shown_look:  # restyling is costly: only when something an operator sees changes
            symbol, text, background, foreground = _LOOK[state]
            if state is WearState.UNKNOWN and connected and view.scored:
                text = "JUDGING THE RUN"
            if not connected:  # why, on the source line above it (CONNECTION LOST — reconnecting)
                text = "NO DATA"
            self.symbol.setText(symbol)
            self.status.setText(text)
            self.setStyleSheet(f"#machineTile {{ background: {background}; }} QLabel {{ color: {foreground}; }} "
                               "#alarmText { font-weight: bold; }" + ("" if connected else " #sourceText { font-weight: bold; }"))
            self.alarm.setText(_ALARM_TEXT.get(alarm_state, alarm_state))
            self.alarm.setVisible(bool(self.alarm.text()))
            self.acknowledge.setVisible(bool(view.alarm.get("needs_action")))
            self._shown_look = look
        smoothed = view.smoothed
        self.probability.setText("Model: P(worn) —" if np.isnan(smoothed) else f"Model: P(worn) {smoothed:.2f}")
        self.verdict.setText(self._verdict_text(view.verdict))
        self.source.setText(self._source_text(view))
        self._show_taught(view)
        self.threshold.setValue(threshold)
        self._show_trend(view)

    def _show_taught(self, view) -> None:
        taught = view.taught
        if taught is None:
            self.taught.setText("")
            self.taught_detail.setText("")
            return
        symbol, text, colour = TAUGHT_LOOK.get(taught.state, TAUGHT_LOOK["not_taught"])
        latest = "—" if taught.load_pct is None or np.isnan(taught.load_pct) else f"{taught.load_pct:.0f} %"
        line = f"{symbol} Taught: {text.format(load=latest)}"
        if latest == "—" and taught.state == "ok":  # taught, no cutting window judged yet in this run
            line = f"{symbol} Taught: waiting for cutting"
        if taught.state in ("warning", "alarm") and taught.judgement is not None:
            # the window that carries the state, as the sentence below names it; the latest beside it
            line = f"{symbol} Taught: {text.format(load=f'{taught.judgement.load_pct:.0f} %')} (now {latest})"
        self.taught.setText(line)
        self.taught.setToolTip("The taught monitor: the load against the reference taught for this machine and setup. "
                               + taught.sentence)  # kiosk mode hides the sentence under the line
        if (colour, self._scale) != self._taught_look:  # restyle only when it changes
            self._taught_look = (colour, self._scale)
            self.taught.setStyleSheet(f"color: {colour}; font-size: {max(MIN_TEXT_PT, 14 * self._scale):.1f}pt; "
                                      "font-weight: bold;")
        self.taught_detail.setText(taught.sentence)
        life = f"tool: {view.tool_runs} run(s), {view.tool_cutting_s / 60:.1f} min cutting since the change"
        version = f" · reference v{taught.reference_version}" if taught.reference_version else ""
        self.setup.setText(f"Setup: {view.setup or 'no samples yet'}{version} · {life}")

    def _show_trend(self, view) -> None:
        """The load against the taught band once the setup is taught, else P(worn) against the threshold."""
        loads = view.taught_loads
        if loads is None and view.trend_values is None:  # a pass without the trend: keep what is drawn
            return
        taught = view.taught is not None and view.taught.state in ("ok", "warning", "alarm")
        if taught and loads is not None and len(loads):
            if self._trend_mode != "load":
                self._trend_mode = "load"
                self.trend.setLabel("left", "% of taught")
                self.threshold.setVisible(False)
                for item in (self.band, self.warn_line, self.alarm_line):
                    item.setVisible(True)
            limits = view.limits
            if limits is not None:
                self.warn_line.setValue(100 + limits.warn_pct)
                self.alarm_line.setValue(100 + limits.alarm_pct)
            if view.taught_band is not None:
                self.band.setRegion(view.taught_band)
            top = max(200.0, float(np.nanmax(loads)) * 1.05, 110 + (limits.alarm_pct if limits else 30))
            self.trend.setYRange(0, top, padding=0.02)
            self._set_y_ticks([0, 100] if top < 400 else [100, 100 * int(top // 100)])  # 0 and 100 apart
            seconds = np.arange(len(loads)) - len(loads) + 1
            self.curve.setData(seconds * 2.0 / 60, loads)  # one point per 2 s window
            return
        if self._trend_mode != "probability":
            self._trend_mode = "probability"
            self.trend.setLabel("left", "P(worn)")
            self.threshold.setVisible(True)
            for item in (self.band, self.warn_line, self.alarm_line):
                item.setVisible(False)
            self.trend.setYRange(0, 1, padding=0.02)
            self._set_y_ticks([0, 0.5, 1])
        if view.trend_values is not None:
            values = view.trend_values[-int(TREND_SECONDS / SAMPLE_PERIOD_S):]
            minutes_ago = (np.arange(len(values)) - len(values) + 1) * SAMPLE_PERIOD_S / 60
            self.curve.setData(minutes_ago, values)

    def _set_y_ticks(self, values: list[float]) -> None:
        """A few labelled levels (0 and the taught 100 %, or 100 and the top on a tall range; 0, 0.5 and 1
        for P(worn)): pyqtgraph's own choice stacked five labels into a short tile's trend."""
        self.trend.getAxis("left").setTicks([[(v, f"{v:g}") for v in values], []])

    @staticmethod
    def _verdict_text(verdict) -> str:
        if verdict.samples == 0:
            return "Model, this run: no samples yet"
        if verdict.confidence <= 0.5:
            return (f"Model, this run: {verdict.worn_share:.0%} of {verdict.samples:,} samples called worn — "
                    "not enough for a verdict yet")
        return (f"Model, this run: {verdict.worn_share:.0%} of {verdict.samples:,} samples called worn → "
                f"{'worn' if verdict.worn else 'unworn'}, {verdict.confidence:.0%} confident")

    @staticmethod
    def _source_text(view) -> str:
        health = view.health
        parts = [view.source]
        status = _SOURCE_TEXT.get(health.state.value, health.state.value)
        if status:
            parts.append(status)
        if health.state.value != "connected" and health.detail and health.detail != view.source:
            parts.append(health.detail)
        rejected = sum(health.rejected.values())
        if rejected:
            parts.append(f"{rejected} malformed sample(s) skipped")
        if health.reconnects:
            parts.append(f"{health.reconnects} reconnect(s)")
        if health.lag_s > 1.0:
            parts.append(f"{health.lag_s:.0f} s behind")
        if view.error:
            parts.append(view.error)
        return " · ".join(parts)


class OperatorView(QWidget):
    acknowledge_requested = Signal(str)  # machine
    tool_change_requested = Signal(str)  # machine
    teach_requested = Signal(str, str)  # machine, "next" | "last_run" | "relearn"

    def __init__(self, state: AppState, parent=None):
        super().__init__(parent)
        self.state = state
        self.setObjectName("operatorView")
        self.tiles: dict[str, MachineTile] = {}
        self.kiosk = False  # set_kiosk
        self._columns = 0  # the grid's columns now (columns())
        self.views: list = []
        self.latencies: deque[float] = deque(maxlen=100_000)  # sample arrival → on screen, seconds
        self._last_shown: dict[str, float] = {}
        self.summary = QLabel("Waiting for the model and the machines…")
        self.summary.setObjectName("operatorSummary")
        self.grid = QGridLayout()
        self.grid.setSpacing(12)
        self.note = QLabel(
            "Wear advice from 10 Hz machine data — not a breakage stop. Two judgements, each named: the taught "
            "monitor compares the load with the reference taught for this machine and setup (warning and alarm "
            "limits as % over it, with a delay); the model judges the run in progress from the share of samples "
            "called worn. Either raises the alarm. Record every tool change: it labels the run and teaches the "
            "new tool (Edit → Settings)."
        )
        self.note.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addLayout(self.grid, 1)
        layout.addWidget(self.note)

    @property
    def loaded(self) -> bool:
        return bool(self.views) and any(v.scored for v in self.views)

    def set_machines(self, names: list[str]) -> None:
        """One tile per machine (created once per machine set): eight are 4×2."""
        if list(self.tiles) == names:
            return
        for tile in self.tiles.values():
            self.grid.removeWidget(tile)
            tile.deleteLater()
        self.tiles = {}
        for name in names:
            tile = MachineTile(name)
            tile.acknowledge_requested.connect(self.acknowledge_requested)
            tile.tool_change_requested.connect(self.tool_change_requested)
            tile.teach_requested.connect(self.teach_requested)
            tile.set_kiosk(self.kiosk)
            self.tiles[name] = tile
        self._columns = 0
        self._place_tiles()
        self.views = []
        self._last_shown = {}

    def set_kiosk(self, on: bool) -> None:
        """Kiosk mode: no Teach on the tiles, and no note (it points to the settings kiosk mode hides)."""
        self.kiosk = on
        self.note.setVisible(not on)
        for tile in self.tiles.values():
            tile.set_kiosk(on)
        self._place_tiles()

    def columns(self) -> int:
        """Eight machines are 4×2 when the screen is wide enough, fewer columns (and more rows) on a
        narrower one: never a tile narrower than ``TILE_MIN_WIDTH`` or than its 12 mm state text needs."""
        count = len(self.tiles)
        wanted = 2 if count <= 4 else min(4, -(-count // 2))
        tile = max([TILE_MIN_WIDTH] + [t.state_width() for t in self.tiles.values()])
        return max(1, min(wanted, (self._viewport_width() - 24) // (tile + self.grid.spacing())))

    def _viewport_width(self) -> int:
        """The scroll area's viewport: the width there is, not the view's minimum."""
        area = self.parentWidget()
        while area is not None and not isinstance(area, QScrollArea):
            area = area.parentWidget()
        return area.viewport().width() if area is not None else self.width()

    def _place_tiles(self) -> None:
        columns = self.columns()
        one_row = self.kiosk or self._viewport_width() // max(1, columns) - self.grid.spacing() >= ONE_ACTION_ROW_WIDTH
        for tile in self.tiles.values():
            tile.set_one_action_row(one_row)
        if columns == self._columns:
            return
        self._columns = columns
        for tile in self.tiles.values():
            self.grid.removeWidget(tile)
        for index, tile in enumerate(self.tiles.values()):
            self.grid.addWidget(tile, index // columns, index % columns)
        for column in range(max(4, self.grid.columnCount())):  # equal columns: every tile's texts at one size
            self.grid.setColumnStretch(column, 1 if column < columns else 0)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._place_tiles()

    def show_views(self, views: list, _pass_at: float = 0.0) -> None:
        """Show one scoring pass; records each newly shown sample's arrival → screen latency."""
        if [v.machine for v in views] != list(self.tiles):
            self.set_machines([v.machine for v in views])
        threshold = self.state.settings.worn_threshold
        now = time.monotonic()
        for view in views:
            self.tiles[view.machine].show_view(view, threshold, now)
        shown = time.monotonic()
        for view in views:
            newest = view.newest_received_at
            if newest is not None and newest != self._last_shown.get(view.machine):
                self._last_shown[view.machine] = newest
                self.latencies.append(shown - newest)
        self.views = views
        need = [v.machine for v in views if v.alarm.get("needs_action")]
        down = [v.machine for v in views if v.health.state.value != "connected"]
        parts = [f"{len(views)} machine(s)"]
        parts.append(f"{len(need)} alarm(s) to acknowledge: {', '.join(need)}" if need else "no alarm to acknowledge")
        if down:
            parts.append(f"no data from {', '.join(down)}")
        self.summary.setText(" · ".join(parts))
