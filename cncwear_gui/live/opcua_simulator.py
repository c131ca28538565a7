"""A recorded experiment served as a live OPC UA machine, for demos, tests and trying a mapping.

The server (asyncua) has the namespace ``urn:cncwear:simulator`` and an object ``Machine`` under
Objects with one variable per column of :func:`.opcua_mapping.default_mapping`: Double signals,
a String ``Machining_Process`` and the job constants ``feedrate`` and ``clamp_pressure`` (NaN when
the experiment has no train.csv row). Every 0.1 s / speed it writes the next row, all values with
the same SourceTimestamp (that is how a client tells which values form one sample), and starts
over at the end of the file.

The server runs on its own asyncio loop in a daemon thread, so sync code (tests, the command
line) just calls :meth:`OpcUaSimulator.start` and :meth:`OpcUaSimulator.stop`.
"""

from __future__ import annotations

import asyncio
import logging
import errno
import json
import math
import signal
import socket
import sys
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd
from asyncua import Server, ua

from ..data.schema import PROCESS_COLUMN, SAMPLE_PERIOD_S, SIGNAL_COLUMNS
from .opcua_mapping import NAMESPACE_URI
from .sources import JOB_KEYS

logging.getLogger("asyncua").addHandler(logging.NullHandler())  # no tracebacks on stderr unless the app logs

APPLICATION_URI = "urn:cncwear:simulator:server"
START_TIMEOUT_S = 30.0


class SimulatorError(RuntimeError):
    """The simulator cannot serve (busy port, unusable file); the message says why."""


class OpcUaSimulator:
    """Serves the rows of ``samples`` (``Dataset.samples()``-shaped) as an OPC UA machine.

    ``cert``/``key`` (PEM or DER files) switch the endpoint to Basic256Sha256 SignAndEncrypt only.
    """

    def __init__(self, samples: pd.DataFrame, host: str = "127.0.0.1", port: int = 4840, speed: float = 1.0,
                 job: dict[str, float] | None = None, cert: str | Path | None = None, key: str | Path | None = None):
        if samples.empty:
            raise SimulatorError("the experiment has no samples to serve")
        if not speed > 0:
            raise SimulatorError("speed must be above 0")
        if (cert is None) != (key is None):
            raise SimulatorError("security needs both a certificate and a private key")
        self.host, self.port, self.speed = host, port, speed
        self.cert, self.key = cert, key
        self.job = {k: float(v) for k, v in (job or {}).items() if k in JOB_KEYS}
        self._signals = samples[list(SIGNAL_COLUMNS)].to_numpy(dtype=float).tolist()
        self._process = samples[PROCESS_COLUMN].astype(str).tolist() if PROCESS_COLUMN in samples else None
        self.rows = len(self._signals)
        self.published = 0  # samples written so far
        self.experiment: int | None = None  # the experiment number, when known
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None

    @property
    def url(self) -> str:
        return f"opc.tcp://{self.host}:{self.port}"

    @property
    def secure(self) -> bool:
        return self.cert is not None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        """Serve in a background thread; raises :class:`SimulatorError` when the server cannot start."""
        if self._thread is not None:
            return
        self._check_port_free()
        self._ready.clear()
        self._error = None
        self._thread = threading.Thread(target=asyncio.run, args=(self._main(),), name=f"opcua-sim-{self.port}",
                                        daemon=True)
        self._thread.start()
        if not self._ready.wait(START_TIMEOUT_S):
            self.stop()
            raise SimulatorError(f"the OPC UA server on {self.host}:{self.port} did not start within "
                                 f"{START_TIMEOUT_S:.0f} s")
        if self._error is not None:
            self._thread.join(5)
            self._thread = None
            error = self._error
            if isinstance(error, OSError):
                raise SimulatorError(self._port_message(error)) from None
            raise SimulatorError(f"cannot start the OPC UA server on {self.host}:{self.port}: {error}") from None

    def stop(self) -> None:
        """Stop publishing and close the server (clients see the connection drop); safe to call twice."""
        thread, loop, stop = self._thread, self._loop, self._stop
        if thread is None:
            return
        if loop is not None and stop is not None and not loop.is_closed():
            try:
                loop.call_soon_threadsafe(stop.set)
            except RuntimeError:  # the loop ended on its own
                pass
        thread.join(10)
        self._thread = None

    def __enter__(self) -> OpcUaSimulator:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def _check_port_free(self) -> None:
        """Fail with a clear message before asyncua logs a traceback for a busy port.

        SO_REUSEADDR as asyncio's create_server uses it, so a port in TIME_WAIT counts as free.
        """
        try:
            infos = socket.getaddrinfo(self.host, self.port, type=socket.SOCK_STREAM)
        except OSError as error:
            raise SimulatorError(f"cannot serve OPC UA on {self.host}:{self.port}: {error}") from None
        family, kind, proto, _, address = infos[0]
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind(address)
            except OSError as error:
                raise SimulatorError(self._port_message(error)) from None

    def _port_message(self, error: OSError) -> str:
        if error.errno == errno.EADDRINUSE:
            return (f"cannot serve OPC UA on {self.host}:{self.port}: the port is already in use "
                    "(another simulator or OPC UA server?); choose another with --port")
        return f"cannot serve OPC UA on {self.host}:{self.port}: {error.strerror or error}"

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        try:
            server, nodes = await self._serve()
        except BaseException as error:  # reported to start(), which raises SimulatorError
            self._error = error
            self._ready.set()
            return
        self._ready.set()
        try:
            await self._publish(server, nodes)
        except Exception as error:  # seen by run_simulator through .running and .error
            self._error = error
        finally:
            await server.stop()

    async def _serve(self) -> tuple[Server, list[tuple[ua.NodeId, ua.VariantType]]]:
        server = Server()
        await server.init()
        server.set_endpoint(self.url)
        server.set_server_name("cncwear OPC UA simulator")
        server.set_identity_tokens([ua.AnonymousIdentityToken])
        await server.set_application_uri(APPLICATION_URI)
        if self.secure:
            await server.load_certificate(str(self.cert))
            await server.load_private_key(str(self.key))
            server.set_security_policy([ua.SecurityPolicyType.Basic256Sha256_SignAndEncrypt])
        else:
            server.set_security_policy([ua.SecurityPolicyType.NoSecurity])
        index = await server.register_namespace(NAMESPACE_URI)
        machine = await server.nodes.objects.add_object(ua.NodeId("Machine", index), ua.QualifiedName("Machine", index))
        columns = [(c, ua.VariantType.Double, math.nan) for c in SIGNAL_COLUMNS]
        if self._process is not None:
            columns.append((PROCESS_COLUMN, ua.VariantType.String, ""))
        nodes = []
        for column, kind, initial in columns:
            node = await machine.add_variable(ua.NodeId(column, index), ua.QualifiedName(column, index),
                                              ua.Variant(initial, kind))
            nodes.append((node.nodeid, kind))
        for column in JOB_KEYS:  # constants of the job: written once
            await machine.add_variable(ua.NodeId(column, index), ua.QualifiedName(column, index),
                                       ua.Variant(self.job.get(column, math.nan), ua.VariantType.Double))
        await server.start()
        return server, nodes

    async def _publish(self, server: Server, nodes: list[tuple[ua.NodeId, ua.VariantType]]) -> None:
        period = SAMPLE_PERIOD_S / self.speed
        due = time.monotonic()
        row = 0
        while not self._stop.is_set():
            stamp = datetime.now(timezone.utc)
            values = self._signals[row] + ([self._process[row]] if self._process is not None else [])
            for (node_id, kind), value in zip(nodes, values):
                await server.write_attribute_value(
                    node_id, ua.DataValue(ua.Variant(value, kind), SourceTimestamp=stamp, ServerTimestamp=stamp))
            self.published += 1
            row = (row + 1) % self.rows
            due = max(due + period, time.monotonic() - period)  # never burst to catch up more than one sample
            try:
                await asyncio.wait_for(self._stop.wait(), max(0.0, due - time.monotonic()))
            except asyncio.TimeoutError:
                pass


def make_certificate(cert: str | Path, key: str | Path, application_uri: str = APPLICATION_URI,
                     host: str | None = None) -> tuple[Path, Path]:
    """A self-signed certificate (DER) and key (PEM) for ``application_uri``, usable by server and client.

    Existing valid files are kept (asyncua's helper); for demos and tests, not for production.
    """
    from asyncua.crypto.cert_gen import setup_self_signed_certificate
    from cryptography.x509.oid import ExtendedKeyUsageOID

    cert, key = Path(cert), Path(key)
    uses = [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
    asyncio.run(setup_self_signed_certificate(key, cert, application_uri, host or socket.gethostname(), uses, {}))
    return cert, key


def simulator_for_file(path: str | Path, host: str = "127.0.0.1", port: int = 4840, speed: float = 1.0,
                       cert: str | Path | None = None, key: str | Path | None = None) -> OpcUaSimulator:
    """A simulator of one experiment file; feedrate/clamp_pressure from the train.csv beside it."""
    from ..data.dataset import load_dataset

    dataset = load_dataset([path])
    problems = [p.located(r.path) for r in dataset.reports for p in r.errors]
    if problems or len(dataset.experiments) != 1:
        raise SimulatorError(f"cannot replay {path}: " + ("; ".join(problems) or "not one experiment file"))
    experiment = next(iter(dataset.experiments.values()))
    meta = experiment.meta
    job = {k: getattr(meta, k) for k in ("feedrate", "clamp_pressure") if meta is not None and math.isfinite(getattr(meta, k))}
    simulator = OpcUaSimulator(experiment.samples, host, port, speed, job, cert, key)
    simulator.experiment = experiment.number
    return simulator


def run_simulator(file: str | Path, host: str = "127.0.0.1", port: int = 4840, speed: float = 1.0,
                  cert: str | Path | None = None, key: str | Path | None = None, out=None) -> int:
    """``cncwear simulate opcua``: serve ``file`` until SIGINT/SIGTERM; one JSON line when serving.

    Raises :class:`SimulatorError` when the file cannot be replayed or the port is busy. Call from
    the main thread (it installs signal handlers, restored on return).
    """
    out = out or sys.stdout
    simulator = simulator_for_file(file, host, port, speed, cert, key)
    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        simulator.start()
        print(json.dumps({"event": "serving", "url": simulator.url, "namespace": NAMESPACE_URI,
                          "file": str(file), "experiment": simulator.experiment, "samples": simulator.rows,
                          "speed": speed, "rate_hz": speed / SAMPLE_PERIOD_S, "job": simulator.job,
                          "security": "Basic256Sha256,SignAndEncrypt" if simulator.secure else "None"}),
              file=out, flush=True)
        while not stop.wait(0.5):
            if not simulator.running:
                raise SimulatorError(f"the OPC UA server on {host}:{port} stopped: {simulator._error}")
        simulator.stop()
        print(json.dumps({"event": "stopped", "published": simulator.published}), file=out, flush=True)
        return 0
    finally:
        simulator.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
