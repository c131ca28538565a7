"""Following a growing experiment-format CSV that a data logger appends to (``tail:PATH``).

The logger writes the experiment header (the 47 signals and ``Machining_Process``) and then one
row per 100 ms sample. Each :meth:`TailSource.read` takes the complete lines appended since the
last call — never blocking, never re-reading the file: one ``stat`` of the path, one ``fstat`` of
the open file and a read of the new bytes per poll. A last line without its newline is held until
the logger finishes it. Every row goes through :func:`.samples.check_record`, so a malformed row is
rejected (counted by reason, with its file line) and the rows after it still arrive.

What a logger and the tools around it do to the file, and what the source does about it:

* The file does not exist yet: RECONNECTING ("waiting for PATH"), retried with :class:`~cncwear_gui.backoff.Backoff`;
  CONNECTED once it appears, and then read from its first line.
* ``from_start=False`` (the default, ``tail -f``): data rows already in the file at ``start()`` are
  skipped; its header (and a changed header further down) is still read. A row being written at
  that moment is delivered once complete.
* Truncation (the file became shorter than what was read, or was rewritten in place — the bytes
  just before the read position changed): read again from the top, header first. Counted in
  ``truncations`` and as a reconnect.
* Rotation (the path now names another file, e.g. logrotate's rename + a new file): the complete
  lines left in the old file are read first, then the new file from its start. Counted in
  ``rotations`` and as a reconnect. While the path names no file at all, the old file is still
  read and the health says the path is gone.
* The first line of every file is its header; a header without some signal columns is named in
  the health detail and its rows are rejected as ``missing``. A header line repeated later (a
  logger restarted) is skipped; a different header further down replaces the first. A file that
  starts with data rows after a truncation or rotation (copytruncate; a logger that writes the
  header only once) keeps the previous header.
* Blank lines (and NUL padding left by copytruncate) are skipped; LF, CRLF and CR line endings and
  a UTF-8 byte-order mark are accepted; quoted fields are parsed with :mod:`csv`.
* A row whose field count differs from its header's would put values in the wrong columns: it is
  rejected as ``missing``, naming both counts.

The file has no clock of its own, so ``lag_s`` stays 0 and ``sample_time`` is NaN.
"""

from __future__ import annotations

import csv
import os
import threading
import time
from collections import deque
from dataclasses import dataclass, replace
from pathlib import Path

import pandas as pd

from ..backoff import Backoff
from ..data.experiment_file import looks_like_experiment_header
from ..data.schema import EXPERIMENT_COLUMNS, PROCESS_COLUMN, SIGNAL_COLUMNS
from .samples import RejectedSample, build_frame, check_record, empty_frame
from .sources import LiveSource, SourceHealth, SourceState

KIND = "tail"
CHUNK_BYTES = 1 << 20  # the most read per system call
MAX_LINE_BYTES = 1 << 20  # a "line" longer than this is not a sample: dropped, counted as rejected
_TAIL_BYTES = 64  # bytes before the read position kept to notice a file rewritten in place
_BOM = b"\xef\xbb\xbf"
_CANONICAL = {name.lower(): name for name in EXPERIMENT_COLUMNS}
_DATA_START = frozenset("0123456789+-.")


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _clean_name(name: str) -> str:
    return name.strip().strip('"').strip()


@dataclass
class _Header:
    key: tuple[str, ...]  # the lower-cased names: a repeated header compares equal
    positions: dict[str, int]  # canonical column → 0-based field position
    fields: int
    line: int
    missing: list[str]  # signal columns the header does not name
    note: str  # "" when the header is complete


@dataclass
class _Cursor:
    """One open file and how far it has been read."""

    handle: object
    identity: tuple[int, int]  # (st_dev, st_ino): another identity at the path is a rotation
    offset: int = 0  # bytes read so far
    line_no: int = 0  # complete lines read so far (blank ones included)
    partial: bytes = b""  # the started last line
    pending_cr: bool = False  # the last byte read was CR: a following LF belongs to it
    tail: bytes = b""  # the last _TAIL_BYTES bytes read
    need_header: bool = True  # the next non-blank line is the top of the file


@dataclass
class _Resume:
    identity: tuple[int, int]
    offset: int
    line_no: int
    need_header: bool


class TailSource(LiveSource):
    """Samples appended to the experiment-format CSV at ``path``; see the module docstring."""

    kind = KIND

    def __init__(self, path: str | Path, job: dict[str, float] | None = None, from_start: bool = False,
                 poll_interval_s: float = 0.05):
        super().__init__()
        self.path = Path(path)
        self.job = dict(job or {})
        self.from_start = from_start
        self.poll_interval_s = max(0.0, float(poll_interval_s))
        self.truncations = 0  # times the file was read again from the top
        self.rotations = 0  # times another file took the path
        self.repeated_headers = 0  # header lines skipped because they repeat the current header
        self._lock = threading.RLock()
        self._health = SourceHealth(state=SourceState.STOPPED, detail=f"not started: {self.path}")
        self._backoff = Backoff(first=0.5, cap=2.0, jitter=0.2)
        self._cursor: _Cursor | None = None
        self._resume: _Resume | None = None  # where to go on after a read error, if the file is the same
        self._header: _Header | None = None
        self._queue: deque[dict] = deque()  # accepted records not yet handed out
        self._status = ""  # what the source is doing, the first part of the health detail
        self._note = ""  # a problem of the file's content (its header) that stays until it changes
        self._started = False
        self._closed = False
        self._connected_once = False
        self._gone = False  # the path names no file, the open one is still read
        self._next_poll = 0.0
        self._retry_at = 0.0
        self._empty = empty_frame(self.job)

    # --- LiveSource ---------------------------------------------------------------------------

    def start(self) -> None:
        with self._lock:
            if self._started or self._closed:
                return
            self._started = True
            self._health.state = SourceState.CONNECTING
            self._status = f"opening {self.path}"
            self._try_open(time.monotonic(), skip_existing=not self.from_start)

    def read(self, limit: int | None = None) -> pd.DataFrame:
        with self._lock:
            if not self._started or self._closed or (limit is not None and limit <= 0):
                return self._empty.copy()
            now = time.monotonic()
            if (limit is None or len(self._queue) < limit) and now >= self._next_poll:
                self._next_poll = now + self.poll_interval_s
                self._poll(now, limit)
            count = len(self._queue) if limit is None else min(limit, len(self._queue))
            if not count:
                return self._empty.copy()
            records = [self._queue.popleft() for _ in range(count)]
        return build_frame(records, received_at=[time.monotonic()] * count, sample_times=None, job=self.job)

    def health(self) -> SourceHealth:
        with self._lock:
            return replace(self._health, rejected=dict(self._health.rejected), detail=self._detail())

    def close(self) -> None:
        with self._lock:
            if self._cursor is not None:
                self._close_handle(self._cursor)
                self._cursor = None
            self._queue.clear()
            self._closed = True
            self._health.state = SourceState.STOPPED
            self._status = f"stopped: {self.path}"

    def describe(self) -> str:
        return f"tail:{self.path}"

    # --- opening, polling ---------------------------------------------------------------------

    def _try_open(self, now: float, skip_existing: bool = False) -> bool:
        try:
            handle = open(self.path, "rb", buffering=0)  # kept open until close()
        except FileNotFoundError:
            return self._wait(now, f"waiting for {self.path}")
        except OSError as error:
            return self._wait(now, f"cannot open {self.path}: {error.strerror or error}; retrying")
        try:
            info = os.fstat(handle.fileno())
        except OSError as error:
            handle.close()
            return self._wait(now, f"cannot open {self.path}: {error.strerror or error}; retrying")
        cursor = _Cursor(handle, (info.st_dev, info.st_ino))
        resume, self._resume = self._resume, None
        if resume is not None and resume.identity == cursor.identity and info.st_size >= resume.offset:
            handle.seek(resume.offset)  # the same file after a read error: go on where we were
            cursor.offset, cursor.line_no, cursor.need_header = resume.offset, resume.line_no, resume.need_header
        self._cursor = cursor
        self._gone = False
        self._backoff.reset()
        if self._connected_once:
            self._health.reconnects += 1
        self._connected_once = True
        self._health.state = SourceState.CONNECTED
        self._status = f"following {self.path}"
        if skip_existing:
            self._skip_existing(cursor, info.st_size)
        return True

    def _wait(self, now: float, status: str) -> bool:
        self._health.state = SourceState.RECONNECTING
        self._status = status
        self._retry_at = now + self._backoff.next_delay()
        return False

    def _skip_existing(self, cursor: _Cursor, size: int) -> None:
        """tail -f: pass over the data rows already written (headers are still taken)."""
        try:
            while cursor.offset < size:
                data = cursor.handle.read(min(CHUNK_BYTES, size - cursor.offset))
                if not data:
                    break
                self._consume(cursor, data, skip=True)
        except OSError as error:
            self._lost(error)

    def _poll(self, now: float, want: int | None) -> None:
        if self._cursor is None:
            if now < self._retry_at or not self._try_open(now):
                return
        try:
            self._follow_path(now)
            if self._cursor is not None:
                self._read_new(self._cursor, want)
        except OSError as error:
            self._lost(error)

    def _follow_path(self, now: float) -> None:
        """Notice a rotation (another file at the path) or a path that names no file any more."""
        cursor = self._cursor
        try:
            info = os.stat(self.path)
        except FileNotFoundError:
            if not self._gone:
                self._gone = True
                self._health.state = SourceState.RECONNECTING
                self._status = (f"{self.path} was removed or renamed; still reading the open file, "
                                "waiting for a new one")
            return
        if (info.st_dev, info.st_ino) == cursor.identity:
            if self._gone:  # renamed back
                self._gone = False
                self._health.state = SourceState.CONNECTED
                self._status = f"following {self.path}"
            return
        # Rotated: finish the old file's complete lines, then the new file from its start.
        while data := cursor.handle.read(CHUNK_BYTES):
            self._consume(cursor, data, skip=False)
        if cursor.partial.strip(b" \t\x00"):
            self._reject(RejectedSample(
                "missing", f"line {cursor.line_no + 1} never got its newline before the file was rotated; "
                           f"dropped ({self.path.name} line {cursor.line_no + 1})"))
        self._close_handle(cursor)
        self._cursor = None
        self.rotations += 1
        self._try_open(now)  # the new file from its first line; if it is gone again, after the backoff

    def _read_new(self, cursor: _Cursor, want: int | None) -> None:
        size = os.fstat(cursor.handle.fileno()).st_size
        if size < cursor.offset or (size > cursor.offset and not self._same_bytes_before(cursor)):
            self._restart(cursor)
        elif size == cursor.offset:
            return
        while True:
            data = cursor.handle.read(CHUNK_BYTES)
            if not data:
                return
            self._consume(cursor, data, skip=False)
            if want is not None and len(self._queue) >= want:
                self._next_poll = 0.0  # more may be waiting: the next read() looks again at once
                return

    def _same_bytes_before(self, cursor: _Cursor) -> bool:
        """Whether the bytes just before the read position are still the ones read (cheap check)."""
        if not cursor.tail:
            return True
        cursor.handle.seek(cursor.offset - len(cursor.tail))
        same = cursor.handle.read(len(cursor.tail)) == cursor.tail
        cursor.handle.seek(cursor.offset)
        return same

    def _restart(self, cursor: _Cursor) -> None:
        """The file was truncated or rewritten: read it again from the top, header first."""
        cursor.handle.seek(0)
        cursor.offset = cursor.line_no = 0
        cursor.partial, cursor.pending_cr, cursor.tail = b"", False, b""
        cursor.need_header = True
        self.truncations += 1
        self._health.reconnects += 1

    def _lost(self, error: OSError) -> None:
        cursor = self._cursor
        if cursor is not None:
            self._resume = _Resume(cursor.identity, cursor.offset - len(cursor.partial), cursor.line_no,
                                   cursor.need_header)
            self._close_handle(cursor)
            self._cursor = None
        self._wait(time.monotonic(), f"lost {self.path}: {error.strerror or error}; retrying")

    @staticmethod
    def _close_handle(cursor: _Cursor) -> None:
        try:
            cursor.handle.close()
        except OSError:
            pass

    # --- lines and rows -----------------------------------------------------------------------

    def _consume(self, cursor: _Cursor, data: bytes, skip: bool) -> None:
        cursor.offset += len(data)
        cursor.tail = (cursor.tail + data)[-_TAIL_BYTES:]
        if cursor.pending_cr:
            cursor.pending_cr = False
            if data[:1] == b"\n":  # the LF of a CRLF split between two reads
                data = data[1:]
        buffer = cursor.partial + data if cursor.partial else data
        if b"\x00" in buffer:
            buffer = buffer.replace(b"\x00", b"")
        if b"\r" in buffer:
            cursor.pending_cr = buffer.endswith(b"\r")
            buffer = buffer.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        lines = buffer.split(b"\n")
        cursor.partial = lines.pop()
        for raw in lines:
            cursor.line_no += 1
            self._line(cursor, raw, skip)
        if len(cursor.partial) > MAX_LINE_BYTES:  # not a sample: never held in memory whole
            self._reject(RejectedSample("missing", f"line longer than {MAX_LINE_BYTES} bytes; dropped "
                                                   f"({self.path.name} line {cursor.line_no + 1})"))
            cursor.partial = b""

    def _line(self, cursor: _Cursor, raw: bytes, skip: bool) -> None:
        if cursor.line_no == 1 and raw.startswith(_BOM):
            raw = raw[len(_BOM):]
        text = raw.decode("utf-8", errors="replace")
        stripped = text.strip()
        if not stripped:
            return
        if skip and not cursor.need_header and stripped[0] in _DATA_START:
            return  # an existing data row: not even parsed
        fields = next(csv.reader((text,)))
        if cursor.need_header:
            cursor.need_header = False
            if self._header is None or self._top_line_is_header(fields):
                self._take_header(fields, cursor.line_no)
                return
            # A file starting with data (copytruncate, a logger writing its header once): the
            # previous header still describes the rows.
        elif not _is_number(fields[0]) and looks_like_experiment_header([_clean_name(f) for f in fields]):
            key = tuple(_clean_name(f).lower() for f in fields)
            if key == self._header.key:
                self.repeated_headers += 1
            else:
                self._take_header(fields, cursor.line_no, changed=True)
            return
        if skip:
            return
        where = f"{self.path.name} line {cursor.line_no}"
        header = self._header
        if len(fields) != header.fields:
            self._reject(RejectedSample(
                "missing", f"{len(fields)} field(s) where the header (line {header.line}) has {header.fields} "
                           f"({where})"))
            return
        record = {name: fields[position] for name, position in header.positions.items()}
        rejected = check_record(record, where=where)
        if rejected is not None:
            self._reject(rejected)
            return
        self._queue.append(record)
        self._health.received += 1

    @staticmethod
    def _top_line_is_header(fields: list[str]) -> bool:
        names = [_clean_name(f) for f in fields]
        return looks_like_experiment_header(names) or not any(_is_number(name) for name in names)

    def _take_header(self, fields: list[str], line: int, changed: bool = False) -> None:
        names = [_clean_name(f) for f in fields]
        positions: dict[str, int] = {}
        twice: list[str] = []
        for position, name in enumerate(names):
            canonical = _CANONICAL.get(name.lower())
            if canonical is None:
                continue  # an index column or an extra column: ignored
            if canonical in positions:
                twice.append(canonical)
            else:
                positions[canonical] = position
        missing = [name for name in SIGNAL_COLUMNS if name not in positions]
        at = f"line {line} of {self.path.name}"
        notes = []
        if len(missing) == len(SIGNAL_COLUMNS):
            notes.append(f"{at} is not an experiment header: it names none of the {len(SIGNAL_COLUMNS)} "
                         "signal columns; rows are rejected as missing")
        elif missing:
            notes.append(f"the header ({at}) lacks {len(missing)} signal column(s): {', '.join(missing)}; "
                         "rows are rejected as missing")
        if PROCESS_COLUMN not in positions and len(missing) < len(SIGNAL_COLUMNS):
            notes.append(f"the header ({at}) has no {PROCESS_COLUMN} column: phases are unknown")
        if twice:
            notes.append(f"the header ({at}) names {', '.join(twice)} twice; the first is used")
        if changed and not notes:
            notes.append(f"the header changed at {at}")
        self._header = _Header(tuple(name.lower() for name in names), positions, len(names), line, missing,
                               "; ".join(notes))
        self._note = self._header.note

    def _reject(self, rejected: RejectedSample) -> None:
        self._health.rejected[rejected.reason] = self._health.rejected.get(rejected.reason, 0) + 1
        self._health.last_rejection = rejected.detail

    def _detail(self) -> str:
        parts = [self._status]
        cursor = self._cursor
        if cursor is not None and self._health.state is not SourceState.STOPPED:
            parts[0] += f" (line {cursor.line_no})" if self._header is not None else " (no header yet)"
        if self._note:
            parts.append(self._note)
        counts = []
        if self.truncations:
            counts.append(f"truncated {self.truncations}×")
        if self.rotations:
            counts.append(f"rotated {self.rotations}×")
        if counts:
            parts.append(", ".join(counts) + " (read again from the top)")
        return "; ".join(parts)
