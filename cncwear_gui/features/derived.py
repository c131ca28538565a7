"""Signal-derived features that describe the cut, not the experiment or the machine setup.

Each derived column is a formula over one sample's signals (no history), so a live machine can
compute it from the sample it just sent, and explanations, drift checks and the live engine all
see the same numbers. What is deliberately left out:

- absolute positions (``*_ActualPosition``, ``*_CommandPosition``): they depend on the fixture,
  the work offset and the tool length setting. In this dataset worn and unworn runs cut their
  layers 0.2 mm apart in Z (27.7/28.7/29.7 vs 27.5/28.5/29.5), a setup fingerprint that a model
  learns instead of wear;
- the program and sequence numbers (where in the NC program, not how the tool cuts);
- train.csv's feedrate and clamp pressure (constant per experiment).

The commanded path speed stands in for the feed: ``M1_CURRENT_FEEDRATE`` reads 50 in 6,253
samples the dataset calls unreliable.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

import numpy as np

if TYPE_CHECKING:  # pandas loads lazily: the GUI lists feature sets before its first paint
    import pandas as pd

Formula = Callable[["pd.DataFrame"], np.ndarray]


def _col(samples: pd.DataFrame, name: str) -> np.ndarray:
    return samples[name].to_numpy(dtype=np.float64)


def _difference(actual: str, command: str) -> tuple[Formula, str, tuple[str, ...]]:
    return (lambda s: _col(s, actual) - _col(s, command)), f"{actual} - {command}", (actual, command)


def _path_speed(s: pd.DataFrame) -> np.ndarray:
    return np.hypot(_col(s, "X1_CommandVelocity"), _col(s, "Y1_CommandVelocity"))


def _per_speed(column: str) -> tuple[Formula, str, tuple[str, ...]]:
    def formula(s: pd.DataFrame) -> np.ndarray:
        return np.abs(_col(s, column)) / (1.0 + _path_speed(s))

    return formula, f"|{column}| / (1 + commanded path speed)", (column, "X1_CommandVelocity", "Y1_CommandVelocity")


#: name -> (formula, description, the signal columns it reads)
DERIVED: dict[str, tuple[Formula, str, tuple[str, ...]]] = {}
for _axis in ("X1", "Y1", "Z1", "S1"):
    for _quantity in ("Position", "Velocity", "Acceleration"):
        DERIVED[f"{_axis}_{_quantity.lower()}_error"] = _difference(f"{_axis}_Actual{_quantity}", f"{_axis}_Command{_quantity}")
DERIVED["path_speed_command"] = (
    _path_speed,
    "hypot(X1_CommandVelocity, Y1_CommandVelocity): the commanded feed in the XY plane",
    ("X1_CommandVelocity", "Y1_CommandVelocity"),
)
for _column in ("S1_CurrentFeedback", "S1_OutputPower", "X1_CurrentFeedback", "Y1_CurrentFeedback",
                "X1_OutputPower", "Y1_OutputPower"):
    DERIVED[f"{_column}_per_speed"] = _per_speed(_column)

#: Electrical signals used as they are: loads, not places.
PROCESS_SIGNALS: tuple[str, ...] = tuple(
    f"{axis}_{name}"
    for axis, names in (
        ("X1", ("CurrentFeedback", "DCBusVoltage", "OutputCurrent", "OutputVoltage", "OutputPower")),
        ("Y1", ("CurrentFeedback", "DCBusVoltage", "OutputCurrent", "OutputVoltage", "OutputPower")),
        ("Z1", ("CurrentFeedback", "DCBusVoltage", "OutputCurrent", "OutputVoltage")),
        ("S1", ("ActualVelocity", "CurrentFeedback", "DCBusVoltage", "OutputCurrent", "OutputVoltage",
                "OutputPower", "SystemInertia")),
    )
    for name in names
)

#: Columns that place a sample in machine coordinates or in the NC program.
SETUP_DEPENDENT_SIGNALS: frozenset[str] = frozenset(
    [f"{axis}_{kind}Position" for axis in ("X1", "Y1", "Z1", "S1") for kind in ("Actual", "Command")]
    + ["M1_CURRENT_PROGRAM_NUMBER", "M1_sequence_number"]
)


def compute(samples: pd.DataFrame, name: str) -> np.ndarray:
    return DERIVED[name][0](samples)
