"""A machine read over OPC UA: subscribe to the mapped nodes, assemble samples, survive outages.

An OPC UA server reports every node on its own; a machine sample is the set of values that carry
the same SourceTimestamp. The monitored items use the trigger StatusValueTimestamp (a new sample
whose value did not change is still reported) and a deep queue (several samples between two
publish cycles are all kept), so every sample the server writes reaches :class:`SampleAssembler`.

The client runs on its own asyncio loop in a daemon thread. asyncua's connection supervisor
(a socket closing, or a failed keep-alive read every second) tells us the connection is lost;
we then reconnect with :class:`cncwear_gui.backoff.Backoff` delays on a fresh client and subscribe again.
"""

from __future__ import annotations

import asyncio
import logging
import math
import threading
import time
from collections import deque
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

import pandas as pd
from asyncua import Client, ua
from asyncua.common.subscription import DataChangeEvent, StatusChangeEvent
from asyncua.crypto import security_policies, uacrypto

from ..backoff import Backoff
from .opcua_mapping import Mapping, default_mapping, load_mapping, resolve
from .samples import RejectedSample, build_frame, check_record, empty_frame
from .sources import LiveSource, SourceHealth, SourceSpecError, SourceState

logging.getLogger("asyncua").addHandler(logging.NullHandler())  # no tracebacks on stderr unless the app logs

KIND = "opcua"
PUBLISH_INTERVAL_MS = 50.0  # how often the server sends what changed (a 10 Hz machine: 0-1 samples)
KEEPALIVE_COUNT = 20  # an empty publish after 1 s of silence, so asyncua can tell a dead subscription
LIFETIME_COUNT = 200  # the server drops the subscription after 10 s without us
QUEUE_SIZE = 1000  # values kept per node between publishes: bursts and slow cycles lose nothing
EVENT_QUEUE_SIZE = 100_000  # notifications buffered in the client before the oldest are dropped
GIVE_UP_S = 1.0  # an incomplete sample is rejected as missing after this long
EXPIRE_EVERY_S = 0.25
REQUEST_TIMEOUT_S = 4.0
WATCHDOG_S = 1.0  # asyncua probes the server this often; a dead peer shows within ~2 s
SESSION_TIMEOUT_MS = 60_000  # how long a server keeps the session of a client that vanished
DISCONNECT_TIMEOUT_S = 1.0
CLOSE_TIMEOUT_S = 2.0
MAX_BACKLOG = 36_000  # accepted samples waiting for read(): an hour of one machine; oldest dropped
POLICIES = ("Basic256Sha256", "Aes128Sha256RsaOaep", "Aes256Sha256RsaPss")
MODES = ("Sign", "SignAndEncrypt")
_UNSET = object()


@dataclass
class _Pending:
    values: list
    missing: int
    first_seen: float  # time.monotonic() of its first value


class SampleAssembler:
    """Per-node values → complete samples, keyed by source timestamp.

    A sample is complete when every column has reported for its timestamp. A server reports each
    node's values in order, so once a newer sample is complete no value can still arrive for an
    older incomplete one: that one is given up as ``missing`` (so is one waiting longer than
    ``GIVE_UP_S``). Values for a timestamp already completed or given up are late and ignored.

    Until the first sample of a connection completes, incomplete ones are dropped without being
    counted: they are the subscription's initial snapshot (each node's current value, possibly
    written at different times), not samples the machine failed to deliver.
    """

    def __init__(self, columns: list[str], labels: list[str]):
        self.columns, self.labels = columns, labels
        self._pending: dict[datetime, _Pending] = {}
        self._done_until: datetime | None = None  # newest timestamp completed or given up
        self._last_complete: datetime | None = None
        self._fresh = True  # no complete sample yet on this connection
        self.waiting = ""  # while fresh: what the last dropped snapshot lacked

    def reset(self) -> None:
        """A new connection: forget pending values (the sample delivered last is not delivered twice)."""
        self._pending.clear()
        self._done_until = None
        self._fresh = True
        self.waiting = ""

    def add(self, slot: int, stamp: datetime, value, now: float) -> list[tuple[datetime, dict | RejectedSample]]:
        """Record one value; returns the samples this completes or gives up, oldest first."""
        if self._done_until is not None and stamp <= self._done_until:
            return []
        entry = self._pending.get(stamp)
        if entry is None:
            entry = self._pending[stamp] = _Pending([_UNSET] * len(self.columns), len(self.columns), now)
        if entry.values[slot] is _UNSET:
            entry.missing -= 1
        entry.values[slot] = value
        return self._complete(stamp) if entry.missing == 0 else []

    def expire(self, now: float) -> list[tuple[datetime, dict | RejectedSample]]:
        """Give up samples waiting longer than ``GIVE_UP_S`` (and any older ones)."""
        stale = [stamp for stamp, entry in self._pending.items() if now - entry.first_seen > GIVE_UP_S]
        return self._give_up(max(stale), inclusive=True) if stale else []

    def _complete(self, stamp: datetime) -> list[tuple[datetime, dict | RejectedSample]]:
        out = self._give_up(stamp, inclusive=False)
        entry = self._pending.pop(stamp)
        self._done_until = stamp
        duplicate = self._fresh and stamp == self._last_complete  # the current sample, re-sent on resubscribe
        self._fresh, self.waiting = False, ""
        self._last_complete = stamp
        if not duplicate:
            out.append((stamp, dict(zip(self.columns, entry.values))))
        return out

    def _give_up(self, until: datetime, inclusive: bool) -> list[tuple[datetime, RejectedSample]]:
        out = []
        for stamp in sorted(s for s in self._pending if s < until or (inclusive and s == until)):
            entry = self._pending.pop(stamp)
            if self._done_until is None or stamp > self._done_until:
                self._done_until = stamp
            missing = [label for label, value in zip(self.labels, entry.values) if value is _UNSET]
            shown = ", ".join(missing[:3]) + (f" and {len(missing) - 3} more" if len(missing) > 3 else "")
            if self._fresh:
                self.waiting = f"no value from {shown}"
                continue
            out.append((stamp, RejectedSample("missing", f"no value for {shown} (sample at {stamp.isoformat()})")))
        return out


def parse_security(security: str | None, cert: str | None, key: str | None):
    """``POLICY,MODE`` (e.g. ``Basic256Sha256,SignAndEncrypt``) → (policy class, mode), or None."""
    if not security or security.strip().lower() in ("none", "none,none"):
        return None
    policy, _, mode = (part.strip() for part in security.partition(","))
    mode = mode or "SignAndEncrypt"
    if policy not in POLICIES or mode not in MODES:
        raise SourceSpecError(f"security '{security}': expected POLICY,MODE with POLICY one of {', '.join(POLICIES)} "
                              f"and MODE one of {', '.join(MODES)}")
    if not cert or not key:
        raise SourceSpecError(f"security '{security}' needs the client certificate and private key (cert=FILE, key=FILE)")
    for what, path in (("cert", cert), ("key", key)):
        if not Path(path).is_file():
            raise SourceSpecError(f"{what} file {path} does not exist")
    return getattr(security_policies, f"SecurityPolicy{policy}"), getattr(ua.MessageSecurityMode, mode)


async def _application_uri(cert: str) -> str | None:
    """The application URI in the certificate: servers expect a client to announce that one."""
    from cryptography import x509

    certificate = await uacrypto.load_certificate(cert)
    try:
        names = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return None
    uris = names.get_values_for_type(x509.UniformResourceIdentifier)
    return uris[0] if uris else None


def _describe(error: BaseException) -> str:
    if isinstance(error, (TimeoutError, asyncio.TimeoutError)):
        return f"the server did not answer in time ({type(error).__name__})"
    if isinstance(error, ua.UaStatusCodeError):
        return f"{type(error).__name__} ({error})"
    if isinstance(error, OSError) and error.errno is not None:
        return f"cannot connect: {error.strerror or error}"
    return str(error) or type(error).__name__


class OpcUaSource(LiveSource):
    """The samples of one machine's OPC UA server at ``url`` (``opc.tcp://HOST:PORT[/PATH]``).

    ``mapping`` is a mapping file (or a :class:`Mapping`); None means the simulator's nodes.
    ``job`` constants given here override the mapped ``feedrate``/``clamp_pressure`` nodes.
    """

    kind = KIND

    def __init__(self, url: str, job: dict[str, float] | None = None, mapping: str | Path | Mapping | None = None,
                 security: str | None = None, cert: str | None = None, key: str | None = None):
        super().__init__()
        self.url = url
        self.job = {name: float(value) for name, value in (job or {}).items()}
        if isinstance(mapping, Mapping):
            self.mapping = mapping
        else:
            self.mapping = load_mapping(mapping) if mapping else default_mapping()
        self.security = parse_security(security, cert, key)
        self.cert, self.key = cert, key
        self._sample_columns = self.mapping.sample_columns
        self._job_columns = self.mapping.job_columns
        labels = [f"{c} ({self.mapping.nodes[c]})" for c in self._sample_columns]
        self._assembler = SampleAssembler(self._sample_columns, labels)
        self._lock = threading.Lock()  # guards what read()/health() share with the loop thread
        self._health = SourceHealth()
        self._backlog: deque[tuple[dict, float, float]] = deque(maxlen=MAX_BACKLOG)
        self._node_job: dict[str, float] = {}
        self._newest: float = math.nan  # source time (epoch s) of the newest accepted sample
        self._connections = 0
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._closing = threading.Event()

    def describe(self) -> str:
        return f"opcua {self.url}"

    # --- the scoring thread's side -------------------------------------------------------

    def start(self) -> None:
        if self._thread is None and not self._closing.is_set():
            self._thread = threading.Thread(target=asyncio.run, args=(self._main(),), name=f"opcua {self.url}",
                                            daemon=True)
            self._thread.start()

    def read(self, limit: int | None = None) -> pd.DataFrame:
        with self._lock:
            count = len(self._backlog) if limit is None else min(limit, len(self._backlog))
            taken = [self._backlog.popleft() for _ in range(count)]
            job = {**self._node_job, **self.job}
        if not taken:
            return empty_frame(job)
        records, received_at, sample_times = zip(*taken)
        return build_frame(list(records), list(received_at), list(sample_times), job)

    def health(self) -> SourceHealth:
        with self._lock:
            health = replace(self._health, rejected=dict(self._health.rejected))
            newest = self._newest
        if not math.isnan(newest):
            health.lag_s = max(0.0, time.time() - newest)
        waiting = self._assembler.waiting
        if health.state is SourceState.CONNECTED and waiting:
            health.detail = f"{self.url}; no complete sample yet ({waiting})"
        return health

    def close(self) -> None:
        self._closing.set()
        loop, stop = self._loop, self._stop
        if loop is not None and stop is not None:
            try:
                loop.call_soon_threadsafe(stop.set)
            except RuntimeError:  # the loop has already ended
                pass
        if self._thread is not None:
            self._thread.join(CLOSE_TIMEOUT_S)
        self._set_state(SourceState.STOPPED, "closed")

    # --- the loop thread's side ----------------------------------------------------------

    def _set_state(self, state: SourceState, detail: str) -> None:
        with self._lock:
            if self._health.state is not SourceState.STOPPED:
                self._health.state, self._health.detail = state, detail

    async def _main(self) -> None:
        self._stop = asyncio.Event()
        self._loop = asyncio.get_running_loop()
        if self._closing.is_set():
            return
        backoff = Backoff(first=0.5, cap=10.0, jitter=0.2)  # 0.5 s, 1 s, 2 s … 10 s
        expiry = asyncio.create_task(self._expire_loop())
        stop = asyncio.create_task(self._stop.wait())
        try:
            while not self._stop.is_set():
                attempt = asyncio.create_task(self._connection(backoff))
                await asyncio.wait({attempt, stop}, return_when=asyncio.FIRST_COMPLETED)
                if self._stop.is_set():  # close(): also ends a connect that hangs on a mute server
                    attempt.cancel()
                    await asyncio.gather(attempt, return_exceptions=True)
                    break
                problem = _describe(attempt.exception() or ConnectionError("the connection ended"))
                self._set_state(SourceState.RECONNECTING if self._connections else SourceState.CONNECTING, problem)
                try:
                    await asyncio.wait_for(self._stop.wait(), backoff.next_delay())
                except asyncio.TimeoutError:
                    pass
        finally:
            expiry.cancel()
            stop.cancel()

    async def _connection(self, backoff: Backoff) -> None:
        """One connection: raises when it fails or is lost (cancelled by close())."""
        client = Client(self.url, timeout=REQUEST_TIMEOUT_S, watchdog_intervall=WATCHDOG_S)
        client.name = client.description = "cncwear"
        client.session_timeout = SESSION_TIMEOUT_MS
        lost = asyncio.get_running_loop().create_future()

        async def on_lost(error: Exception) -> None:
            if not lost.done():
                lost.set_result(error)

        client.connection_lost_callback = on_lost
        if self.security is not None:
            policy, mode = self.security
            client.application_uri = await _application_uri(self.cert) or client.application_uri
            await client.set_security(policy, self.cert, self.key, mode=mode)
        try:
            await client.connect()
            nodes = resolve(self.mapping, await client.get_namespace_array())
            self._assembler.reset()
            subscription = await self._subscribe(client, nodes)
            self._connected()
            backoff.reset()
            watch = asyncio.create_task(self._watch(subscription))
            try:
                await asyncio.wait({watch, lost}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                watch.cancel()
            if lost.done():
                raise ConnectionError(f"connection lost: {_describe(lost.result())}")
            watch.result()  # raises what ended the subscription
            raise ConnectionError("the subscription ended")
        finally:
            try:
                await asyncio.wait_for(client.disconnect(), DISCONNECT_TIMEOUT_S)
            except Exception:  # the peer is gone or hangs: drop the socket
                client.disconnect_socket()

    async def _subscribe(self, client: Client, nodes: dict[str, ua.NodeId]):
        params = ua.CreateSubscriptionParameters(
            RequestedPublishingInterval=PUBLISH_INTERVAL_MS, RequestedLifetimeCount=LIFETIME_COUNT,
            RequestedMaxKeepAliveCount=KEEPALIVE_COUNT, MaxNotificationsPerPublish=0, PublishingEnabled=True)
        subscription = await client.create_subscription(params, queue_maxsize=EVENT_QUEUE_SIZE)
        every_sample = ua.DataChangeFilter(Trigger=ua.DataChangeTrigger.StatusValueTimestamp)
        columns = self._sample_columns + self._job_columns
        requests = [
            ua.MonitoredItemCreateRequest(
                ItemToMonitor=ua.ReadValueId(NodeId=nodes[column], AttributeId=ua.AttributeIds.Value),
                MonitoringMode=ua.MonitoringMode.Reporting,
                RequestedParameters=ua.MonitoringParameters(ClientHandle=handle, SamplingInterval=0.0,
                                                            Filter=every_sample, QueueSize=QUEUE_SIZE,
                                                            DiscardOldest=True))
            for handle, column in enumerate(columns)]
        results = await subscription.create_monitored_items(requests)
        failed = [f"{column} ({self.mapping.nodes[column]}): {result.name}"
                  for column, result in zip(columns, results) if isinstance(result, ua.StatusCode)]
        if failed:
            shown = "; ".join(failed[:3]) + (f" and {len(failed) - 3} more" if len(failed) > 3 else "")
            raise ValueError(f"cannot subscribe to {shown} (check {self.mapping.source})")
        return subscription

    def _connected(self) -> None:
        with self._lock:
            if self._connections:
                self._health.reconnects += 1
            self._connections += 1
        self._set_state(SourceState.CONNECTED, self.url)

    async def _watch(self, subscription) -> None:
        """Feed every notification to the assembler until the subscription reports a bad status."""
        samples = len(self._sample_columns)
        async for event in subscription:
            if isinstance(event, DataChangeEvent):
                item = event.data.monitored_item
                handle = item.ClientHandle
                if handle >= samples:
                    self._job_value(self._job_columns[handle - samples], event.value)
                    continue
                stamp = item.Value.SourceTimestamp or item.Value.ServerTimestamp
                if stamp is not None:
                    self._deliver(self._assembler.add(handle, stamp, event.value, time.monotonic()))
            elif isinstance(event, StatusChangeEvent) and not event.notification.Status.is_good():
                raise ConnectionError(f"subscription status {event.notification.Status.name}")

    async def _expire_loop(self) -> None:
        while True:
            await asyncio.sleep(EXPIRE_EVERY_S)
            self._deliver(self._assembler.expire(time.monotonic()))

    def _job_value(self, column: str, value) -> None:
        try:
            number = float(value)
        except (TypeError, ValueError):
            number = math.nan
        with self._lock:
            if math.isfinite(number):
                self._node_job[column] = number
            else:
                self._node_job.pop(column, None)

    def _deliver(self, outcomes: list[tuple[datetime, dict | RejectedSample]]) -> None:
        if not outcomes:
            return
        accepted = False
        now = time.monotonic()
        with self._lock:
            for stamp, outcome in outcomes:
                rejection = outcome if isinstance(outcome, RejectedSample) else check_record(
                    outcome, f"sample at {stamp.isoformat()}")
                if rejection is not None:
                    health = self._health
                    health.rejected[rejection.reason] = health.rejected.get(rejection.reason, 0) + 1
                    health.last_rejection = rejection.detail
                    continue
                sample_time = stamp.timestamp()
                self._backlog.append((outcome, now, sample_time))
                self._health.received += 1
                self._newest = sample_time if math.isnan(self._newest) else max(self._newest, sample_time)
                accepted = True
        if accepted and self.wake is not None:
            self.wake.set()
