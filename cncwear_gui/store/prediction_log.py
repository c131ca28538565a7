"""The prediction log: every live prediction, written in batches by a background thread.

:meth:`PredictionLog.append` only queues rows; a writer thread inserts them in batches (one
transaction per batch). A database error (locked, disk full, server gone or restarted) is logged
and the batch retried later, with a growing delay up to ``RETRY_CAP_S``, never raised into the
scoring loop; the rows wait in memory meanwhile and are written, in order, once the database takes
them again (the engine's pool reconnects by itself). :attr:`PredictionLog.outage` says since when
writing fails. Rows still queued when the process dies are lost; what was committed stays (one
transaction per batch). :meth:`PredictionLog.flush` bounds that window where it matters. It lives in the same
database as the feature store by default; any SQLAlchemy URL works.
"""

from __future__ import annotations

import atexit
import logging
import math
import threading
import time
from collections import deque
from collections.abc import Mapping
from datetime import datetime
from itertools import islice
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DataError, IntegrityError

from ..backoff import Backoff
from .database import aware_utc, open_store, redacted, to_utc, utcnow
from .prediction_rollups import merge, rollup
from .prediction_tables import metadata, prediction_log
from .retention import Pruner, Retention, StoreStatus, floor_bytes, measure

logger = logging.getLogger(__name__)

WEAR_STATES = ("ok", "worn", "unknown")
RETRY_CAP_S = 5.0  # the longest wait between two attempts while the database is away
PREDICTION_COLUMNS = ("machine", "sample_time", "model_version", "probability", "wear_state", "quality_flags",
                      "run_id")
__all__ = ["PredictionLog", "make_engine", "prediction_log"]


def make_engine(url: str | None = None) -> Engine:
    """The prediction log's engine (the feature store's database unless ``url`` says otherwise)."""
    return open_store(url, metadata)


def _prediction_row(row: Mapping[str, Any], logged_at: datetime) -> dict:
    """One validated row, so a bad value fails in append() and never poisons a batch later."""
    try:
        machine, probability = row["machine"], row["probability"]
    except KeyError as missing:
        raise ValueError(f"a prediction row needs {missing}") from None
    machine = "" if machine is None else str(machine)
    if not machine or len(machine) > 255:
        raise ValueError(f"machine must be 1-255 characters, not {machine!r}")
    version = row.get("model_version")
    version = None if version is None or (isinstance(version, float) and math.isnan(version)) else str(version)
    if version is not None and len(version) > 64:
        raise ValueError(f"model_version longer than 64 characters: {version!r}")
    probability = None if probability is None else float(probability)
    if probability is not None and math.isnan(probability):
        probability = None
    state = row.get("wear_state")
    state = "unknown" if state is None else str(getattr(state, "value", state)).lower()
    if state not in WEAR_STATES:
        raise ValueError(f"wear_state must be one of {WEAR_STATES}, not {state!r}")
    flags = row.get("quality_flags")
    flags = 0 if flags is None or (isinstance(flags, float) and math.isnan(flags)) else int(flags)
    stamp = row.get("logged_at")
    run = row.get("run_id")
    run = None if run is None or (isinstance(run, float) and math.isnan(run)) else int(run)
    return {
        "logged_at": logged_at if stamp is None else to_utc(stamp), "machine": machine,
        "sample_time": to_utc(row.get("sample_time")), "model_version": version,
        "probability": probability, "wear_state": state, "quality_flags": flags, "run_id": run,
    }


def _records(rows: Any) -> list[Mapping[str, Any]]:
    if hasattr(rows, "columns") and hasattr(rows, "to_dict"):  # a pandas DataFrame
        frame = rows[[c for c in (*PREDICTION_COLUMNS, "logged_at") if c in rows.columns]]
        frame = frame.astype(object).where(frame.notna(), None)
        return frame.to_dict("records")
    if isinstance(rows, Mapping):
        return [rows]
    return list(rows)


class PredictionLog:
    """Live predictions, written in batches by a background thread.

    ``append`` never waits for the database. The writer inserts what is queued every
    ``flush_interval_s`` (or as soon as ``max_batch`` rows wait), one transaction per batch of
    at most ``max_batch`` rows. A failed batch stays at the head of the queue and is retried
    after the next interval (or at the next ``flush()``); rows are written in the order appended.
    A batch whose data the database refuses (a constraint of a site-specific schema) is split and
    only the refused rows are dropped (counted in ``rejected``), so one bad row cannot stall the
    log. If the database stays unreachable and ``max_pending`` rows wait, further rows are dropped
    (counted in ``dropped``) rather than exhausting memory.

    ``retention`` (``store/retention.py``): raw rows older than its ``days`` are pruned into the
    roll-ups by a background :class:`~.retention.Pruner`; and while the free disk beside a SQLite
    store is under its ``min_free_mb``, batches go to the roll-ups only (counted in
    ``rolled_up_only``), never as raw rows, and ``storage()`` says ``raw_paused``. None: no pruning,
    no floor.
    """

    def __init__(self, url: str | None = None, flush_interval_s: float = 1.0, max_batch: int = 5000,
                 max_pending: int = 2_000_000, retention: Retention | None = None):
        if flush_interval_s <= 0 or max_batch < 1 or max_pending < max_batch:
            raise ValueError("need flush_interval_s > 0, max_batch >= 1 and max_pending >= max_batch")
        self.engine: Engine = make_engine(url)
        self.url = self.engine.url.render_as_string(hide_password=False)  # str() masks a password
        self.flush_interval_s = float(flush_interval_s)
        self.max_batch = int(max_batch)
        self.max_pending = int(max_pending)
        self.last_error: str | None = None
        self._failing_since: float | None = None  # time.time() of the first failure of the current outage
        self._ended_outage: tuple[float | None, str] | None = None  # (since, error) of an outage just ended, to log
        self._queue: deque[dict] = deque()
        self._cond = threading.Condition()
        self._appended = 0  # rows ever queued (including dropped ones)
        self._done = 0  # rows that left the queue: written, rejected or dropped
        self._written = 0
        self._rejected = 0
        self._dropped = 0
        self._failed_batches = 0
        self._batch_seconds: deque[float] = deque(maxlen=100_000)  # how long each committed batch took
        self._flush_target = 0  # flush() wants rows up to here done
        self._retry_at = 0.0  # monotonic; after a failure, no attempt before this
        # a failed batch waits one interval, then longer up to RETRY_CAP_S; jittered, so the nodes that
        # lost the same server do not all come back in the same instant (used by the writer thread only)
        self._retry_delay = Backoff(first=self.flush_interval_s, cap=max(self.flush_interval_s, RETRY_CAP_S),
                                    factor=2.0, jitter=0.2)
        self._closed = False
        self._stop = False
        self.retention = retention
        self._rolled_up_only = 0
        self._storage = measure(self.engine, floor_bytes(retention))
        self.pruner = Pruner(self.engine, retention).start() if retention is not None else None
        self._thread = threading.Thread(target=self._run, name="cncwear-prediction-log", daemon=True)
        self._thread.start()
        atexit.register(self._at_exit)

    # -- counters ------------------------------------------------------------------------------
    @property
    def written(self) -> int:
        """Rows committed by this instance."""
        return self._written

    @property
    def pending(self) -> int:
        """Rows queued and not yet committed (including a batch being written)."""
        return len(self._queue)

    @property
    def failed_batches(self) -> int:
        """Batch attempts the database refused (each retried)."""
        return self._failed_batches

    def batch_seconds(self) -> list[float]:
        """How long each committed batch took (insert and commit), the newest 100,000."""
        return list(self._batch_seconds)

    @property
    def outage(self) -> tuple[float, str] | None:
        """While writing fails: (since, as time.time(); the last error); None while it works."""
        since, error = self._failing_since, self.last_error
        return None if since is None or error is None else (since, error)

    @property
    def rejected(self) -> int:
        return self._rejected

    @property
    def dropped(self) -> int:
        return self._dropped

    @property
    def rolled_up_only(self) -> int:
        """Rows that went to the roll-ups only, because the disk was under its floor."""
        return self._rolled_up_only

    def storage(self) -> StoreStatus:
        """The store's size and the free disk as last measured (before each batch); never waits."""
        return self._storage

    # -- the caller's side ---------------------------------------------------------------------
    def append(self, rows: Any) -> int:
        """Queue prediction rows (dicts, or a DataFrame with the columns of ``prediction_log``).

        Needed: ``machine`` and ``probability`` (None/NaN when there is none); optional
        ``sample_time`` (datetime, Timestamp, ISO text or epoch seconds), ``model_version``,
        ``wear_state`` (ok/worn/unknown or a WearState; default unknown), ``quality_flags``
        (default 0). Other keys or columns are ignored.

        Returns how many were queued (fewer only when ``max_pending`` is reached). Never touches the database; a row with a missing or
        invalid value raises ValueError here and nothing of the call is queued.
        """
        now = utcnow()
        batch = [_prediction_row(row, now) for row in _records(rows)]
        if not batch:
            return 0
        with self._cond:
            if self._closed:
                raise RuntimeError("the prediction log is closed")
            was_empty = not self._queue
            room = max(0, self.max_pending - len(self._queue))
            if room < len(batch):  # the head may be in flight: drop the newest rows, not the oldest
                overflow = len(batch) - room
                self._dropped += overflow
                self._done += overflow
                self._appended += overflow
                batch = batch[:room]
                logger.error("prediction log: %d new rows dropped, the database has not taken any for a while (%s)",
                             overflow, self.last_error)
            self._queue.extend(batch)
            self._appended += len(batch)
            if was_empty or len(self._queue) >= self.max_batch:
                self._cond.notify_all()
        return len(batch)

    def flush(self, timeout: float | None = 10.0) -> bool:
        """Wait until every row appended before this call is committed; False on timeout."""
        with self._cond:
            target = self._appended
            if self._done >= target:
                return True
            if not self._thread.is_alive():
                return False
            self._flush_target = max(self._flush_target, target)
            self._retry_at = 0.0  # an explicit flush retries a failed batch now
            self._cond.notify_all()
            return self._cond.wait_for(lambda: self._done >= target, timeout)

    def close(self, timeout: float | None = 10.0) -> bool:
        """Flush, stop the writer and release the database; False if rows could not be written."""
        with self._cond:
            if self._stop:
                return not self._queue
            self._closed = True
        flushed = self.flush(timeout)
        with self._cond:
            self._stop = True
            self._cond.notify_all()
        self._thread.join(timeout)
        if self.pruner is not None:
            self.pruner.close(timeout or 10.0)
        atexit.unregister(self._at_exit)
        if self._queue:
            logger.error("prediction log closed with %d rows not written (%s)", len(self._queue), self.last_error)
        if not self._thread.is_alive():
            self.engine.dispose()
        return flushed and not self._queue

    def _at_exit(self) -> None:
        self.close(timeout=5.0)

    def __enter__(self) -> PredictionLog:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- reading -------------------------------------------------------------------------------
    def recent(self, machine: str | None = None, limit: int = 100) -> list[dict]:
        """The newest committed rows first (times as aware UTC datetimes)."""
        query = select(prediction_log).order_by(prediction_log.c.id.desc()).limit(limit)
        if machine is not None:
            query = query.where(prediction_log.c.machine == str(machine))
        with self.engine.connect() as conn:
            rows = conn.execute(query).mappings().all()
        return [{**row, "logged_at": aware_utc(row["logged_at"]), "sample_time": aware_utc(row["sample_time"])}
                for row in rows]

    def count(self, machine: str | None = None) -> int:
        query = select(func.count()).select_from(prediction_log)
        if machine is not None:
            query = query.where(prediction_log.c.machine == str(machine))
        with self.engine.connect() as conn:
            return int(conn.execute(query).scalar())

    # -- the writer thread ---------------------------------------------------------------------
    def _next_batch(self, last_attempt: float) -> list[dict] | None:
        """Wait until a batch is due; None when the writer should stop.

        Due: rows wait and no failure backoff is running, and either ``flush()`` asked for them,
        ``max_batch`` rows wait, or the last attempt was ``flush_interval_s`` ago.
        """
        with self._cond:
            while True:
                if self._stop:
                    return None
                now = time.monotonic()
                if not self._queue:
                    self._cond.wait()
                    continue
                if now >= self._retry_at:
                    urgent = len(self._queue) >= self.max_batch or self._done < self._flush_target
                    if urgent or now >= last_attempt + self.flush_interval_s:
                        return list(islice(self._queue, self.max_batch))
                self._cond.wait(max(0.0, max(self._retry_at, last_attempt + self.flush_interval_s) - now))

    def _run(self) -> None:
        last_attempt = -math.inf
        while True:
            batch = self._next_batch(last_attempt)
            if batch is None:
                return
            last_attempt = time.monotonic()
            try:
                self._write(batch)
                self._batch_seconds.append(time.monotonic() - last_attempt)
            except Exception as error:  # locked, disk full, server gone: keep the rows, retry later
                with self._cond:
                    self._failed_batches += 1
                    self._retry_at = time.monotonic() + self._retry_delay.next_delay()
                    first = self.last_error is None
                    said = f"{type(error).__name__}: {error}".split("(Background on this error")[0]
                    self.last_error = " ".join(said.split())  # one line, without SQLAlchemy's link
                    if first:
                        self._failing_since = time.time()
                (logger.warning if first else logger.debug)(
                    "prediction log: writing %d rows to %s failed, keeping them and retrying: %s", len(batch),
                    redacted(self.url), self.last_error)
                continue
            self._retry_delay.reset()
            with self._cond:
                ended, self._ended_outage = self._ended_outage, None
            if ended is not None:
                since, error = ended
                logger.warning("prediction log: writing to %s again after %.0f s of %s; %d rows still queued",
                               redacted(self.url), time.time() - since if since else 0.0, error, self.pending)

    def _below_floor(self) -> bool:
        """Measure the store and the disk; say so loudly when the floor is crossed either way."""
        before = self._storage
        now = measure(self.engine, before.floor_bytes)
        paused = now.below_floor
        self._storage = StoreStatus(now.store_bytes, now.free_bytes, now.floor_bytes, paused)
        if paused and not before.raw_paused:
            logger.error("prediction log: only %.0f MB free on the disk of %s, under the floor of %.0f MB: raw "
                         "prediction rows are NOT written any more; roll-ups, alarms and the audit trail are. "
                         "Free disk space.", now.free_bytes / 2**20, self.url, now.floor_bytes / 2**20)
        elif before.raw_paused and not paused:
            logger.warning("prediction log: %.0f MB free again (floor %.0f MB): raw prediction rows are written again",
                           now.free_bytes / 2**20, now.floor_bytes / 2**20)
        return paused

    def _write(self, batch: list[dict]) -> None:
        """Insert the head of the queue in one transaction; if the database refuses the data, row
        by row so only the refused rows are dropped. Under the disk floor, the batch is added to the
        roll-ups instead. Environment errors propagate (retry)."""
        if self._below_floor():
            with self.engine.begin() as conn:
                merge(conn, *rollup(batch))
            with self._cond:
                self._rolled_up_only += len(batch)
            self._consumed(len(batch), 0, written_raw=False)
            return
        try:
            with self.engine.begin() as conn:
                conn.execute(prediction_log.insert(), batch)
        except (IntegrityError, DataError) as error:
            logger.error("prediction log: the database refused a batch, inserting row by row: %s", error)
        else:
            self._consumed(len(batch), 0)
            return
        for row in batch:  # each committed row leaves the queue at once: a retry never repeats it
            try:
                with self.engine.begin() as conn:
                    conn.execute(prediction_log.insert(), [row])
            except (IntegrityError, DataError) as error:
                logger.error("prediction log: the database refused a row, dropped: %s (%s)", row, error)
                self._consumed(0, 1)
            else:
                self._consumed(1, 0)

    def _consumed(self, written: int, rejected: int, written_raw: bool = True) -> None:
        """Take committed rows off the queue. The outage ends in the same step, so whoever a flush
        wakes never sees rows done and the outage still on."""
        with self._cond:
            if self.last_error is not None:
                self._ended_outage = (self._failing_since, self.last_error)
                self.last_error = None
                self._failing_since = None
            for _ in range(written + rejected):
                self._queue.popleft()
            self._written += written if written_raw else 0
            self._rejected += rejected
            self._done += written + rejected
            self._cond.notify_all()
