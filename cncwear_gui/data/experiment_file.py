"""Reading one UMich experiment file (47 signals + Machining_Process) into a DataFrame."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .csvtext import CsvText, read_csv_text
from .report import DataError, Problem
from .schema import (
    EXPERIMENT_COLUMNS,
    KNOWN_EXTRA_COLUMNS,
    PHASE_CODES,
    PROCESS_COLUMN,
    SIGNAL_COLUMNS,
    UNKNOWN_PHASE_CODE,
)

_EXPERIMENT_NAME = re.compile(r"experiment[ _-]?0*(\d+)$", re.IGNORECASE)
_INDEX_NAMES = {"", "unnamed: 0", "index", "idx"}
_CANONICAL = {name.lower(): name for name in EXPERIMENT_COLUMNS}
_PHASE_BY_LOWER = {name.lower(): name for name in PHASE_CODES}


@dataclass
class ExperimentFile:
    """Samples of one experiment file. ``line_numbers`` maps each row to its line in the file."""

    path: Path
    sha256: str
    samples: pd.DataFrame  # SIGNAL_COLUMNS (float64) + Machining_Process (str) + phase (int8)
    values: np.ndarray  # the signal block (rows x SIGNAL_COLUMNS) as parsed
    line_numbers: np.ndarray
    column_numbers: dict[str, int]  # 1-based column of each recognised column in the file
    warnings: list[Problem] = field(default_factory=list)


#: File name endings of the data formats read (compression last): ``x.csv.gz`` has the stem ``x``.
DATA_SUFFIXES = (".csv", ".tsv", ".txt", ".parquet", ".pq")
COMPRESSED_SUFFIXES = (".gz", ".zip")


def data_stem(path: str | Path) -> str:
    """The file name without its format endings: ``mill3.csv.gz`` → ``mill3``."""
    name = Path(path).name
    for suffixes in (COMPRESSED_SUFFIXES, DATA_SUFFIXES):
        for suffix in suffixes:
            if name.lower().endswith(suffix) and len(name) > len(suffix):
                name = name[: -len(suffix)]
                break
    return name


def experiment_number_from_name(path: str | Path) -> int | None:
    """``experiment_07.csv`` (or ``.csv.gz``, ``.parquet``…) → 7; None when the name does not say
    (we never guess further)."""
    match = _EXPERIMENT_NAME.search(data_stem(path))
    return int(match.group(1)) if match else None


def looks_like_experiment_header(header: list[str]) -> bool:
    known = {name.lower() for name in header} & set(_CANONICAL)
    return len(known) >= len(EXPERIMENT_COLUMNS) // 2


def read_experiment_file(path: str | Path, text: CsvText | None = None) -> ExperimentFile:
    text = text or read_csv_text(path)
    path = Path(path)
    columns, warnings = _map_columns(path, text.header)
    if text.skipped_blank_lines:
        first = text.skipped_blank_lines[0]
        warnings.append(Problem(f"{len(text.skipped_blank_lines)} blank line(s) skipped", first))

    signal_positions = [columns[name] for name in SIGNAL_COLUMNS]
    # Plain options on purpose: usecols, dtype maps and custom NA lists make pandas ~50 % slower.
    frame = pd.read_csv(text.buffer(), header=0, engine="c", low_memory=False)
    kinds = frame.dtypes.iloc[signal_positions].map(lambda dtype: dtype.kind)
    if kinds.isin(("f", "i", "u")).all():  # the usual, fast path: every signal cell is a number
        block = frame.iloc[:, signal_positions].to_numpy(dtype=np.float64)
    else:  # find and name the offending cell
        block = np.column_stack(
            [
                _as_float(path, frame.iloc[:, pos], name, pos + 1, text.line_numbers)
                for name, pos in zip(SIGNAL_COLUMNS, signal_positions)
            ]
        )
    process = frame.iloc[:, columns[PROCESS_COLUMN]]
    codes, labels = pd.factorize(process, use_na_sentinel=False)
    names = [_PHASE_BY_LOWER.get(str(label).strip().lower(), str(label).strip()) for label in labels]
    label_codes = np.array([PHASE_CODES.get(name, UNKNOWN_PHASE_CODE) for name in names], dtype=np.int8)
    samples = pd.DataFrame(block, columns=list(SIGNAL_COLUMNS), copy=False)
    samples[PROCESS_COLUMN] = np.asarray(names, dtype=object)[codes]
    samples["phase"] = label_codes[codes]
    return ExperimentFile(
        path=path,
        sha256=text.sha256,
        samples=samples,
        values=block,
        line_numbers=text.line_numbers,
        column_numbers={name: pos + 1 for name, pos in columns.items()},
        warnings=warnings,
    )


def _map_columns(path: Path, header: list[str]) -> tuple[dict[str, int], list[Problem]]:
    """Map each expected column to its 0-based position; tolerate case, an index, extra labels."""
    warnings: list[Problem] = []
    positions: dict[str, int] = {}
    for pos, name in enumerate(header):
        canonical = _CANONICAL.get(name.lower())
        if canonical is not None:
            if canonical in positions:
                raise DataError(
                    path,
                    Problem(
                        f"column '{canonical}' appears twice (columns {positions[canonical] + 1} "
                        f"and {pos + 1})",
                        1,
                        pos + 1,
                    ),
                )
            positions[canonical] = pos
        elif pos == 0 and name.lower() in _INDEX_NAMES:
            warnings.append(Problem("leading index column ignored", 1, 1))
        elif name.lower() in KNOWN_EXTRA_COLUMNS:
            warnings.append(Problem(f"extra column '{name}' ignored (labels come from train.csv)", 1, pos + 1))
        else:
            warnings.append(Problem(f"unrecognised column '{name}' ignored", 1, pos + 1))
    missing = [name for name in EXPERIMENT_COLUMNS if name not in positions]
    if missing:
        shown = ", ".join(f"'{name}'" for name in missing[:5])
        more = f" and {len(missing) - 5} more" if len(missing) > 5 else ""
        raise DataError(
            path,
            Problem(f"not a UMich experiment file: missing column(s) {shown}{more}", 1),
        )
    return positions, warnings


def _as_float(path: Path, raw: pd.Series, name: str, column: int, lines: np.ndarray) -> np.ndarray:
    if raw.dtype.kind in "fiu":
        return raw.to_numpy(dtype=np.float64)
    numeric = pd.to_numeric(raw, errors="coerce")
    bad = numeric.isna() & raw.notna()
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        value = str(raw.iloc[row])
        shown = value if len(value) <= 30 else value[:27] + "..."
        raise DataError(
            path,
            Problem(f"non-numeric value '{shown}' in column '{name}'", int(lines[row]), column),
        )
    return numeric.to_numpy(dtype=np.float64)
