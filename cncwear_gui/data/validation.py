"""Per-row data-quality flags and the value checks of one experiment file."""

from __future__ import annotations

import numpy as np

from .ranges import plausible_ranges
from .report import FileReport
from .schema import DOCUMENTED_UNRELIABLE, FLAG_BITS, PROCESS_COLUMN, QUALITY_FLAGS, SIGNAL_COLUMNS, UNKNOWN_PHASE_CODE

_MAX_LOCATED = 3  # how many example locations a warning names
_COLUMN = {name: index for index, name in enumerate(SIGNAL_COLUMNS)}


def check_values(
    values: np.ndarray,
    phase: np.ndarray,
    check_ranges: bool = True,
    report: FileReport | None = None,
    line_numbers: np.ndarray | None = None,
    column_numbers: dict[str, int] | None = None,
    process: np.ndarray | None = None,
) -> np.ndarray:
    """Return a flag bitmask per row (schema.QUALITY_FLAGS); flags are excludable, not rejections.

    With a report, also add warnings naming example lines and columns of non-finite,
    implausible and unknown-phase values.
    """
    flags = np.zeros(len(values), dtype=np.int32)
    flags[values[:, _COLUMN["M1_CURRENT_FEEDRATE"]] == 50] |= FLAG_BITS["m1_feedrate_50"]
    flags[values[:, _COLUMN["X1_ActualPosition"]] == 198] |= FLAG_BITS["x1_position_198"]
    flags[values[:, _COLUMN["M1_CURRENT_PROGRAM_NUMBER"]] != 0] |= FLAG_BITS["m1_program_nonzero"]
    finite = np.isfinite(values)
    non_finite = ~finite
    flags[non_finite.any(axis=1)] |= FLAG_BITS["non_finite"]
    outside = None
    if check_ranges:
        low, high = plausible_ranges()
        with np.errstate(invalid="ignore"):
            outside = finite & ((values < low) | (values > high))
        flags[outside.any(axis=1)] |= FLAG_BITS["out_of_range"]
    unknown = phase == UNKNOWN_PHASE_CODE
    flags[unknown] |= FLAG_BITS["unknown_phase"]

    if report is not None:
        report.flags = flag_counts(flags)
        where = (values, line_numbers, column_numbers)
        _warn_cells(report, non_finite, "empty, NaN or infinite value", *where)
        if outside is not None:
            _warn_cells(report, outside, "value outside the plausible range", *where)
        rows = np.flatnonzero(unknown)
        if rows.size:
            report.warn(
                f"{rows.size} row(s) with an unknown {PROCESS_COLUMN} value, e.g. '{process[rows[0]]}'",
                int(line_numbers[rows[0]]),
                column_numbers[PROCESS_COLUMN],
            )
    return flags


def flag_counts(flags: np.ndarray) -> dict[str, int]:
    """Rows per flag, plus ``documented_unreliable``: rows with either of the README's two rules."""
    counts = {name: int(np.count_nonzero(flags & bit)) for bit, name, _ in QUALITY_FLAGS}
    counts["documented_unreliable"] = int(np.count_nonzero(flags & DOCUMENTED_UNRELIABLE))
    return counts


def _warn_cells(report, mask, what, values, line_numbers, column_numbers) -> None:
    rows, cols = np.nonzero(mask)
    for row, col in list(zip(rows, cols))[:_MAX_LOCATED]:
        name = SIGNAL_COLUMNS[col]
        report.warn(f"{what} in '{name}': {values[row, col]!r}", int(line_numbers[row]), column_numbers[name])
    if rows.size > _MAX_LOCATED:
        report.warn(f"{rows.size - _MAX_LOCATED} more cell(s) with {what}")
