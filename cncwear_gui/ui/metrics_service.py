"""The desktop app's Prometheus endpoint: started after the first paint, restarted when the
address changes in Settings, and never fatal — a busy port is shown and another can be chosen.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, Signal

from ..settings import Settings

log = logging.getLogger(__name__)


class MetricsService(QObject):
    status_changed = Signal(str)

    def __init__(self, parent=None):
        super().__init__(parent)
        from ..monitoring.metrics import app_metrics

        self.metrics = app_metrics()
        self.endpoint = None
        self.status = "metrics endpoint not started"
        self._address = None

    def apply(self, settings: Settings) -> None:
        """(Re)start the endpoint for the settings' address and TLS files; report the outcome."""
        from ..monitoring.endpoint import MetricsAddress, MetricsEndpoint, MetricsEndpointError

        wanted = (settings.metrics_bind_address, settings.metrics_port, settings.metrics_tls_cert, settings.metrics_tls_key)
        if self.endpoint is not None and self.endpoint.running and wanted == self._address:
            return
        self.stop()
        self._address = wanted
        try:
            endpoint = MetricsEndpoint(self.metrics.registry, MetricsAddress(settings.metrics_bind_address, settings.metrics_port),
                                       settings.metrics_tls_cert, settings.metrics_tls_key)
            endpoint.start()
        except MetricsEndpointError as error:
            log.warning("metrics endpoint off: %s", error)
            self._set_status(f"metrics endpoint off: {error}")
            return
        self.endpoint = endpoint
        self._set_status(f"serving {endpoint.url}")

    def stop(self) -> None:
        if self.endpoint is not None:
            self.endpoint.stop()
            self.endpoint = None

    def _set_status(self, status: str) -> None:
        self.status = status
        self.status_changed.emit(status)
