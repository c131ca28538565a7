"""The automated pipeline: its triggers (would each fire now, and why), the history of firings
with each one's outcome and whole record, and the status of the trigger watcher."""

from __future__ import annotations

import json

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QAbstractItemView, QDialog, QGroupBox, QHBoxLayout, QHeaderView, QPlainTextEdit, QPushButton, QVBoxLayout

from ...state import AppState
from ...widgets import compact_table, fill_box, parse_utc, show_status, table_item, text_label
from ..monitoring_jobs import HISTORY_LIMIT, MonitoringSnapshot, describe_firing
from ..monitoring_plots import LEVEL_BACKGROUND
from .champion_panel import OUTCOME_SYMBOL

STATUS_TEXT = {"promoted": "✔ promoted", "kept": "● kept", "failed": "✖ failed", "skipped": "– skipped",
               "running": "▶ running", "cancelled": "■ cancelled"}
TRIGGER_NAMES = {"schedule": "Schedule", "new-data": "New data", "degradation": "Degradation", "manual": "Manual",
                 "drift": "Drift"}


class PipelineHistoryPanel(QGroupBox):
    refresh_requested = Signal()  # Refresh: read the snapshot again

    def __init__(self, state: AppState, parent=None):
        super().__init__("Pipeline triggers and history", parent)
        self.snapshot: MonitoringSnapshot | None = None
        self.trigger_table = compact_table(("Trigger", "State", "Why"))
        self.trigger_table.setSelectionMode(QAbstractItemView.NoSelection)
        self.trigger_table.setFixedHeight(3 * 20 + 26)
        self.history_table = compact_table(("#", "Fired (UTC)", "Trigger", "Status", "Reason"))
        self.history_table.horizontalHeader().setSectionResizeMode(4, QHeaderView.Stretch)
        self.history_table.setWordWrap(False)
        self.history_table.itemSelectionChanged.connect(self._show_outcome)
        self.firing_outcome = text_label("")
        self.history_table.setToolTip("Hover a firing for its steps, run ids, gate verdict and error; "
                                      "double-click to read all of it.")
        self.history_table.itemDoubleClicked.connect(lambda item: self.show_firing(item.data(Qt.UserRole)))
        self.firing_detail: QDialog | None = None
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.setToolTip("Read the champion, statistics, triggers and history again.")
        self.refresh_button.clicked.connect(self.refresh_requested)
        self.pipeline_label = text_label("")
        self.watcher_label = text_label("")
        self.watcher_label.setToolTip("The background process that checks the triggers every minute while the app is "
                                      "open. One that stops is restarted; its last error stays shown here.")
        bottom = QHBoxLayout()
        bottom.addWidget(self.pipeline_label, 1)
        bottom.addWidget(self.refresh_button)
        fill_box(self, self.trigger_table, self.history_table, self.firing_outcome, self.watcher_label, bottom,
                 grow=self.history_table)
        state.pipeline_watcher_changed.connect(self.show_watcher)
        self.show_watcher(*state.pipeline_watcher_status)

    def show_watcher(self, status: str, failed: bool) -> None:
        show_status(self.watcher_label, f"{'⚠ ' if failed else ''}Trigger watcher: {status or '—'}",
                    "warning" if failed else "")

    def set_snapshot(self, snapshot: MonitoringSnapshot) -> None:
        self.snapshot = snapshot
        self.trigger_table.setRowCount(len(snapshot.triggers))
        for row, check in enumerate(snapshot.triggers):
            name = TRIGGER_NAMES.get(check.get("trigger"), check.get("trigger", "?"))
            state = table_item("▲ FIRES" if check.get("fires") else "● quiet")
            if check.get("fires"):
                state.setBackground(LEVEL_BACKGROUND["warn"])
            self.trigger_table.setItem(row, 0, table_item(name))
            self.trigger_table.setItem(row, 1, state)
            self.trigger_table.setItem(row, 2, table_item(check.get("reason", ""), check.get("reason", "")))
        firings = snapshot.history[:HISTORY_LIMIT]
        self.history_table.setRowCount(max(1, len(firings)))
        if not firings:
            self.history_table.setSpan(0, 0, 1, self.history_table.columnCount())
            self.history_table.setItem(0, 0, table_item("No pipeline firing recorded yet: Retrain now records the first."))
        else:
            self.history_table.clearSpans()
        for row, firing in enumerate(firings):
            fired = parse_utc(firing.get("fired_at"))
            detail = json.dumps(firing.get("detail") or {}, indent=1, default=str)
            tooltip = detail if len(detail) < 3000 else detail[:3000] + "\n… (select the row for all of it)"
            status = firing.get("status", "")
            status_item = table_item(STATUS_TEXT.get(status, status), tooltip)
            if status == "failed":
                status_item.setBackground(LEVEL_BACKGROUND["alarm"])
            cells = (table_item(str(firing.get("id", "")), tooltip, align_right=True),
                     table_item("—" if fired is None else f"{fired:%Y-%m-%d %H:%M:%S}", tooltip),
                     table_item(firing.get("trigger", ""), tooltip), status_item,
                     table_item(firing.get("reason", ""), tooltip))
            for column, cell in enumerate(cells):
                cell.setData(Qt.UserRole, firing.get("id"))
                self.history_table.setItem(row, column, cell)
        if firings:
            self.history_table.selectRow(0)
        self._show_outcome()
        pipeline = snapshot.pipeline
        schedule = pipeline.get("schedule_hours") or 0
        self.pipeline_label.setText(
            f"Pipeline: {pipeline.get('engine', '?')}, {pipeline.get('budget_s', '?')} s budget · schedule "
            + (f"every {schedule:g} h" if schedule else "off") + " · watched folder "
            + (pipeline.get("watch_dir") or "none") + f" · {len(snapshot.history)} firing(s) shown")

    def _firing(self, firing_id) -> dict | None:
        return next((f for f in (self.snapshot.history if self.snapshot else []) if f.get("id") == firing_id), None)

    def _show_outcome(self) -> None:
        """The selected firing's outcome in words under the table (the newest one is selected)."""
        rows = self.history_table.selectionModel().selectedRows()
        item = self.history_table.item(rows[0].row(), 0) if rows else None
        firing = self._firing(item.data(Qt.UserRole)) if item is not None else None
        if firing is None:
            self.firing_outcome.setText("")
            return
        status = firing.get("status", "")
        show_status(self.firing_outcome, f"#{firing.get('id')} {OUTCOME_SYMBOL.get(status, '▶')} {describe_firing(firing)}",
                    "failed" if status == "failed" else "")

    def show_firing(self, firing_id) -> None:
        """A firing's whole record (steps, run ids, gate verdict, error) in a read-only window."""
        firing = self._firing(firing_id)
        if firing is None:
            return
        if self.firing_detail is None:
            self.firing_detail = QDialog(self)
            self.firing_detail.resize(760, 560)
            text = QPlainTextEdit()
            text.setReadOnly(True)
            QVBoxLayout(self.firing_detail).addWidget(text)
            self.firing_detail.text = text
        self.firing_detail.setWindowTitle(f"Pipeline firing #{firing_id}")
        self.firing_detail.text.setPlainText(json.dumps(firing, indent=2, default=str))
        self.firing_detail.show()
