"""Reading a delimited text file safely, in chunks: compression, binary and encoding checks, the
delimiter and decimal separator, any line ending.

What a shop floor exports, each recognised from the file's bytes (never its name) or refused
naming file, line and column:

* comma-separated with decimal points (the UMich files);
* semicolon- or tab-separated, with decimal points or decimal commas (a spreadsheet export in
  many European locales): a file must use one decimal separator; both in one file is refused as
  ambiguous;
* any of these gzip-compressed, or as the only CSV in a zip (a zip holding several is refused,
  naming them: one zip is one file).

Every chunk becomes comma-separated, decimal-point, LF-terminated text, so pandas' C parser reads
it in one pass. The UMich files come with LF, CRLF and CR-only (experiment_12.csv) line endings.
A file is read :data:`DEFAULT_CHUNK_BYTES` at a time, so memory stays bounded whatever its size;
line numbers run on across chunks, so every problem keeps its file, line and column.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import numpy as np

from .report import DataError, Problem

DEFAULT_CHUNK_BYTES = 8 * 1024 * 1024  # of decompressed text: ~16,000 rows of 48 columns
_SNIFF_BYTES = 64 * 1024
_HEADER_MAX_BYTES = 1024 * 1024
_DELIMITERS = {",": "comma", ";": "semicolon", "\t": "tab"}
GZIP_MAGIC, ZIP_MAGIC, PARQUET_MAGIC = b"\x1f\x8b", b"PK\x03\x04", b"PAR1"
_ZIPPED_TEXT = (".csv", ".tsv", ".txt")


@dataclass
class CsvText:
    """Comma-separated text normalised to LF line endings: a whole file or one chunk of it.

    ``body`` is the (normalised) header line and the chunk's data lines, blank lines removed."""

    path: Path
    body: bytes
    header: list[str]
    line_numbers: np.ndarray  # file line number (1-based) of each data row
    sha256: str | None  # of the file's bytes; None on a chunk before the last
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


def file_magic(path: Path) -> bytes:
    """The first four bytes (what tells gzip, zip and Parquet from text)."""
    try:
        with open(path, "rb") as handle:
            return handle.read(4)
    except OSError as exc:
        raise DataError(path, Problem(f"cannot read file: {exc.strerror or exc}")) from exc


def read_csv_text(path: str | Path, max_bytes: int | None = None) -> CsvText:
    """A whole file as one :class:`CsvText` (train.csv, small files), or raise DataError."""
    reader = CsvReader(path, max_bytes=max_bytes)
    chunks = list(reader.chunks())
    header = chunks[0].body.split(b"\n", 1)[0] + b"\n"
    body = header + b"".join(c.body.split(b"\n", 1)[1] for c in chunks)
    lines = np.concatenate([c.line_numbers for c in chunks])
    return CsvText(reader.path, body, reader.header, lines, reader.sha256, reader.skipped_blank_lines)


@dataclass
class CsvReader:
    """A delimited text file (plain, gzip or zipped), read chunk by chunk.

    :meth:`chunks` yields :class:`CsvText` chunks of about ``chunk_bytes``; afterwards ``sha256``,
    ``rows`` and ``skipped_blank_lines`` describe the whole file. ``bytes_read`` / ``size`` is
    the progress (of the file's bytes, compressed or not). ``max_bytes``: a size limit (None: none).
    """

    path: Path
    chunk_bytes: int = DEFAULT_CHUNK_BYTES
    max_bytes: int | None = None
    compression: str | None = None  # None, "gzip" or "zip"
    size: int = 0
    bytes_read: int = 0
    header: list[str] = field(default_factory=list)
    delimiter: str = ","
    decimal: str | None = None  # "." or ","; None until a chunk shows one (semicolon/tab files)
    sha256: str | None = None
    rows: int = 0
    skipped_blank_lines: list[int] = field(default_factory=list)
    _first_decimal: tuple | None = None  # (separator, line, column) where the decimal was first seen
    _member: str = ""
    _last_data_line: int = 0

    def __post_init__(self):
        self.path = Path(self.path)
        try:
            self.size = self.path.stat().st_size
        except OSError as exc:
            raise DataError(self.path, Problem(f"cannot read file: {exc.strerror or exc}")) from exc
        if self.size == 0:
            raise DataError(self.path, Problem("file is empty (0 bytes)"))
        if self.max_bytes is not None and self.size > self.max_bytes:
            raise DataError(self.path, Problem(
                f"file is {self.size / 1e6:.1f} MB, more than the size limit of {self.max_bytes / 1e6:.0f} MB; "
                "it was not read"))
        magic = file_magic(self.path)
        self.compression = "gzip" if magic.startswith(GZIP_MAGIC) else "zip" if magic == ZIP_MAGIC else None
        if magic == PARQUET_MAGIC:
            raise DataError(self.path, Problem("a Parquet file, not text"))
        self._peek_header()

    # -- opening ---------------------------------------------------------------------------------
    def _open(self):
        if self.compression == "gzip":
            raw = open(self.path, "rb")
            return _Counted(gzip.GzipFile(fileobj=raw), raw)
        if self.compression == "zip":
            try:
                archive = zipfile.ZipFile(self.path)
            except zipfile.BadZipFile as exc:
                raise DataError(self.path, Problem(f"not a valid zip file: {exc}")) from None
            members = [i for i in archive.infolist() if not i.is_dir() and not i.filename.startswith("__MACOSX/")
                       and i.filename.lower().endswith(_ZIPPED_TEXT)]
            if len(members) != 1:
                archive.close()
                names = ", ".join(i.filename for i in members[:5]) + (", …" if len(members) > 5 else "")
                if not members:
                    raise DataError(self.path, Problem("the zip holds no .csv, .tsv or .txt file"))
                raise DataError(self.path, Problem(
                    f"the zip holds {len(members)} CSV files ({names}); one zip is read as one file, so none "
                    "was read: unzip it, or give one CSV per zip"))
            self._member = members[0].filename
            try:
                inner = archive.open(members[0])
            except (zipfile.BadZipFile, NotImplementedError, RuntimeError) as exc:
                archive.close()
                raise DataError(self.path, Problem(f"cannot read {self._member} in the zip: {exc}")) from None
            return _Counted(inner, archive.fp, archive)
        handle = open(self.path, "rb")
        return _Counted(handle, handle, hasher=hashlib.sha256())

    def _read(self, stream, size: int, line: int) -> bytes:
        """Read up to ``size`` decompressed bytes; a broken compression names the line it broke in
        (a compressed stream is read in pieces, so the lines before the break are counted)."""
        if self.compression is None:
            block = stream.read(size)
            self.bytes_read = stream.position()
            return block
        pieces: list[bytes] = []
        got = 0
        while got < size:
            try:
                piece = stream.read(min(_SNIFF_BYTES, size - got))
            except EOFError:
                where = line + sum(p.count(b"\n") + p.count(b"\r") - p.count(b"\r\n") for p in pieces)
                raise DataError(self.path, Problem(
                    f"the {self.compression} file is truncated: it ends before its end marker, in or after this line",
                    where)) from None
            except (gzip.BadGzipFile, zipfile.BadZipFile, zlib.error, OSError) as exc:
                raise DataError(self.path, Problem(f"the {self.compression} data is corrupt: {exc}", line)) from None
            if not piece:
                break
            pieces.append(piece)
            got += len(piece)
        self.bytes_read = stream.position()
        return b"".join(pieces)

    def _peek_header(self) -> None:
        stream = self._open()
        try:
            head = b""
            while b"\n" not in head and b"\r" not in head and len(head) < _HEADER_MAX_BYTES:
                block = self._read(stream, _SNIFF_BYTES, 1)
                if not block:
                    break
                head += block
        finally:
            stream.close()
        self.bytes_read = 0
        _reject_binary(self.path, head, partial=True)
        if head.startswith(b"\xef\xbb\xbf"):
            head = head[3:]
        line = head.replace(b"\r\n", b"\n").replace(b"\r", b"\n").split(b"\n", 1)[0]
        try:
            header_line = line.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise DataError(self.path, Problem(f"not a CSV text file: invalid UTF-8 byte 0x{line[exc.start]:02x}",
                                               1, exc.start + 1)) from None
        if not head.replace(b"\r", b"").replace(b"\n", b"").strip():
            raise DataError(self.path, Problem("file holds only blank lines"))
        self.delimiter = _header_delimiter(self.path, header_line)
        self.header = [name.strip().strip('"').strip() for name in header_line.split(self.delimiter)]

    # -- chunks ----------------------------------------------------------------------------------
    def chunks(self) -> Iterator[CsvText]:
        stream = self._open()
        try:
            yield from self._chunks(stream)
        finally:
            stream.close()
        self.sha256 = stream.hexdigest() or file_sha256(self.path)

    def _chunks(self, stream) -> Iterator[CsvText]:
        carry, line, first, eof = b"", 0, True, False
        self.rows, self.skipped_blank_lines, self.decimal, self._first_decimal = 0, [], None, None
        header_bytes = b""
        while not eof:
            block = self._read(stream, self.chunk_bytes, line + 1)
            eof = not block
            if first and block:
                _reject_binary(self.path, block[:_SNIFF_BYTES], partial=True)
                if not carry and block.startswith(b"\xef\xbb\xbf"):
                    block = block[3:]
            data = carry + block
            hold = b""
            if not eof and data.endswith(b"\r"):  # maybe half of a CRLF: wait for the next block
                data, hold = data[:-1], b"\r"
            data = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
            if eof:
                data = data.rstrip(b" \n" if self.delimiter == "\t" else b" \t\n")
                data, carry = (data + b"\n" if data else b""), b""
            else:
                cut = data.rfind(b"\n") + 1
                data, carry = data[:cut], data[cut:] + hold
            if not data:
                continue
            self._check_utf8(data, line)
            if first:
                end = data.index(b"\n")
                header_bytes = ",".join(self.header).encode("utf-8") + b"\n"
                data, line, first = data[end + 1:], 1, False
                if not data:
                    continue
            chunk = self._chunk(data, line, header_bytes, is_final=eof)
            line += data.count(b"\n")
            if chunk is not None:
                yield chunk
        if first:
            raise DataError(self.path, Problem("file holds only blank lines"))
        if not self.rows:
            raise DataError(self.path, Problem("header only: the file has no data rows", line=1))
        # blank lines at the end of a file are not worth a warning
        self.skipped_blank_lines = [n for n in self.skipped_blank_lines if n < self._last_data_line]

    def _check_utf8(self, data: bytes, line: int) -> None:
        try:
            data.decode("utf-8")
        except UnicodeDecodeError as exc:
            before = data[: exc.start]
            column = exc.start - (before.rfind(b"\n") + 1) + 1
            raise DataError(self.path, Problem(f"not a CSV text file: invalid UTF-8 byte 0x{data[exc.start]:02x}",
                                               line + before.count(b"\n") + 1, column)) from None

    def _chunk(self, data: bytes, line: int, header_bytes: bytes, is_final: bool) -> CsvText | None:
        """Data lines ``line + 1`` on, as comma-separated text with their line numbers checked."""
        if self.delimiter != ",":
            data = self._to_commas(data, line)
        buffer = np.frombuffer(data, dtype=np.uint8)
        ends = np.flatnonzero(buffer == 0x0A)
        starts = np.concatenate(([0], ends[:-1] + 1))
        comma_positions = np.flatnonzero(buffer == 0x2C)
        commas = np.searchsorted(comma_positions, ends) - np.searchsorted(comma_positions, starts)
        lengths = ends - starts
        line_numbers = np.arange(line + 1, line + 1 + len(ends), dtype=np.int64)
        blank_mask = np.zeros(len(commas), dtype=bool)
        for index in np.flatnonzero(commas == 0):  # only lines without a comma can be blank
            blank_mask[index] = not data[starts[index]: starts[index] + lengths[index]].strip()
        bad = np.flatnonzero((commas != len(self.header) - 1) & ~blank_mask)
        if bad.size:
            index = int(bad[0])
            _reject_field_count(self.path, int(line_numbers[index]), int(commas[index]) + 1, len(self.header),
                                is_last=is_final and index == len(commas) - 1)
        blank = line_numbers[blank_mask].tolist()
        if blank:
            self.skipped_blank_lines.extend(blank)
            data = b"".join(data[a: a + n + 1] for a, n, b in zip(starts, lengths, blank_mask) if not b)
            line_numbers = line_numbers[~blank_mask]
        if not len(line_numbers):
            return None
        self.rows += len(line_numbers)
        self._last_data_line = int(line_numbers[-1])
        return CsvText(self.path, header_bytes + data, self.header, line_numbers, None, blank)

    def _to_commas(self, data: bytes, line: int) -> bytes:
        """A semicolon or tab chunk as commas and decimal points; one decimal separator per file."""
        comma, dot = data.find(b","), data.find(b".")
        seen = {sep: self._where(data, pos, line) for sep, pos in ((",", comma), (".", dot)) if pos >= 0}
        if self._first_decimal is None and seen:
            first = min(seen.items(), key=lambda item: item[1])
            self._first_decimal = (first[0], *first[1])
            self.decimal = first[0]
        other = {sep: where for sep, where in seen.items() if sep != self.decimal}
        if other:
            sep, (at_line, at_column) = next(iter(other.items()))
            was, was_line, was_column = self._first_decimal
            name = _DELIMITERS[self.delimiter]
            raise DataError(self.path, Problem(
                f"ambiguous decimal separator: '{was}' (line {was_line}, column {was_column}) and '{sep}' both occur "
                f"in this {name}-separated file; export it with one decimal separator", at_line, at_column))
        if self.decimal == ",":
            data = data.replace(b",", b".")
        return data.replace(self.delimiter.encode(), b",")

    def _where(self, data: bytes, position: int, line: int) -> tuple[int, int]:
        start = data.rfind(b"\n", 0, position) + 1
        return line + 1 + data.count(b"\n", 0, position), data.count(self.delimiter.encode(), start, position) + 1


class _Counted:
    """A decompressed stream with the position in the file underneath (progress) and, for a plain
    file, the file's SHA-256 computed as it is read."""

    def __init__(self, stream, raw, owner=None, hasher=None):
        self.stream, self.raw, self.owner, self.hasher = stream, raw, owner, hasher

    def read(self, size: int) -> bytes:
        block = self.stream.read(size)
        if self.hasher is not None:
            self.hasher.update(block)
        return block

    def position(self) -> int:
        try:
            return self.raw.tell()
        except (OSError, ValueError, AttributeError):
            return 0

    def hexdigest(self) -> str | None:
        return self.hasher.hexdigest() if self.hasher is not None else None

    def close(self) -> None:
        for thing in (self.stream, self.raw, self.owner):
            if thing is not None:
                try:
                    thing.close()
                except Exception:  # closing after a broken stream: nothing left to do
                    pass


def _header_delimiter(path: Path, header_line: str) -> str:
    counts = {d: header_line.count(d) for d in _DELIMITERS}
    present = [d for d, n in counts.items() if n]
    if len(present) > 1:
        shown = ", ".join(f"{counts[d]} {_DELIMITERS[d]}(s)" for d in present)
        raise DataError(path, Problem(f"the header mixes delimiters ({shown}); expected one of comma, semicolon or tab", 1, 1))
    if present:
        return present[0]
    if header_line.count("|") >= 2:
        raise DataError(path, Problem("wrong delimiter: the header is separated by pipes; expected commas, semicolons or tabs", 1, 1))
    raise DataError(path, Problem("the header has a single column; expected comma-, semicolon- or tab-separated names", 1))


def _reject_binary(path: Path, head: bytes, partial: bool = False) -> None:
    nul = head.find(b"\x00")
    if nul >= 0:
        line = head.count(b"\n", 0, nul) + head.count(b"\r", 0, nul) - head.count(b"\r\n", 0, nul) + 1
        raise DataError(path, Problem(f"not a CSV text file: binary content (NUL byte at byte {nul})", line=line))
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if partial and exc.start >= len(head) - 3 and exc.reason == "unexpected end of data":
            return  # a character cut by the sniff window
        before = head[: exc.start].replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        line = before.count(b"\n") + 1
        column = exc.start - (before.rfind(b"\n") + 1) + 1
        raise DataError(path, Problem(f"not a CSV text file: invalid UTF-8 byte 0x{head[exc.start]:02x}", line, column)) from None


def _reject_field_count(path: Path, line: int, found: int, expected: int, is_last: bool) -> None:
    if found < expected:
        hint = " (the file looks truncated)" if is_last else ""
        message = f"row has {found} fields, the header has {expected}{hint}"
        column = found  # the last field present; the next one is missing
    else:
        message = f"row has {found} fields, the header has {expected}"
        column = expected + 1
    raise DataError(path, Problem(message, line, column))
