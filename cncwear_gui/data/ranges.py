"""Plausible value ranges per signal column, kept in one table (plausible_ranges.csv).

The table is derived from the bundled dataset with a margin on each side (half the observed
span or 10 % of the largest magnitude, whichever is larger; 1.0 for columns that are constant
at zero), and
regenerated with ``python -m cncwear_gui.data.regenerate_ranges``. Values outside are flagged, not rejected.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from .schema import SIGNAL_COLUMNS

RANGES_FILE = Path(__file__).with_name("plausible_ranges.csv")
SPAN_MARGIN = 0.5
MAGNITUDE_MARGIN = 0.1
MIN_MARGIN = 1.0


def derive_ranges(samples: pd.DataFrame) -> pd.DataFrame:
    """One row per signal column: observed min/max and the plausible low/high with margins."""
    values = samples[list(SIGNAL_COLUMNS)]
    observed_min = values.min().to_numpy()
    observed_max = values.max().to_numpy()
    magnitude = np.maximum(np.abs(observed_min), np.abs(observed_max))
    margin = np.maximum(SPAN_MARGIN * (observed_max - observed_min), MAGNITUDE_MARGIN * magnitude)
    margin[margin == 0] = MIN_MARGIN
    return pd.DataFrame(
        {
            "column": list(SIGNAL_COLUMNS),
            "observed_min": observed_min,
            "observed_max": observed_max,
            "low": observed_min - margin,
            "high": observed_max + margin,
        }
    )


@lru_cache(maxsize=1)
def plausible_ranges() -> tuple[np.ndarray, np.ndarray]:
    """(low, high) arrays aligned with SIGNAL_COLUMNS."""
    table = pd.read_csv(RANGES_FILE).set_index("column").loc[list(SIGNAL_COLUMNS)]
    return table["low"].to_numpy(dtype=np.float64), table["high"].to_numpy(dtype=np.float64)
