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
    checks = ValueChecks(check_ranges)
    flags = checks.add(values, phase, line_numbers, column_numbers, process, locate=report is not None)
    if report is not None:
        checks.finish(report)
    return flags


class ValueChecks:
    """:func:`check_values` over a file read in chunks: flag counts summed over the chunks, the
    example locations from the first chunks that have them, so a report reads as for one piece."""

    def __init__(self, check_ranges: bool = True):
        self.check_ranges = check_ranges
        self.counts: dict[str, int] = {}
        self._examples: dict[str, list[tuple[str, int, int]]] = {}  # what -> (message, line, column)
        self._cells: dict[str, int] = {}
        self._unknown = 0
        self._unknown_example: tuple | None = None

    def add(self, values, phase, line_numbers=None, column_numbers=None, process=None, locate: bool = True) -> np.ndarray:
        flags = np.zeros(len(values), dtype=np.int32)
        flags[values[:, _COLUMN["M1_CURRENT_FEEDRATE"]] == 50] |= FLAG_BITS["m1_feedrate_50"]
        flags[values[:, _COLUMN["X1_ActualPosition"]] == 198] |= FLAG_BITS["x1_position_198"]
        flags[values[:, _COLUMN["M1_CURRENT_PROGRAM_NUMBER"]] != 0] |= FLAG_BITS["m1_program_nonzero"]
        finite = np.isfinite(values)
        non_finite = ~finite
        flags[non_finite.any(axis=1)] |= FLAG_BITS["non_finite"]
        outside = None
        if self.check_ranges:
            low, high = plausible_ranges()
            with np.errstate(invalid="ignore"):
                outside = finite & ((values < low) | (values > high))
            flags[outside.any(axis=1)] |= FLAG_BITS["out_of_range"]
        unknown = phase == UNKNOWN_PHASE_CODE
        flags[unknown] |= FLAG_BITS["unknown_phase"]
        for name, count in flag_counts(flags).items():
            self.counts[name] = self.counts.get(name, 0) + count
        if locate:
            where = (values, line_numbers, column_numbers)
            self._cells_of(non_finite, "empty, NaN or infinite value", *where)
            if outside is not None:
                self._cells_of(outside, "value outside the plausible range", *where)
            rows = np.flatnonzero(unknown)
            if rows.size:
                self._unknown += int(rows.size)
                if self._unknown_example is None:
                    self._unknown_example = (process[rows[0]], int(line_numbers[rows[0]]), column_numbers[PROCESS_COLUMN])
        return flags

    def _cells_of(self, mask, what, values, line_numbers, column_numbers) -> None:
        rows, cols = np.nonzero(mask)
        if not rows.size:
            return
        self._cells[what] = self._cells.get(what, 0) + int(rows.size)
        examples = self._examples.setdefault(what, [])
        for row, col in list(zip(rows, cols))[: _MAX_LOCATED - len(examples)]:
            name = SIGNAL_COLUMNS[col]
            examples.append((f"{what} in '{name}': {values[row, col]!r}", int(line_numbers[row]), column_numbers[name]))

    def finish(self, report: FileReport) -> None:
        """Put the counts and the located warnings on ``report``."""
        report.flags = dict(self.counts) if self.counts else flag_counts(np.zeros(0, dtype=np.int32))
        for what, examples in self._examples.items():
            for message, line, column in examples:
                report.warn(message, line, column)
            if self._cells[what] > _MAX_LOCATED:
                report.warn(f"{self._cells[what] - _MAX_LOCATED} more cell(s) with {what}")
        if self._unknown_example is not None:
            value, line, column = self._unknown_example
            report.warn(f"{self._unknown} row(s) with an unknown {PROCESS_COLUMN} value, e.g. '{value}'", line, column)


def flag_counts(flags: np.ndarray) -> dict[str, int]:
    """Rows per flag, plus ``documented_unreliable``: rows with either of the README's two rules."""
    counts = {name: int(np.count_nonzero(flags & bit)) for bit, name, _ in QUALITY_FLAGS}
    counts["documented_unreliable"] = int(np.count_nonzero(flags & DOCUMENTED_UNRELIABLE))
    return counts
