"""The application metrics (the Prometheus registry of this process), refreshed every
``METRICS_REFRESH_MS`` while the panel is shown."""

from __future__ import annotations

from PySide6.QtCore import QTimer
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QAbstractItemView, QGroupBox

from ...state import AppState
from ...widgets import compact_table, fill_box, show_status, table_item, text_label
from ..monitoring_jobs import metric_rows

METRICS_REFRESH_MS = 2000


class MetricsPanel(QGroupBox):
    def __init__(self, state: AppState, parent=None):
        super().__init__("Application metrics (this window, every 2 s)", parent)
        self.state = state
        self.metrics_status = text_label("")
        bold = QFont()
        bold.setBold(True)
        self.metrics_status.setFont(bold)
        self.metrics_table = compact_table(("Application metric", "Value"))
        self.metrics_table.setSelectionMode(QAbstractItemView.NoSelection)
        self.metrics_table.setMinimumHeight(7 * 20 + 26)
        fill_box(self, self.metrics_status, self.metrics_table, grow=self.metrics_table)
        self.metrics_timer = QTimer(self)
        self.metrics_timer.setInterval(METRICS_REFRESH_MS)
        self.metrics_timer.timeout.connect(self.refresh_metrics)
        self.refresh_metrics()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self.refresh_metrics()
        self.metrics_timer.start()

    def hideEvent(self, event) -> None:
        super().hideEvent(event)
        self.metrics_timer.stop()

    def refresh_metrics(self) -> None:
        metrics = self.state.metrics
        status = self.state.metrics_status or ("" if metrics is not None else "no metrics registry in this process")
        off = status.startswith("metrics endpoint off") or metrics is None
        show_status(self.metrics_status, f"/metrics: {status}" if status else "/metrics: —", "warning" if off else "")
        rows = metric_rows(metrics) if metrics is not None else [("Metrics", "off: nothing is recorded in this window")]
        self.metrics_table.setRowCount(len(rows))
        for row, (name, value) in enumerate(rows):
            self.metrics_table.setItem(row, 0, table_item(name))
            self.metrics_table.setItem(row, 1, table_item(value, value))

    def metric_value(self, name: str) -> str | None:
        for row in range(self.metrics_table.rowCount()):
            if self.metrics_table.item(row, 0).text() == name:
                return self.metrics_table.item(row, 1).text()
        return None
