"""The desktop app's Prometheus endpoint: started in a worker after the first paint (importing
prometheus_client takes 0.1-0.3 s), restarted when the address changes in Settings, and never
fatal — a busy port is shown and another can be chosen.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, Signal

from ..settings import Settings
from .workers import TaskRunner

log = logging.getLogger(__name__)


def _start_endpoint(wanted: tuple, previous, task=None):
    """In a worker: this process's metrics and an endpoint for ``wanted`` (host, port, cert, key)."""
    from ..monitoring.endpoint import MetricsAddress, MetricsEndpoint
    from ..monitoring.metrics import app_metrics

    if previous is not None:
        previous.stop()
    metrics = app_metrics()
    host, port, cert, key = wanted
    endpoint = MetricsEndpoint(metrics.registry, MetricsAddress(host, port), cert, key)
    endpoint.start()  # MetricsEndpointError carries the message the user sees
    return metrics, endpoint


class MetricsService(QObject):
    status_changed = Signal(str)
    metrics_ready = Signal(object)  # monitoring.metrics.AppMetrics

    def __init__(self, parent=None):
        super().__init__(parent)
        self.metrics = None
        self.endpoint = None
        self.status = "metrics endpoint starting"
        self._wanted = None
        self.runner = TaskRunner(self)
        self.runner.succeeded.connect(self._started)
        self.runner.failed.connect(self._refused)

    def apply(self, settings: Settings) -> None:
        """(Re)start the endpoint for the settings' address and TLS files, unless it already serves them."""
        wanted = (settings.metrics_bind_address, settings.metrics_port, settings.metrics_tls_cert, settings.metrics_tls_key)
        if wanted == self._wanted and (self.endpoint is not None or self.runner.running):
            return
        self._wanted = wanted
        previous, self.endpoint = self.endpoint, None
        self.runner.start(_start_endpoint, wanted, previous)

    def stop(self) -> None:
        self.runner.cancel()
        if self.endpoint is not None:
            self.endpoint.stop()
            self.endpoint = None

    def _started(self, result) -> None:
        self.metrics, self.endpoint = result
        self.metrics_ready.emit(self.metrics)
        self._set_status(f"serving {self.endpoint.url}")

    def _refused(self, message: str) -> None:
        from ..monitoring.metrics import app_metrics  # imported by the worker already: cheap now

        if self.metrics is None:
            self.metrics = app_metrics()
            self.metrics_ready.emit(self.metrics)  # recording goes on; only the endpoint is off
        message = message.removeprefix("MetricsEndpointError: ")
        log.warning("metrics endpoint off: %s", message)
        self._set_status(f"metrics endpoint off: {message}")

    def _set_status(self, status: str) -> None:
        self.status = status
        self.status_changed.emit(status)
