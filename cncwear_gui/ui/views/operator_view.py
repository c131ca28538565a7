"""Operator view: one large tile per machine, readable from two metres.

ISA-101 style: a muted grey background; colour only for the abnormal state, and always with text
and a shape (● OK, ▲ REPLACE TOOL, — NO DATA). Each tile shows the smoothed worn probability,
the trend over the last minutes against the threshold, the machine's source and the active model.
For now machines replay experiment files (10x real time); the live-data issue adds real sources.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dataclasses import dataclass, field

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QFrame, QGridLayout, QHBoxLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

from ...live.wear_state import WearState, WearStateTracker

from ...data.schema import SAMPLE_PERIOD_S
from ..state import AppState

if TYPE_CHECKING:
    from ...models.scoring import ScoredDataset

TREND_SECONDS = 300  # the last five minutes
REPLAY_SPEED = 10  # samples advanced per 100 ms tick
DEMO_MACHINES = {"Mill 1": 1, "Mill 2": 6, "Mill 3": 11, "Mill 4": 18}

_LOOK = {
    WearState.OK: ("●", "TOOL OK", "#d9d9d9", "#1f1f1f"),
    WearState.WORN: ("▲", "REPLACE TOOL", "#e8a33d", "#000000"),
    WearState.UNKNOWN: ("—", "NO DATA YET", "#d9d9d9", "#555555"),
}


@dataclass
class ReplayMachine:
    name: str
    experiment: int
    probability: np.ndarray
    position: int = 0
    parts: int = 1  # replays loop: part n of the same recorded run
    tracker: WearStateTracker = field(default_factory=WearStateTracker)
    smoothed: list = field(default_factory=list)

    def advance(self, samples: int) -> list[float]:
        """Replay the next samples; returns their P(worn) (what the metrics count as scored)."""
        batch = []
        for _ in range(samples):
            if self.position >= len(self.probability):  # the run ended: the same tool cuts the next part
                self.position = 0
                self.parts += 1
            value = float(self.probability[self.position])
            batch.append(value)
            self.tracker.update(value)
            self.smoothed.append(self.tracker.smoothed)
            self.position += 1
        keep = int(TREND_SECONDS / SAMPLE_PERIOD_S)
        if len(self.smoothed) > 2 * keep:
            del self.smoothed[:-keep]
        return batch


class MachineTile(QFrame):
    def __init__(self, name: str, parent=None):
        super().__init__(parent)
        self.setObjectName("machineTile")
        self._shown_state: WearState | None = None
        self.setFrameShape(QFrame.StyledPanel)
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Expanding)
        self.name = QLabel(name)
        self.name.setObjectName("machineName")
        self.source = QLabel("")
        self.symbol = QLabel("—")
        self.symbol.setObjectName("stateSymbol")
        self.status = QLabel("NO DATA YET")
        self.status.setObjectName("stateText")
        self.probability = QLabel("P(worn) —")
        self.probability.setObjectName("probability")
        self.model = QLabel("")
        self.trend = pg.PlotWidget(background=None)
        self.trend.setMouseEnabled(False, False)
        self.trend.hideButtons()
        self.trend.setYRange(0, 1, padding=0.02)
        self.trend.setLabel("left", "P(worn)")
        self.trend.setLabel("bottom", "minutes ago")
        self.curve = self.trend.plot(pen=pg.mkPen((40, 40, 40), width=2))
        self.threshold = pg.InfiniteLine(angle=0, pen=pg.mkPen((190, 90, 0), width=2, style=Qt.DashLine))
        self.trend.addItem(self.threshold)
        self.trend.setXRange(-TREND_SECONDS / 60, 0, padding=0)

        head = QHBoxLayout()
        head.addWidget(self.name)
        head.addStretch(1)
        head.addWidget(self.source)
        state_row = QHBoxLayout()
        state_row.addWidget(self.symbol)
        state_row.addWidget(self.status, 1)
        detail_row = QHBoxLayout()
        detail_row.addWidget(self.probability)
        detail_row.addStretch(1)
        detail_row.addWidget(self.model)
        layout = QVBoxLayout(self)
        layout.addLayout(head)
        layout.addLayout(state_row)
        layout.addLayout(detail_row)
        layout.addWidget(self.trend, 1)

    def show_state(self, machine: ReplayMachine, threshold: float, model_label: str) -> None:
        state = machine.tracker.state
        if state is not self._shown_state:  # restyling is costly: only when the state changes
            symbol, text, background, foreground = _LOOK[state]
            self.symbol.setText(symbol)
            self.status.setText(text)
            self.setStyleSheet(f"#machineTile {{ background: {background}; }} QLabel {{ color: {foreground}; }}")
            self._shown_state = state
        smoothed = machine.tracker.smoothed
        self.probability.setText("P(worn) —" if np.isnan(smoothed) else f"P(worn) {smoothed:.2f}")
        self.source.setText(
            f"replay of experiment {machine.experiment} · part {machine.parts} · {machine.position * SAMPLE_PERIOD_S:.0f} s"
        )
        self.model.setText(f"model {model_label}")
        self.threshold.setValue(threshold)
        values = np.asarray(machine.smoothed[-int(TREND_SECONDS / SAMPLE_PERIOD_S):])
        minutes_ago = (np.arange(len(values)) - len(values) + 1) * SAMPLE_PERIOD_S / 60
        self.curve.setData(minutes_ago, values)


class OperatorView(QWidget):
    def __init__(self, state: AppState, parent=None):
        super().__init__(parent)
        self.state = state
        self.setObjectName("operatorView")
        self.machines: list[ReplayMachine] = []
        self.tiles: list[MachineTile] = []
        self.grid = QGridLayout()
        self.grid.setSpacing(16)
        self.note = QLabel(
            "Wear trend and advice from 10 Hz machine data — not a breakage stop. "
            "Demo: each machine replays a recorded run at 10× speed."
        )
        self.note.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addLayout(self.grid, 1)
        layout.addWidget(self.note)
        self.timer = QTimer(self)
        self.timer.setInterval(100)
        self.timer.timeout.connect(self.tick)
        for index in range(len(DEMO_MACHINES)):  # created up front, filled when scores arrive
            tile = MachineTile("")
            self.grid.addWidget(tile, index // 2, index % 2)
            self.tiles.append(tile)
        state.scores_changed.connect(self.start_replays)

    @property
    def loaded(self) -> bool:
        return bool(self.machines)

    def start_replays(self, scored: ScoredDataset) -> None:
        """Bind one replay per tile; tiles are created once and reused (cheap on the GUI thread)."""
        self.timer.stop()
        available = [n for n in DEMO_MACHINES.values() if n in scored.experiments] or sorted(scored.experiments)[:4]
        names = list(DEMO_MACHINES) if len(available) == len(DEMO_MACHINES) else [f"Mill {i + 1}" for i in range(len(available))]
        while len(self.tiles) < len(available):
            tile = MachineTile("")
            self.grid.addWidget(tile, len(self.tiles) // 2, len(self.tiles) % 2)
            self.tiles.append(tile)
        for index, tile in enumerate(self.tiles):
            tile.setVisible(index < len(available))
        self.machines = []
        for name, experiment, tile in zip(names, available, self.tiles):
            tile.name.setText(name)
            machine = ReplayMachine(name, experiment, scored.experiments[experiment].probability)
            machine.tracker = WearStateTracker(threshold=scored.threshold)
            self.machines.append(machine)
            if self.state.metrics is not None:
                self.state.metrics.add_machine(name, "replay")
                self.state.metrics.source_up.labels(name, "replay").set(1)
        self.tick()
        self.timer.start()

    def tick(self, samples: int = REPLAY_SPEED) -> None:
        scored = self.state.scores
        label = self.state.model.label if self.state.model else "—"
        threshold = scored.threshold if scored else 0.5
        for machine, tile in zip(self.machines, self.tiles):
            batch = machine.advance(samples)
            tile.show_state(machine, threshold, label)
            if self.state.metrics is not None:
                self._record(machine, batch, threshold)

    def _record(self, machine: ReplayMachine, batch: list[float], threshold: float) -> None:
        """The replayed samples in the Prometheus metrics, as a live machine's would be."""
        metrics = self.state.metrics
        worn = sum(value >= threshold for value in batch)
        metrics.predictions.labels(machine.name, "worn").inc(worn)
        metrics.predictions.labels(machine.name, "ok").inc(len(batch) - worn)
        state = machine.tracker.state
        metrics.set_wear_state(machine.name, state.value)
        metrics.alarms_active.labels(machine.name).set(1 if state is WearState.WORN else 0)
        if not np.isnan(machine.tracker.smoothed):
            metrics.worn_probability.labels(machine.name).set(machine.tracker.smoothed)

    def fast_forward(self, seconds: float) -> None:
        """Advance every replay (screenshot mode shows what an operator sees minutes in)."""
        self.tick(int(seconds / SAMPLE_PERIOD_S))
