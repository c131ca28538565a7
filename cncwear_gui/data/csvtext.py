"""Reading a CSV file's bytes safely: size limit, binary and encoding checks, any line ending.

The UMich files come with LF, CRLF and CR-only (experiment_12.csv) line endings; all become LF
here so pandas' C parser can read the result in one pass. Every check names file, line and column.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .report import DataError, Problem

#: One experiment file of the bundled dataset is at most ~1 MB (2,300 rows). A file far beyond
#: this is not one experiment: it is refused before it is read, so it cannot exhaust memory.
MAX_FILE_BYTES = 64 * 1024 * 1024
_SNIFF_BYTES = 64 * 1024
_DELIMITERS = {";": "semicolon", "\t": "tab", "|": "pipe"}


@dataclass
class CsvText:
    """A CSV file normalised to LF line endings, with its header split and lines counted."""

    path: Path
    body: bytes  # header + data lines, LF-terminated, blank lines removed
    header: list[str]
    line_numbers: np.ndarray  # file line number (1-based) of each data row
    sha256: str
    skipped_blank_lines: list[int]

    @property
    def rows(self) -> int:
        return len(self.line_numbers)

    def buffer(self) -> io.BytesIO:
        return io.BytesIO(self.body)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def read_csv_text(path: str | Path, max_bytes: int = MAX_FILE_BYTES) -> CsvText:
    """Read and normalise a CSV text file, or raise DataError saying what is wrong and where."""
    path = Path(path)
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise DataError(path, Problem(f"cannot read file: {exc.strerror or exc}")) from exc
    if size == 0:
        raise DataError(path, Problem("file is empty (0 bytes)"))
    if size > max_bytes:
        raise DataError(
            path,
            Problem(
                f"file is {size / 1e6:.1f} MB, more than the {max_bytes / 1e6:.0f} MB limit for one "
                "experiment file; it was not read. Split it into one file per experiment."
            ),
        )
    raw = path.read_bytes()
    _reject_binary(path, raw)
    sha256 = hashlib.sha256(raw).hexdigest()
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    text = raw.replace(b"\r\n", b"\n").replace(b"\r", b"\n").rstrip(b" \t\n") + b"\n"
    if text == b"\n":
        raise DataError(path, Problem("file holds only blank lines"))
    header_end = text.index(b"\n")
    header_line = text[:header_end].decode("utf-8")
    header = [name.strip().strip('"').strip() for name in header_line.split(",")]
    if len(header) == 1:
        _reject_wrong_delimiter(path, header_line)

    # Per-line field counts, vectorised: commas between consecutive line ends.
    buffer = np.frombuffer(text, dtype=np.uint8)
    ends = np.flatnonzero(buffer == 0x0A)
    commas_before = np.concatenate(([0], np.searchsorted(np.flatnonzero(buffer == 0x2C), ends)))
    commas = np.diff(commas_before)[1:]  # data lines only
    starts = ends[:-1] + 1
    lengths = ends[1:] - starts
    line_numbers = np.arange(2, len(ends) + 1, dtype=np.int64)
    blank_mask = np.zeros(len(commas), dtype=bool)
    for index in np.flatnonzero(commas == 0):  # only lines without a comma can be blank
        blank_mask[index] = not text[starts[index] : starts[index] + lengths[index]].strip()
    bad = np.flatnonzero((commas != len(header) - 1) & ~blank_mask)
    if bad.size:
        index = int(bad[0])
        _reject_field_count(
            path,
            int(line_numbers[index]),
            int(commas[index]) + 1,
            len(header),
            is_last=index == len(commas) - 1,
        )
    blank = line_numbers[blank_mask].tolist()
    if blank:
        keep = [text[: header_end + 1]] + [
            text[a : a + n + 1] for a, n, b in zip(starts, lengths, blank_mask) if not b
        ]
        text = b"".join(keep)
        line_numbers = line_numbers[~blank_mask]
    if not len(line_numbers):
        raise DataError(path, Problem("header only: the file has no data rows", line=1))
    return CsvText(path, text, header, line_numbers, sha256, blank)


def _reject_binary(path: Path, raw: bytes) -> None:
    head = raw[:_SNIFF_BYTES]
    nul = head.find(b"\x00")
    if nul >= 0:
        line = head.count(b"\n", 0, nul) + head.count(b"\r", 0, nul) - head.count(b"\r\n", 0, nul) + 1
        raise DataError(
            path, Problem(f"not a CSV text file: binary content (NUL byte at byte {nul})", line=line)
        )
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = raw[: exc.start].replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        line = before.count(b"\n") + 1
        column = exc.start - (before.rfind(b"\n") + 1) + 1
        raise DataError(
            path,
            Problem(f"not a CSV text file: invalid UTF-8 byte 0x{raw[exc.start]:02x}", line, column),
        ) from None


def _reject_wrong_delimiter(path: Path, header_line: str) -> None:
    for delimiter, name in _DELIMITERS.items():
        if header_line.count(delimiter) >= 2:
            raise DataError(
                path,
                Problem(f"wrong delimiter: the header is separated by {name}s; expected commas", 1, 1),
            )
    raise DataError(path, Problem("the header has a single column; expected comma-separated names", 1))


def _reject_field_count(path: Path, line: int, found: int, expected: int, is_last: bool) -> None:
    if found < expected:
        hint = " (the file looks truncated)" if is_last else ""
        message = f"row has {found} fields, the header has {expected}{hint}"
        column = found  # the last field present; the next one is missing
    else:
        message = f"row has {found} fields, the header has {expected}"
        column = expected + 1
    raise DataError(path, Problem(message, line, column))
