"""Replay of a recorded experiment as if a machine were running: the default demo source.

Samples are released on the wall clock (10 Hz times ``speed``), so a slow consumer sees a
growing backlog (lag) instead of a silently slowed machine. Each released row carries the
moment it was due as its arrival time, which is what latency is measured from. At the end of
the file the replay starts over (the same tool cutting the next part), so a demo never runs dry.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd

from ..data.schema import EXPERIMENT_COLUMNS, SAMPLE_PERIOD_S
from .samples import RECEIVED_AT, SAMPLE_TIME
from .sources import JOB_KEYS, LiveSource, SourceHealth, SourceState

#: The columns a replay releases: a live sample's signals, phase, flags and job constants.
LIVE_COLUMNS = frozenset((*EXPERIMENT_COLUMNS, "phase", "quality_flags", *JOB_KEYS))


class ReplaySource(LiveSource):
    """Releases the rows of ``samples`` (``Dataset.samples()``-shaped) on the wall clock."""

    kind = "replay"

    def __init__(self, samples: pd.DataFrame, speed: float = 1.0, job: dict | None = None,
                 clock=time.monotonic, label: str = ""):
        super().__init__()
        kept = [c for c in samples.columns if c in LIVE_COLUMNS]  # what a live machine sends: slicing stays cheap
        self.samples = samples[kept].reset_index(drop=True).assign(**{RECEIVED_AT: 0.0, SAMPLE_TIME: np.nan})
        for name, value in (job or {}).items():
            self.samples[name] = float(value)
        self.samples = self.samples.copy()  # one block per dtype
        self.speed = speed
        self.clock = clock
        self.label = label
        self.loops = 0  # completed passes through the file
        self._started: float | None = None
        self._released = 0
        self._cursor = 0

    @property
    def rate_hz(self) -> float:
        return self.speed / SAMPLE_PERIOD_S

    @property
    def position(self) -> int:
        """Row of the file the replay has reached (in the current pass)."""
        return self._cursor

    def start(self, at: float | None = None) -> None:
        self._started = self.clock() if at is None else at

    def due(self) -> int:
        if self._started is None:
            return 0
        return int((self.clock() - self._started) * self.rate_hz) - self._released

    def next_due(self) -> float | None:
        if self._started is None:
            return None
        return self._started + (self._released + 1) / self.rate_hz

    def read(self, limit: int | None = None) -> pd.DataFrame:
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
        first = self._released + 1
        self._released += count
        rows = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0].copy()
        rows[RECEIVED_AT] = self._started + np.arange(first, first + count) / self.rate_hz
        return rows

    # kept for the metrics' source lag: the backlog a slow consumer builds up
    def lag_seconds(self) -> float:
        return max(0, self.due()) / self.rate_hz

    def health(self) -> SourceHealth:
        state = SourceState.CONNECTED if self._started is not None else SourceState.CONNECTING
        return SourceHealth(state=state, detail=self.describe(), received=self._released, lag_s=self.lag_seconds())

    def describe(self) -> str:
        return f"replay of {self.label or 'a recorded run'} at {self.speed:g}×"


def replay_of_file(path: Path, speed: float = 1.0, job: dict | None = None) -> ReplaySource:
    """A replay of one experiment file; its train.csv neighbour supplies the job constants."""
    from ..data.dataset import load_dataset

    dataset = load_dataset([path])
    if not dataset.experiments:
        problems = "; ".join(str(p.located(r.path)) for r in dataset.reports for p in r.errors)
        raise ValueError(f"{path} has no usable samples ({problems})")
    return ReplaySource(dataset.samples(), speed, job, label=Path(path).name)
