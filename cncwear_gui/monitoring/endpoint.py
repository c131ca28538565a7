"""The HTTP(S) endpoint Prometheus scrapes: loopback by default, LAN binding and TLS opt-in."""

from __future__ import annotations

import errno
import logging
from dataclasses import dataclass

log = logging.getLogger(__name__)
LOOPBACK = "127.0.0.1"


class MetricsEndpointError(Exception):
    """The endpoint could not start; the message says why and what to change."""


@dataclass(frozen=True)
class MetricsAddress:
    host: str
    port: int

    @classmethod
    def parse(cls, text: str) -> MetricsAddress:
        """``HOST:PORT``, ``:PORT`` (loopback) or ``[v6]:PORT``; ValueError names what is wrong."""
        host, sep, port = text.rpartition(":")
        if not sep or not port.isdigit():
            raise ValueError(f"metrics address '{text}' is not HOST:PORT (e.g. 127.0.0.1:9464)")
        number = int(port)
        if not 0 <= number <= 65535:
            raise ValueError(f"metrics port {number} in '{text}' is outside 0-65535")
        return cls(host.strip("[]") or LOOPBACK, number)

    def __str__(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"


class MetricsEndpoint:
    """Serves a registry at ``/metrics`` from a daemon thread; ``stop()`` releases the port."""

    def __init__(self, registry, address: MetricsAddress, certfile: str = "", keyfile: str = ""):
        if bool(certfile) != bool(keyfile):
            raise MetricsEndpointError("TLS needs both a certificate file and a key file")
        self.registry = registry
        self.address = address
        self.certfile = certfile
        self.keyfile = keyfile
        self._server = None
        self._thread = None

    @property
    def running(self) -> bool:
        return self._server is not None

    @property
    def port(self) -> int:
        """The bound port (differs from the asked one when port 0 asked for any free port)."""
        return self._server.server_port if self._server else self.address.port

    @property
    def url(self) -> str:
        scheme = "https" if self.certfile else "http"
        host = f"[{self.address.host}]" if ":" in self.address.host else self.address.host
        return f"{scheme}://{host}:{self.port}/metrics"

    def start(self) -> None:
        from prometheus_client import start_http_server

        try:
            self._server, self._thread = start_http_server(
                self.address.port, self.address.host, self.registry,
                certfile=self.certfile or None, keyfile=self.keyfile or None)
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                raise MetricsEndpointError(
                    f"metrics port {self.address.port} on {self.address.host} is already in use by another "
                    "program; choose another port (Settings → Metrics port, or --metrics-addr HOST:PORT)") from None
            if error.errno == errno.EADDRNOTAVAIL:
                raise MetricsEndpointError(
                    f"metrics address {self.address.host} is not an address of this computer") from None
            if isinstance(error, FileNotFoundError):
                raise MetricsEndpointError(f"TLS file not found: {error.filename}") from None
            raise MetricsEndpointError(f"metrics endpoint on {self.address} could not start: {error}") from None
        except Exception as error:  # ssl.SSLError for a certificate that does not match its key
            raise MetricsEndpointError(f"metrics endpoint TLS setup failed: {error}") from None
        log.info("serving metrics at %s", self.url)

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
        self._server = self._thread = None
