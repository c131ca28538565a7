"""Reading one UMich experiment file (47 signals + Machining_Process) into a DataFrame, whole or
chunk by chunk, from delimited text (csvtext.py: plain, gzip, zip) or Parquet."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import numpy as np
import pandas as pd

from .csvtext import DEFAULT_CHUNK_BYTES, PARQUET_MAGIC, CsvReader, CsvText, file_magic, file_sha256
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
    """A whole experiment file (any format) as one :class:`ExperimentFile`, or raise DataError."""
    path = Path(path)
    if text is not None:
        columns, warnings = _map_columns(path, text.header)
        chunk = _experiment_of_csv(path, text, columns)
        if text.skipped_blank_lines:
            warnings.append(blank_lines_warning(text.skipped_blank_lines))
        chunk.warnings = warnings
        chunk.sha256 = text.sha256
        return chunk
    source = open_data_file(path)
    chunks = list(iter_experiment_chunks(source))
    whole = chunks[0] if len(chunks) == 1 else ExperimentFile(
        path, "", pd.concat([c.samples for c in chunks], ignore_index=True),
        np.concatenate([c.values for c in chunks]), np.concatenate([c.line_numbers for c in chunks]),
        chunks[0].column_numbers)
    whole.sha256 = source.sha256
    whole.warnings = experiment_warnings(source)
    return whole


class ParquetReader:
    """A Parquet file read in row batches; the same attributes as csvtext.CsvReader.

    Parquet has no lines: a problem's "line" is the row number (1 = the first row)."""

    def __init__(self, path: str | Path, chunk_rows: int = 65_536):
        self.path = Path(path)
        self.chunk_rows = chunk_rows
        self.size = self.path.stat().st_size
        self.bytes_read, self.rows, self.sha256, self.skipped_blank_lines = 0, 0, None, []
        try:
            import pyarrow.parquet as pq

            self._file = pq.ParquetFile(self.path)
        except Exception as exc:  # pyarrow raises ArrowInvalid, OSError, … for a broken file
            raise DataError(self.path, Problem(f"not a readable Parquet file: {exc}")) from None
        self.header = list(self._file.schema_arrow.names)
        self._total = max(1, self._file.metadata.num_rows)

    def check_types(self, columns: dict[str, int]) -> None:
        """Signal columns must hold numbers: a string (or any other) column is refused, named."""
        import pyarrow as pa

        schema = self._file.schema_arrow
        for name in SIGNAL_COLUMNS:
            kind = schema.field(columns[name]).type
            if not (pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_null(kind)):
                raise DataError(self.path, Problem(f"column '{name}' holds {kind} values in this Parquet file; "
                                                   "expected numbers", None, columns[name] + 1))

    def batches(self) -> Iterator[tuple[pd.DataFrame, np.ndarray]]:
        done = 0
        try:
            for batch in self._file.iter_batches(batch_size=self.chunk_rows):
                frame = batch.to_pandas()
                lines = np.arange(done + 1, done + 1 + len(frame), dtype=np.int64)
                done += len(frame)
                self.bytes_read = int(self.size * done / self._total)
                yield frame, lines
        except DataError:
            raise
        except Exception as exc:
            raise DataError(self.path, Problem(f"the Parquet file cannot be read past row {done}: {exc}", done + 1)) from None
        self.rows = done
        if not done:
            raise DataError(self.path, Problem("the Parquet file has no rows"))
        self.sha256 = file_sha256(self.path)


def open_data_file(path: str | Path, chunk_bytes: int = DEFAULT_CHUNK_BYTES):
    """A :class:`csvtext.CsvReader` or a :class:`ParquetReader`, told apart by the file's bytes."""
    path = Path(path)
    if file_magic(path) == PARQUET_MAGIC:
        return ParquetReader(path, chunk_rows=max(1, chunk_bytes // 500))  # ~500 bytes a row as text
    return CsvReader(path, chunk_bytes)


def experiment_warnings(source) -> list[Problem]:
    """The whole file's reading warnings (ignored columns, skipped blank lines); after its chunks."""
    _, warnings = _map_columns(source.path, source.header)
    if source.skipped_blank_lines:
        warnings.append(blank_lines_warning(source.skipped_blank_lines))
    return warnings


def iter_experiment_chunks(source) -> Iterator[ExperimentFile]:
    """The samples of an experiment file, chunk by chunk (line numbers run on across chunks)."""
    columns, _ = _map_columns(source.path, source.header)
    if isinstance(source, ParquetReader):
        source.check_types(columns)
        for frame, lines in source.batches():
            yield _experiment_of_frame(source.path, frame, columns, lines)
        return
    for text in source.chunks():
        yield _experiment_of_csv(source.path, text, columns)


def blank_lines_warning(lines: list[int]) -> Problem:
    return Problem(f"{len(lines)} blank line(s) skipped", lines[0])


def _experiment_of_csv(path: Path, text: CsvText, columns: dict[str, int]) -> ExperimentFile:
    # Plain options on purpose: usecols, dtype maps and custom NA lists make pandas ~50 % slower.
    frame = pd.read_csv(text.buffer(), header=0, engine="c", low_memory=False)
    return _experiment_of_frame(path, frame, columns, text.line_numbers)


def _experiment_of_frame(path: Path, frame: pd.DataFrame, columns: dict[str, int], lines: np.ndarray) -> ExperimentFile:
    signal_positions = [columns[name] for name in SIGNAL_COLUMNS]
    kinds = frame.dtypes.iloc[signal_positions].map(lambda dtype: dtype.kind)
    if kinds.isin(("f", "i", "u")).all():  # the usual, fast path: every signal cell is a number
        block = frame.iloc[:, signal_positions].to_numpy(dtype=np.float64)
    else:  # find and name the offending cell
        block = np.column_stack(
            [
                _as_float(path, frame.iloc[:, pos], name, pos + 1, lines)
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
        sha256="",
        samples=samples,
        values=block,
        line_numbers=lines,
        column_numbers={name: pos + 1 for name, pos in columns.items()},
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
