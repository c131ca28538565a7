"""Retry delays: the one home for "wait longer after each failure in a row, up to a cap".

    backoff = Backoff(first=0.5, cap=10.0, jitter=0.2)
    delay = backoff.next_delay()   # 0.5, 1, 2, 4, 8, 10, 10 … (each times a random 0.8–1.2)
    backoff.reset()                # after a success: the next failure waits ``first`` again

``factor=1`` gives a constant delay (a retry every ``first`` seconds). Jitter multiplies the
capped delay by a uniform factor in ``[1 - jitter, 1 + jitter]`` so many clients that lost the
same server do not retry in step. The delay stops growing at the cap, so a source that stays
away for days never overflows.

Standard library only; imports nothing from cncwear_gui (the bottom layer).
"""

from __future__ import annotations

import random


class Backoff:
    def __init__(self, first: float, cap: float, factor: float = 2.0, jitter: float = 0.0):
        if first < 0 or cap < 0 or factor < 1 or not 0 <= jitter < 1:
            raise ValueError("need first >= 0, cap >= 0, factor >= 1 and 0 <= jitter < 1")
        self.first, self.cap, self.factor, self.jitter = float(first), float(cap), float(factor), float(jitter)
        self.attempts = 0  # delays handed out since the last reset
        self._delay = min(self.first, self.cap)

    def next_delay(self) -> float:
        """The delay before the next attempt, in seconds; each call counts one more failure."""
        delay = self._delay
        self.attempts += 1
        self._delay = min(self.cap, self._delay * self.factor)
        if self.jitter:
            delay *= random.uniform(1 - self.jitter, 1 + self.jitter)
        return delay

    def reset(self) -> None:
        self.attempts = 0
        self._delay = min(self.first, self.cap)

    def __repr__(self) -> str:
        return (f"Backoff(first={self.first:g}, cap={self.cap:g}, factor={self.factor:g}, jitter={self.jitter:g}, "
                f"attempts={self.attempts})")
