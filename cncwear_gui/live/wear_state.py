"""A smoothed wear state per machine, so one noisy 100 ms sample never flips the light.

The state follows a rolling mean of P(worn) over the last ``window`` samples with hysteresis:
it turns WORN when the mean reaches ``threshold + hysteresis`` and back to OK only below
``threshold - hysteresis``. Until the window has filled, the state is UNKNOWN.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from enum import Enum


class WearState(str, Enum):
    UNKNOWN = "unknown"
    OK = "ok"
    WORN = "worn"


@dataclass
class WearStateTracker:
    threshold: float = 0.5
    window: int = 30  # samples (3 s at 10 Hz)
    hysteresis: float = 0.05
    state: WearState = WearState.UNKNOWN
    _recent: deque = field(default_factory=deque, repr=False)
    _sum: float = 0.0

    def update(self, probability: float) -> WearState:
        self._recent.append(probability)
        self._sum += probability
        if len(self._recent) > self.window:
            self._sum -= self._recent.popleft()
        if len(self._recent) < self.window:
            return self.state
        mean = self.smoothed
        if self.state is not WearState.WORN and mean >= self.threshold + self.hysteresis:
            self.state = WearState.WORN
        elif self.state is not WearState.OK and mean < self.threshold - self.hysteresis:
            self.state = WearState.OK
        elif self.state is WearState.UNKNOWN:
            self.state = WearState.WORN if mean >= self.threshold else WearState.OK
        return self.state

    @property
    def smoothed(self) -> float:
        return self._sum / len(self._recent) if self._recent else float("nan")
