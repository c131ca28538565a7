"""TailSource: a data logger appends experiment rows to a CSV; the source follows the file.

Every test plays the logger itself, writing rows of the bundled experiment_01.csv into a file in
tmp_path, and compares what the source delivers with the rows of the real file.
"""

from __future__ import annotations

import math
import os
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cncwear_gui.data.schema import PROCESS_COLUMN, SIGNAL_COLUMNS
from cncwear_gui.live.samples import RECEIVED_AT, SAMPLE_TIME
from cncwear_gui.live.source_kinds import open_source
from cncwear_gui.live.sources import MachineSpec, SourceState
from cncwear_gui.live.tail import TailSource
from helpers import BUNDLED

SOURCE = BUNDLED / "experiment_01.csv"
LINES = SOURCE.read_bytes().decode().splitlines()  # LF file: [header, row 0, row 1, ...]
HEADER, ROWS = LINES[0], LINES[1:]
EXPECTED = pd.read_csv(SOURCE)
DEADLINE_S = 5.0


def row_bytes(start: int, stop: int, ending: str = "\n") -> bytes:
    return "".join(ROWS[i] + ending for i in range(start, stop)).encode()


def append(path: Path, data: bytes | str) -> None:
    """The logger: append and close (each write reaches the file at once)."""
    with open(path, "ab") as handle:
        handle.write(data.encode() if isinstance(data, str) else data)


def collect(source: TailSource, count: int, deadline_s: float = DEADLINE_S) -> pd.DataFrame:
    """Read until ``count`` rows arrived (or the deadline passed): the rows, in order."""
    parts, got = [], 0
    end = time.monotonic() + deadline_s
    while got < count and time.monotonic() < end:
        frame = source.read()
        if len(frame):
            parts.append(frame)
            got += len(frame)
        else:
            time.sleep(0.01)
    return pd.concat(parts, ignore_index=True) if parts else source.read().iloc[0:0]


def quiet(source: TailSource, for_s: float = 0.3) -> int:
    """How many rows arrive within ``for_s`` seconds (expected: none)."""
    end, got = time.monotonic() + for_s, 0
    while time.monotonic() < end:
        got += len(source.read())
        time.sleep(0.01)
    return got


def wait_for(predicate, deadline_s: float = DEADLINE_S) -> bool:
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.01)
    return predicate()


def assert_rows(frame: pd.DataFrame, indices) -> None:
    """The frame holds exactly the source rows ``indices``, in order, with their values."""
    indices = list(indices)
    assert len(frame) == len(indices)
    expected = EXPECTED.iloc[indices]
    np.testing.assert_array_equal(frame[list(SIGNAL_COLUMNS)].to_numpy(), expected[list(SIGNAL_COLUMNS)].to_numpy())
    assert frame[PROCESS_COLUMN].tolist() == expected[PROCESS_COLUMN].tolist()


@pytest.fixture
def feed(tmp_path) -> Path:
    return tmp_path / "feed.csv"


@pytest.fixture
def sources():
    started = []

    def make(*args, **kwargs) -> TailSource:
        source = TailSource(*args, **kwargs)
        started.append(source)
        source.start()
        return source

    yield make
    for source in started:
        source.close()


def test_appended_rows_arrive_in_order_with_the_source_values(feed, sources):
    append(feed, HEADER + "\n")
    source = sources(feed, job={"feedrate": 6.0, "clamp_pressure": 4.0})
    assert source.health().state is SourceState.CONNECTED
    assert len(source.read()) == 0
    got = []
    for start in range(0, 60, 12):
        append(feed, row_bytes(start, start + 12))
        got.append(collect(source, 12))
    frame = pd.concat(got, ignore_index=True)
    assert_rows(frame, range(60))
    assert quiet(source) == 0
    assert (frame["phase"] >= 0).all()
    assert np.all(np.diff(frame[RECEIVED_AT].to_numpy()) >= 0)
    assert frame[SAMPLE_TIME].isna().all()
    assert (frame["feedrate"] == 6.0).all() and (frame["clamp_pressure"] == 4.0).all()
    health = source.health()
    assert (health.received, health.rejected, health.reconnects, health.lag_s) == (60, {}, 0, 0.0)
    assert str(feed) in health.detail


def test_read_limit_hands_out_the_rest_later(feed, sources):
    append(feed, HEADER + "\n" + row_bytes(0, 25).decode())
    source = sources(feed, from_start=True)
    first = source.read(10)
    second = source.read(10)
    rest = collect(source, 5)
    assert (len(first), len(second)) == (10, 10)
    assert_rows(pd.concat([first, second, rest], ignore_index=True), range(25))


def test_a_partial_line_is_held_until_its_newline(feed, sources):
    append(feed, HEADER + "\n")
    source = sources(feed)
    row = ROWS[3]
    cut = row.index(",", len(row) // 2) + 2  # in the middle of a number
    append(feed, row[:cut])
    assert quiet(source) == 0
    append(feed, row[cut:])  # complete, but still without its newline
    assert quiet(source) == 0
    append(feed, "\n" + ROWS[4] + "\n")
    assert_rows(collect(source, 2), [3, 4])
    assert source.health().rejected == {}


def test_crlf_cr_and_byte_order_mark(feed, sources):
    append(feed, b"\xef\xbb\xbf" + (HEADER + "\r\n").encode() + row_bytes(0, 2, "\r\n"))
    source = sources(feed, from_start=True)
    assert_rows(collect(source, 2), [0, 1])
    append(feed, row_bytes(2, 3, "\r"))  # a CR: the LF may follow in the next write
    assert_rows(collect(source, 1), [2])
    append(feed, "\n" + ROWS[3] + "\r" + ROWS[4] + "\r")  # that LF, then CR-only lines
    assert_rows(collect(source, 2), [3, 4])
    append(feed, "\n" + ROWS[5] + "\n" + "abc\n")
    assert_rows(collect(source, 1), [5])
    assert wait_for(lambda: source.health().rejected)
    assert "feed.csv line 8" in source.health().last_rejection  # line numbers count CRLF, CR and LF once


def test_from_start_scores_the_existing_rows_and_tail_f_skips_them(feed, sources):
    append(feed, HEADER + "\n" + row_bytes(0, 20).decode())
    everything = sources(feed, from_start=True)
    assert_rows(collect(everything, 20), range(20))
    new_only = sources(feed)  # from_start=False
    assert quiet(new_only) == 0
    append(feed, row_bytes(20, 25))
    assert_rows(collect(new_only, 5), range(20, 25))
    assert_rows(collect(everything, 5), range(20, 25))
    assert quiet(new_only) == quiet(everything) == 0
    assert new_only.health().received == 5 and everything.health().received == 25


def test_tail_f_reads_the_header_of_the_existing_file(feed, sources):
    reordered = list(reversed(HEADER.split(",")))  # another column order: only the header says so
    rows = [",".join(reversed(ROWS[i].split(","))) for i in range(12)]
    append(feed, ",".join(reordered) + "\n" + "\n".join(rows[:10]) + "\n")
    source = sources(feed)
    assert quiet(source, 0.15) == 0
    append(feed, "\n".join(rows[10:]) + "\n")
    assert_rows(collect(source, 2), [10, 11])


def test_truncation_reads_the_new_content_once(feed, sources):
    append(feed, HEADER + "\n" + row_bytes(0, 30).decode())
    source = sources(feed, from_start=True)
    assert_rows(collect(source, 30), range(30))
    feed.write_bytes((HEADER + "\n").encode() + row_bytes(100, 110))  # shorter than before
    assert_rows(collect(source, 10), range(100, 110))
    append(feed, row_bytes(110, 115))
    assert_rows(collect(source, 5), range(110, 115))
    assert quiet(source) == 0
    health = source.health()
    assert source.truncations == 1 and health.reconnects == 1
    assert "truncated 1×" in health.detail and health.state is SourceState.CONNECTED
    assert health.received == 45 and health.rejected == {}


def test_a_file_rewritten_longer_between_two_reads_is_read_again(feed, sources):
    append(feed, HEADER + "\n" + row_bytes(0, 5).decode())
    source = sources(feed, from_start=True)
    assert_rows(collect(source, 5), range(5))
    feed.write_bytes((HEADER + "\n").encode() + row_bytes(200, 240))  # longer: the size alone hides it
    assert_rows(collect(source, 40), range(200, 240))
    assert quiet(source) == 0
    assert source.truncations == 1


def test_rotation_finishes_the_old_file_then_follows_the_new_one(feed, sources):
    append(feed, HEADER + "\n" + row_bytes(0, 10).decode())
    source = sources(feed, from_start=True)
    assert_rows(collect(source, 10), range(10))
    with open(feed, "ab") as logger:  # the logger's open file survives the rename
        logger.write(row_bytes(10, 14))
        logger.flush()
        feed.rename(feed.with_name("feed.csv.1"))
        before = collect(source, 4)  # the path is gone; the open file is still read
        assert source.health().state is SourceState.RECONNECTING
        assert "removed or renamed" in source.health().detail
        logger.write(row_bytes(14, 17) + ROWS[17][:40].encode())  # the last row is cut off
        logger.flush()
        # logrotate's create: a new file at the path, which the logger reopens
        feed.write_bytes((HEADER + "\n").encode() + row_bytes(50, 60))
    after = collect(source, 13)
    assert_rows(pd.concat([before, after], ignore_index=True), list(range(10, 17)) + list(range(50, 60)))
    append(feed, row_bytes(60, 62))
    assert_rows(collect(source, 2), [60, 61])
    assert quiet(source) == 0
    health = source.health()
    assert source.rotations == 1 and health.reconnects == 1
    assert health.state is SourceState.CONNECTED and "rotated 1×" in health.detail
    assert health.rejected == {"missing": 1}
    assert "rotated" in health.last_rejection and "line 19" in health.last_rejection


def test_malformed_rows_are_rejected_with_reason_and_line_and_the_stream_goes_on(feed, sources):
    append(feed, HEADER + "\n" + ROWS[0] + "\n")
    source = sources(feed, from_start=True)
    assert_rows(collect(source, 1), [0])
    fields = ROWS[1].split(",")
    column = SIGNAL_COLUMNS.index("Y1_OutputCurrent")
    bad = {
        "non_finite": fields[:column] + ["nan"] + fields[column + 1:],
        "not_a_number": fields[:column] + ["abc"] + fields[column + 1:],
        "missing": fields[:column] + fields[column + 1:],  # a field left out: 47 of 48
    }
    expected_rejected = {}
    line = 2
    for reason, row in bad.items():
        append(feed, ",".join(row) + "\n")
        line += 1
        expected_rejected[reason] = 1
        assert wait_for(lambda: (source.read(), source.health().rejected)[1] == expected_rejected), reason
        detail = source.health().last_rejection
        assert f"feed.csv line {line}" in detail, detail
        if reason != "missing":
            assert "Y1_OutputCurrent" in detail, detail
        else:
            assert "47 field(s)" in detail and "48" in detail, detail
    quoted = ROWS[5].split(",")
    quoted[0] = f'"{quoted[0]}"'  # a quoted number is a number
    append(feed, "\n" + ROWS[4] + "\n" + ",".join(quoted) + "\n   \n" + ROWS[6] + "\n")
    assert_rows(collect(source, 3), [4, 5, 6])
    assert quiet(source) == 0
    health = source.health()
    assert health.received == 4 and health.rejected == expected_rejected and health.state is SourceState.CONNECTED


def test_a_row_with_an_extra_field_is_rejected(feed, sources):
    append(feed, HEADER + "\n")
    source = sources(feed)
    fields = ROWS[0].split(",")
    append(feed, ",".join(fields[:3] + ["1.0"] + fields[3:]) + "\n" + ROWS[1] + "\n")
    assert_rows(collect(source, 1), [1])
    health = source.health()
    assert health.rejected == {"missing": 1}
    assert "49 field(s)" in health.last_rejection and "feed.csv line 2" in health.last_rejection


def test_a_file_appearing_after_start(feed, sources):
    source = sources(feed, from_start=False)
    health = source.health()
    assert health.state is SourceState.RECONNECTING and health.detail == f"waiting for {feed}"
    assert source.read().empty
    append(feed, HEADER + "\n" + row_bytes(0, 5).decode())  # appeared after start: all of it is new
    assert_rows(collect(source, 5), range(5))
    health = source.health()
    assert health.state is SourceState.CONNECTED and health.reconnects == 0


def test_a_header_without_a_signal_column_names_it_and_its_rows_are_rejected(feed, sources):
    names = HEADER.split(",")
    drop = names.index("X1_OutputPower")
    without = lambda line: ",".join(line.split(",")[:drop] + line.split(",")[drop + 1:])  # noqa: E731
    append(feed, without(HEADER) + "\n" + "\n".join(without(ROWS[i]) for i in range(3)) + "\n")
    source = sources(feed, from_start=True)
    assert wait_for(lambda: (source.read(), source.health().rejected)[1] == {"missing": 3})
    health = source.health()
    assert health.received == 0 and health.state is SourceState.CONNECTED
    assert "lacks 1 signal column(s): X1_OutputPower" in health.detail
    assert "no value for X1_OutputPower" in health.last_rejection and "feed.csv line 4" in health.last_rejection


def test_header_quirks_and_a_repeated_header(feed, sources):
    # Upper/lower case, spaces, quotes and a leading index column, as the experiment loader takes them.
    names = ['""'] + [f' "{name.upper()}" ' if i % 2 else name.lower() for i, name in enumerate(HEADER.split(","))]
    header = ",".join(names)
    body = "\n".join(f"{i},{ROWS[i]}" for i in range(4)) + "\n\n"
    again = "\n".join(f"{i},{ROWS[i]}" for i in range(4, 8)) + "\n"
    append(feed, header + "\n" + body + header + "\n" + again)  # a restarted logger writes the header again
    source = sources(feed, from_start=True)
    assert_rows(collect(source, 8), range(8))
    assert quiet(source) == 0
    health = source.health()
    assert health.rejected == {} and source.repeated_headers == 1
    assert "lacks" not in health.detail


def test_close_releases_the_file(feed):
    append(feed, HEADER + "\n" + row_bytes(0, 3).decode())
    source = TailSource(feed, from_start=True)
    source.start()
    assert len(collect(source, 3)) == 3

    def open_on_feed() -> int:
        fds = Path("/proc/self/fd")
        return sum(1 for fd in fds.iterdir() if os.path.realpath(fd) == str(feed.resolve())) if fds.exists() else -1

    if open_on_feed() >= 0:
        assert open_on_feed() == 1
    source.close()
    source.close()
    if open_on_feed() >= 0:
        assert open_on_feed() == 0
    assert source.health().state is SourceState.STOPPED
    append(feed, row_bytes(3, 5))
    assert source.read().empty


def test_open_source_makes_a_tail_source(feed):
    spec = MachineSpec.parse(f"mill-1=tail:{feed}?feedrate=6")
    source = open_source(spec)
    try:
        assert isinstance(source, TailSource) and source.kind == "tail" and source.job == {"feedrate": 6.0}
        assert source.describe() == f"tail:{feed}"
    finally:
        source.close()


def test_following_costs_little_and_never_rereads_the_file(feed, sources):
    """A long file: an idle poll and a poll with a few new rows must not touch the old data."""
    append(feed, HEADER + "\n" + row_bytes(0, len(ROWS)).decode() * 8)  # ~18,000 rows, ~9 MB
    source = sources(feed, poll_interval_s=0.0)
    started = time.process_time()
    for _ in range(300):
        assert source.read().empty
    idle_ms = (time.process_time() - started) / 300 * 1000
    started = time.process_time()
    for start in range(0, 80, 8):  # one second of a 10 Hz logger, in 10 polls
        append(feed, row_bytes(start, start + 8))
        assert len(source.read()) == 8
    busy_ms = (time.process_time() - started) * 1000
    assert idle_ms < 2.0, idle_ms
    assert busy_ms < 200, busy_ms  # reading the 9 MB again even once would cost far more
    assert math.isclose(source.health().received, 80)
