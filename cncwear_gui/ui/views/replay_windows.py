"""The Operator view's demo machines as drift windows: each machine's last replayed samples.

A replay machine plays one recorded experiment in a loop, each pass a new part. Its window is the
current part so far: the experiment's rows up to the replay position, at most the last
``WINDOW_SAMPLES``. A part that has just started (fewer than ``MIN_WINDOW_SAMPLES`` rows) has no
window yet: a few seconds of data say nothing about a distribution. The P(worn) values are the
already-scored ones (``state.scores``), so nothing is predicted again.

Called on the GUI thread by the Monitoring view's drift timer: it only slices (the experiment's
row range is located once per samples frame), the features and the drift are computed in a worker.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

    from ..state import AppState
    from .operator_view import OperatorView

WINDOW_SAMPLES = 6000  # ten minutes at 10 Hz
MIN_WINDOW_SAMPLES = 100  # ten seconds


def window_indices(n_rows: int, position: int, size: int = WINDOW_SAMPLES) -> np.ndarray:
    """Row indices (into one experiment) of the current part's last ``size`` samples, oldest first."""
    position = max(0, min(int(position), n_rows))
    return np.arange(max(0, position - size), position)


class ReplayWindows:
    """``current_windows()`` is the Monitoring view's window source for the demo machines."""

    def __init__(self, operator_view: OperatorView, state: AppState, size: int = WINDOW_SAMPLES):
        self.operator_view = operator_view
        self.state = state
        self.size = size
        self._ranges: dict[int, np.ndarray] = {}
        self._ranges_of: int | None = None  # id() of the samples frame the ranges belong to

    def _rows_of(self, samples: pd.DataFrame, experiment: int) -> np.ndarray:
        if self._ranges_of != id(samples):
            self._ranges, self._ranges_of = {}, id(samples)
        if experiment not in self._ranges:
            self._ranges[experiment] = np.flatnonzero(samples["experiment"].to_numpy() == experiment)
        return self._ranges[experiment]

    def current_windows(self) -> dict[str, tuple[pd.DataFrame, np.ndarray]]:
        """Machine name → (its window's samples, Dataset.samples()-shaped; their P(worn))."""
        dataset, scores = self.state.dataset, self.state.scores
        if dataset is None or scores is None:
            return {}
        samples = dataset.samples()
        windows = {}
        for machine in list(self.operator_view.machines):
            scored = scores.experiments.get(machine.experiment)
            if scored is None:
                continue
            rows = self._rows_of(samples, machine.experiment)
            n = min(len(rows), len(scored.probability))
            picked = window_indices(n, machine.position, self.size)
            if picked.size < min(MIN_WINDOW_SAMPLES, n):
                continue
            windows[machine.name] = (samples.iloc[rows[picked]], np.asarray(scored.probability)[picked])
        return windows


def replay_windows(operator_view: OperatorView, state: AppState, size: int = WINDOW_SAMPLES) -> dict:
    """The windows of every replay machine now (see :class:`ReplayWindows`)."""
    return ReplayWindows(operator_view, state, size).current_windows()
