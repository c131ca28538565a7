"""Replay of a recorded experiment file as if a machine were running: the default demo source.

Samples are released on the wall clock (10 Hz times ``speed``), so a slow consumer sees a
growing backlog (lag) instead of a silently slowed machine. At the end of the file the replay
starts over, so a demo node never runs dry.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ..data.schema import SAMPLE_PERIOD_S

KIND = "replay"


class SourceSpecError(ValueError):
    """A ``--machine ID=SOURCE`` the user must fix."""


@dataclass(frozen=True)
class MachineSpec:
    machine: str
    kind: str
    path: Path
    speed: float = 1.0

    @classmethod
    def parse(cls, text: str) -> MachineSpec:
        """``ID=replay:PATH[@SPEED]``; live sources (tail, OPC UA) arrive with the live-data work."""
        machine, sep, source = text.partition("=")
        if not sep or not machine.strip():
            raise SourceSpecError(f"--machine '{text}': expected ID=SOURCE, e.g. mill-1=replay:experiment_06.csv")
        kind, sep, rest = source.partition(":")
        if kind != KIND or not sep or not rest:
            raise SourceSpecError(f"--machine '{text}': SOURCE must be replay:PATH[@SPEED] (other sources are not supported yet)")
        path, _, speed = rest.rpartition("@") if "@" in rest else (rest, "", "")
        try:
            speed_value = float(speed) if speed else 1.0
        except ValueError:
            raise SourceSpecError(f"--machine '{text}': speed '{speed}' is not a number") from None
        if not 0 < speed_value <= 1000:
            raise SourceSpecError(f"--machine '{text}': speed must be above 0 and at most 1000")
        if not Path(path).is_file():
            raise SourceSpecError(f"--machine '{text}': no such file {path}")
        return cls(machine.strip(), KIND, Path(path), speed_value)


@dataclass
class ReplaySource:
    """Releases the rows of ``samples`` (``Dataset.samples()``-shaped) on the wall clock."""

    samples: pd.DataFrame
    speed: float = 1.0
    clock: callable = time.monotonic
    _started: float | None = None
    _released: int = 0
    _cursor: int = 0
    loops: int = field(default=0)

    @property
    def rate_hz(self) -> float:
        return self.speed / SAMPLE_PERIOD_S

    def start(self) -> None:
        self._started = self.clock()

    def due(self) -> int:
        return int((self.clock() - self._started) * self.rate_hz) - self._released

    def take(self, limit: int | None = None) -> pd.DataFrame:
        """The rows due now (at most ``limit``), wrapping at the end of the file."""
        count = self.due() if limit is None else min(self.due(), limit)
        if count <= 0 or self.samples.empty:
            return self.samples.iloc[0:0]
        parts = []
        remaining = count
        while remaining:
            chunk = self.samples.iloc[self._cursor:self._cursor + remaining]
            parts.append(chunk)
            remaining -= len(chunk)
            self._cursor += len(chunk)
            if self._cursor >= len(self.samples):
                self._cursor = 0
                self.loops += 1
        self._released += count
        return pd.concat(parts) if len(parts) > 1 else parts[0]

    def lag_seconds(self) -> float:
        """How far the released rows trail the clock: the backlog a slow consumer builds up."""
        return max(0, self.due()) / self.rate_hz
