"""Alarms view: the ISA-18.2 alarm list with filters, operator actions and the audit trail.

The list shows each machine's current alarm occurrence and the recent ones (unacknowledged
first). Acknowledge (with an optional comment), False alarm (stored as a "tool not worn" label for
retraining and the degradation trigger), Shelve for a set time and Unshelve act on the selected
machine's alarm; each is written to the audit trail before it takes effect, off the GUI thread.
The audit trail below is read in a worker every few seconds while the view is visible.

With several PCs on one store the list also shows the alarms other nodes publish there
(``store.shared_alarms``: ``cncwear serve`` on other PCs, other windows), read in a worker every
``SHARED_REFRESH_MS`` while the view is visible; the Node column says where each one is served.
Acknowledge, False alarm, Shelve and Unshelve on such an alarm send a request to the node serving
it (written with its audit entry in a worker); the node applies it within a few seconds and the
list shows the new state once the node has published it.
"""

from __future__ import annotations

import threading
from datetime import datetime

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ..export_dialog import ExportDialog, open_export_dialog
from ..state import AppState
from ..workers import TaskRunner

AUDIT_REFRESH_MS = 5000
SHARED_REFRESH_MS = 2000  # other nodes' alarms: the node applies a request within ~2 s, the list follows
REQUEST_WAIT_S = 8.0  # how long the worker waits for the node to apply a request before saying it is queued
AUDIT_ROWS = 200
FILTERS = {"Needs action": "needs_action", "Active": "active", "Shelved": "shelved", "All": "all"}
_STATE_TEXT = {"normal": "normal", "unacknowledged": "UNACKNOWLEDGED", "acknowledged": "acknowledged",
               "rtn_unacknowledged": "CLEARED, UNACKNOWLEDGED", "shelved": "shelved"}
ALARM_COLUMNS = ("Raised", "Machine", "State", "Peak P(worn)", "Acknowledged by", "False alarm", "Comment", "Node")
AUDIT_COLUMNS = ("Time", "User", "Machine", "Action", "Change", "Comment")


def _time(value) -> str:
    """This PC's local time (the stores keep UTC)."""
    if value is None:
        return "—"
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.astimezone().strftime("%Y-%m-%d %H:%M:%S")


def read_audit(url: str | None, limit: int, task=None) -> list:
    """In a worker: the newest audit entries."""
    from ...store.audit_trail import AuditTrail

    trail = AuditTrail(url)
    try:
        return trail.entries(limit=limit)
    finally:
        trail.close()


class SharedAlarms:
    """The shared alarm store for the view's workers: opened once per URL (the engine is thread-safe)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._store = None
        self._url: str | None = None

    def store(self, url: str | None):
        from ...store.shared_alarms import SharedAlarmStore

        with self._lock:
            if self._store is None or self._url != url:  # first use, or the settings' store changed
                if self._store is not None:
                    self._store.close()
                self._store, self._url = SharedAlarmStore(url), url
            return self._store

    def close(self) -> None:
        with self._lock:
            if self._store is not None:
                self._store.close()
                self._store = None


def shared_row(alarm) -> dict:
    """A published alarm (store.shared_alarms.SharedAlarm) as a row of the alarm list."""
    reporting = alarm.reporting()
    return {"machine": alarm.machine, "state": alarm.state, "active": alarm.active and reporting,
            "needs_action": alarm.needs_action and reporting, "alarm_id": alarm.alarm_id,
            "raised_at": alarm.raised_at, "shelved_until": alarm.shelved_until, "current": True,
            "peak_probability": alarm.peak_probability, "acknowledged_by": alarm.acknowledged_by,
            "comment": alarm.comment, "false_alarm": alarm.false_alarm, "remote": True, "node": alarm.node,
            "where": alarm.where() + ("" if reporting else " — not reporting"),
            "reporting": reporting}


def read_shared(shared: SharedAlarms, url: str | None, task=None) -> list:
    """In a worker: every alarm the nodes publish in the shared store."""
    return shared.store(url).alarms()


def send_request(shared: SharedAlarms, url: str | None, machine: str, action: str, user: str, comment: str,
                 alarm_id: str | None, minutes: float | None, task=None):
    """In a worker: the request (with its audit entry), then its outcome once the node applied it
    (or the request still waiting after REQUEST_WAIT_S)."""
    store = shared.store(url)
    request = store.request(machine, action, user, comment, alarm_id=alarm_id, minutes=minutes)
    return store.wait_for_outcome(request.id, REQUEST_WAIT_S, cancelled=lambda: task is not None and task.cancelled) or request


class AcknowledgeDialog(QDialog):
    """Comment and the false-alarm mark for an acknowledgement."""

    def __init__(self, machine: str, false_alarm: bool = False, parent=None):
        super().__init__(parent)
        self.setWindowTitle(f"Acknowledge the alarm of {machine}")
        self.comment = QLineEdit()
        self.comment.setPlaceholderText("optional, e.g. tool changed, T12")
        self.false_alarm = QCheckBox("False alarm: the tool was not worn (recorded as feedback on the model)")
        self.false_alarm.setChecked(false_alarm)
        form = QFormLayout(self)
        form.addRow("Comment", self.comment)
        form.addRow(self.false_alarm)
        buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        buttons.button(QDialogButtonBox.Ok).setText("Acknowledge")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)


TOOL_CHANGE_REASONS = {  # store.tool_changes.REASONS, as the operator reads them
    "worn": "Worn — the tool was worn (labels the run worn)",
    "broken": "Broken — the tool broke (labels the run worn)",
    "scheduled": "Scheduled — planned change, tool life reached",
    "precaution": "Precaution — changed to be safe, not seen worn",
}


class ToolChangeDialog(QDialog):
    """Which machine, why, and a comment, for a tool change."""

    def __init__(self, machines: list[str], machine: str | None = None, parent=None):
        super().__init__(parent)
        self.setWindowTitle("Record a tool change")
        self.machine = QComboBox()
        self.machine.addItems(machines)
        if machine in machines:
            self.machine.setCurrentText(machine)
        self.reason = QComboBox()
        for key, text in TOOL_CHANGE_REASONS.items():
            self.reason.addItem(text, key)
        self.comment = QLineEdit()
        self.comment.setPlaceholderText("optional, e.g. flank wear 0.3 mm, T12 replaced")
        note = QLabel("The run ends here and is labelled by the reason; the tool life starts again; "
                      "a teach-in of the new tool starts when that is set (Edit → Settings).")
        note.setWordWrap(True)
        form = QFormLayout(self)
        form.addRow("Machine", self.machine)
        form.addRow("Reason", self.reason)
        form.addRow("Comment", self.comment)
        form.addRow(note)
        buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        buttons.button(QDialogButtonBox.Ok).setText("Record tool change")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)


class AlarmsView(QWidget):
    acknowledge_requested = Signal(str, str, bool)  # machine, comment, false alarm
    tool_change_requested = Signal(str, str, str)  # machine, reason, comment
    shelve_requested = Signal(str, float, str)  # machine, minutes, comment
    unshelve_requested = Signal(str)

    def __init__(self, state: AppState, parent=None):
        super().__init__(parent)
        self.state = state
        self.node = None  # live.engine.LiveNode, once the live engine runs
        self._shown_version = -1
        self._raised_seen: set[str] = set()
        self.audit_runner = TaskRunner(self)
        self.audit_runner.succeeded.connect(self._show_audit)
        self.shared = SharedAlarms()
        self.shared_rows: list[dict] = []  # other nodes' alarms, as last read from the shared store
        self.shared_reads = 0
        self.shared_runner = TaskRunner(self)
        self.shared_runner.succeeded.connect(self._show_shared)
        self.request_runner = TaskRunner(self)
        self.request_runner.succeeded.connect(self._request_done)
        self.request_runner.failed.connect(lambda message: self.show_message(f"The request could not be sent: {message}"))
        self.runners = (self.audit_runner, self.shared_runner, self.request_runner)
        self.audit_entries: list = []
        self.audit_reads = 0  # audit-trail reads shown so far

        self.filter = QComboBox()
        self.filter.addItems(list(FILTERS))
        self.filter.setCurrentText("All")
        self.machine = QComboBox()
        self.machine.addItem("All machines")
        self.filter.currentIndexChanged.connect(self.refresh)
        self.machine.currentIndexChanged.connect(self.refresh)
        self.counts = QLabel("")
        self.table = QTableWidget(0, len(ALARM_COLUMNS))
        self.table.setHorizontalHeaderLabels(ALARM_COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.verticalHeader().setVisible(False)
        self.table.itemSelectionChanged.connect(self._update_buttons)

        self.ack_button = QPushButton("Acknowledge…")
        self.false_button = QPushButton("False alarm…")
        self.shelve_minutes = QDoubleSpinBox()
        self.shelve_minutes.setDecimals(0)
        self.shelve_minutes.setRange(1, 8 * 60)
        self.shelve_minutes.setValue(30)
        self.shelve_minutes.setSuffix(" min")
        self.shelve_button = QPushButton("Shelve")
        self.unshelve_button = QPushButton("Unshelve")
        self.tool_button = QPushButton("Tool changed…")
        self.tool_button.clicked.connect(lambda: self.ask_tool_change(self.selected_machine()))
        self.ack_button.clicked.connect(lambda: self.ask_acknowledge(self.selected_machine()))
        self.false_button.clicked.connect(lambda: self.ask_acknowledge(self.selected_machine(), false_alarm=True))
        self.shelve_button.clicked.connect(self._shelve)
        self.unshelve_button.clicked.connect(self._unshelve)
        self.message = QLabel("")
        self.message.setWordWrap(True)
        self.export_button = QPushButton("Export…")
        self.export_button.setToolTip("Alarms, the audit trail, tool changes or labels to CSV or Parquet, "
                                      "by machine and time.")
        self.export_button.clicked.connect(self.open_export)
        self.export_dialog: ExportDialog | None = None

        self.audit = QTableWidget(0, len(AUDIT_COLUMNS))
        self.audit.setHorizontalHeaderLabels(AUDIT_COLUMNS)
        self.audit.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.audit.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeToContents)
        self.audit.horizontalHeader().setStretchLastSection(True)
        self.audit.verticalHeader().setVisible(False)
        self.audit_status = QLabel("Audit trail: every alarm transition, acknowledgement, promotion and settings change.")

        filters = QHBoxLayout()
        filters.addWidget(QLabel("Show"))
        filters.addWidget(self.filter)
        filters.addWidget(self.machine)
        filters.addStretch(1)
        filters.addWidget(self.counts)
        filters.addWidget(self.export_button)
        actions = QHBoxLayout()
        for widget in (self.ack_button, self.false_button, QLabel("for"), self.shelve_minutes, self.shelve_button,
                       self.unshelve_button, self.tool_button):
            actions.addWidget(widget)
        actions.addStretch(1)
        top = QWidget()
        top_layout = QVBoxLayout(top)
        top_layout.setContentsMargins(0, 0, 0, 0)
        top_layout.addLayout(filters)
        top_layout.addWidget(self.table, 1)
        top_layout.addLayout(actions)
        top_layout.addWidget(self.message)
        bottom = QWidget()
        bottom_layout = QVBoxLayout(bottom)
        bottom_layout.setContentsMargins(0, 0, 0, 0)
        bottom_layout.addWidget(self.audit_status)
        bottom_layout.addWidget(self.audit, 1)
        splitter = QSplitter(Qt.Vertical)
        splitter.addWidget(top)
        splitter.addWidget(bottom)
        splitter.setSizes([500, 400])
        layout = QVBoxLayout(self)
        layout.addWidget(splitter)

        self.audit_timer = QTimer(self)
        self.audit_timer.setInterval(AUDIT_REFRESH_MS)
        self.audit_timer.timeout.connect(self.refresh_audit)
        self.shared_timer = QTimer(self)
        self.shared_timer.setInterval(SHARED_REFRESH_MS)
        self.shared_timer.timeout.connect(self.refresh_shared)
        self._update_buttons()

    @property
    def loaded(self) -> bool:
        return self.node is not None and self._shown_version >= 0

    # -- the alarm list ------------------------------------------------------------------------
    def set_node(self, node) -> None:
        self.node = node
        self._shown_version = -1
        self.machine.blockSignals(True)
        self.machine.clear()
        self.machine.addItem("All machines")
        self.machine.addItems([m.name for m in node.machines])
        self.machine.blockSignals(False)
        self.refresh()
        self.refresh_audit()

    def on_pass(self, _views=None, _at: float = 0.0) -> None:
        """After a scoring pass: redraw the list only when an alarm changed."""
        if self.node is not None and self.node.alarm_version != self._shown_version:
            self.refresh()

    def _own_machines(self) -> set[str]:
        return {m.name for m in self.node.machines} if self.node is not None else set()

    def _remote_rows(self, which: str, machine: str | None) -> list[dict]:
        rows = [row for row in self.shared_rows if machine in (None, row["machine"])]
        if which == "all":
            return [row for row in rows if row["state"] != "normal" or not row["reporting"]]
        rows = [row for row in rows if row["reporting"]]
        if which == "needs_action":
            return [row for row in rows if row["needs_action"]]
        if which == "active":
            return [row for row in rows if row["active"]]
        return [row for row in rows if row["state"] == "shelved"]

    def refresh(self) -> None:
        if self.node is None and not self.shared_rows:
            return
        if self.node is not None:
            self._shown_version = self.node.alarm_version
        machine = None if self.machine.currentIndex() <= 0 else self.machine.currentText()
        which = FILTERS[self.filter.currentText()]
        own = self.node.alarm_list(which, machine) if self.node is not None else []
        remote = self._remote_rows(which, machine)
        rows = [row for row in own if row["current"]] + remote + [row for row in own if not row["current"]]
        rows.sort(key=lambda row: not row["needs_action"])  # stable: needing action first, wherever served
        selected = self.selected_machine()
        self.table.setRowCount(len(rows))
        for index, row in enumerate(rows):
            values = (_time(row["raised_at"]), row["machine"], _STATE_TEXT.get(row["state"], row["state"]),
                      "—" if row["peak_probability"] is None else f"{row['peak_probability']:.2f}",
                      row["acknowledged_by"] or "—", "yes" if row["false_alarm"] else "", row["comment"] or "",
                      row["where"] if row.get("remote") else "this PC")
            for column, value in enumerate(values):
                item = QTableWidgetItem(value)
                item.setData(Qt.UserRole, row["machine"])
                if row["needs_action"]:
                    font = item.font()
                    font.setBold(True)
                    item.setFont(font)
                self.table.setItem(index, column, item)
            if row["machine"] == selected and row["current"]:
                self.table.selectRow(index)
        counts = self.node.alarm_counts() if self.node is not None else {}
        for row in self.shared_rows:
            if row["reporting"]:
                counts[row["state"]] = counts.get(row["state"], 0) + 1
        self.counts.setText(" · ".join(f"{_STATE_TEXT.get(k, k)}: {v}" for k, v in counts.items()
                                       if v and k != "normal") or "no alarms")
        self._beep_on_new(rows)
        self._update_buttons()

    def _beep_on_new(self, rows: list[dict]) -> None:
        new = {r["alarm_id"] for r in rows if r["state"] == "unacknowledged"} - self._raised_seen
        self._raised_seen |= new
        if new and self.state.settings.alarm_sound:
            QApplication.beep()

    def selected_machine(self) -> str | None:
        items = self.table.selectedItems()
        return items[0].data(Qt.UserRole) if items else None

    def _selected_row(self) -> dict | None:
        machine = self.selected_machine()
        if machine is None:
            return None
        if machine in self._own_machines():
            return self.node.alarm_of(machine)
        return self._remote(machine)

    def _remote(self, machine: str | None) -> dict | None:
        """The other node's published alarm of ``machine`` (None: the machine is this window's or unknown)."""
        if machine is None or machine in self._own_machines():
            return None
        return next((row for row in self.shared_rows if row["machine"] == machine), None)

    def _update_buttons(self) -> None:
        current = self._selected_row()
        if current is not None and current.get("remote") and not current["reporting"]:
            current = None  # a node that stopped or does not report: nothing to ask it
        state = current["state"] if current else None
        needs = bool(current and current["needs_action"])
        self.ack_button.setEnabled(needs)
        self.false_button.setEnabled(needs)
        self.shelve_button.setEnabled(current is not None and state != "shelved")
        self.unshelve_button.setEnabled(state == "shelved")

    # -- actions -------------------------------------------------------------------------------
    def ask_acknowledge(self, machine: str | None, false_alarm: bool = False) -> None:
        if not machine:
            return
        dialog = AcknowledgeDialog(machine, false_alarm, self)
        if not dialog.exec():
            return
        comment, false_alarm = dialog.comment.text().strip(), dialog.false_alarm.isChecked()
        remote = self._remote(machine)
        if remote is not None:
            self.send_request(machine, "false_alarm" if false_alarm else "acknowledge", comment, remote["alarm_id"])
        else:
            self.acknowledge_requested.emit(machine, comment, false_alarm)

    def ask_tool_change(self, machine: str | None = None) -> None:
        machines = [m.name for m in self.node.machines] if self.node is not None else []
        if not machines:
            self.message.setText("No live machines: a tool change is recorded for a machine the app watches.")
            return
        dialog = ToolChangeDialog(machines, machine, self)
        if dialog.exec():
            self.tool_change_requested.emit(dialog.machine.currentText(), dialog.reason.currentData(),
                                            dialog.comment.text().strip())

    def _shelve(self) -> None:
        machine = self.selected_machine()
        if not machine:
            return
        if self._remote(machine) is not None:
            self.send_request(machine, "shelve", "", minutes=self.shelve_minutes.value())
        else:
            self.shelve_requested.emit(machine, self.shelve_minutes.value(), "")

    def _unshelve(self) -> None:
        machine = self.selected_machine()
        if not machine:
            return
        if self._remote(machine) is not None:
            self.send_request(machine, "unshelve", "")
        else:
            self.unshelve_requested.emit(machine)

    # -- other nodes' alarms (the shared store) ------------------------------------------------
    def _store_url(self) -> str | None:
        return self.state.settings.feature_store_url or None

    def send_request(self, machine: str, action: str, comment: str, alarm_id: str | None = None,
                     minutes: float | None = None) -> None:
        """Ask the node serving ``machine`` (another PC) to act; written and awaited in a worker."""
        from ...store.database import os_user

        remote = self._remote(machine)
        where = remote["where"] if remote else "the node serving it"
        self.message.setText(f"{machine}: request sent to {where}…")
        self.request_runner.start(send_request, self.shared, self._store_url(), machine, action, os_user(), comment,
                                  alarm_id, minutes)

    def _request_done(self, request) -> None:
        from ...live.alarms import ACTION_TEXT

        remote = self._remote(request.machine)
        where = remote["where"] if remote else "the node serving it"
        if request.outcome == "applied":
            text = f"{request.machine}: {ACTION_TEXT[request.action]} by {where} (request #{request.id})"
        elif request.outcome is None:
            text = (f"{request.machine}: request #{request.id} is queued: {where} has not applied it yet; "
                    "the list shows it once it has")
        else:
            text = f"{request.machine}: {where} {request.outcome} request #{request.id}: {request.detail}"
        self.show_message(text)
        self.refresh_shared()

    def refresh_shared(self) -> None:
        """Read the other nodes' alarms in a worker, while the view is shown."""
        if self.isVisible() and not self.shared_runner.running:
            self.shared_runner.start(read_shared, self.shared, self._store_url())

    def _show_shared(self, alarms: list) -> None:
        own_node = self.node.node_id if self.node is not None else None
        own = self._own_machines()
        rows = [shared_row(alarm) for alarm in alarms  # a stopped node's alarms ended with it: not listed
                if alarm.node != own_node and alarm.machine not in own and alarm.stopped_at is None]
        self.shared_reads += 1
        known = {self.machine.itemText(i) for i in range(1, self.machine.count())}
        new = sorted({row["machine"] for row in rows} - known)
        if new:
            self.machine.blockSignals(True)
            self.machine.addItems(new)
            self.machine.blockSignals(False)
        if rows != self.shared_rows:
            self.shared_rows = rows
            self.refresh()

    def show_message(self, text: str) -> None:
        self.message.setText(text)
        self.refresh()
        self.refresh_audit()

    def open_export(self) -> ExportDialog:
        """The Export dialog for what this view shows (the machine filter's machine preset)."""
        machines = [m.name for m in self.node.machines] if self.node is not None else []
        machine = None if self.machine.currentIndex() <= 0 else self.machine.currentText()
        self.export_dialog = open_export_dialog(self, self.state.settings.feature_store_url or None,
                                                ("alarms", "audit", "tool-changes", "labels"), machines, machine)
        return self.export_dialog

    # -- the audit trail -----------------------------------------------------------------------
    def refresh_audit(self) -> None:
        """Read the audit trail in a worker, while the view is shown (showing it reads it too)."""
        if self.isVisible() and not self.audit_runner.running:
            self.audit_runner.start(read_audit, self.state.settings.feature_store_url or None, AUDIT_ROWS)

    def _show_audit(self, entries: list) -> None:
        self.audit_entries = entries
        self.audit_reads += 1
        self.audit.setRowCount(len(entries))
        for index, entry in enumerate(entries):
            change = "" if entry.old_value is None and entry.new_value is None else f"{entry.old_value or '—'} → {entry.new_value or '—'}"
            for column, value in enumerate((_time(entry.at), entry.os_user, entry.machine or "", entry.action, change,
                                            entry.comment or "")):
                self.audit.setItem(index, column, QTableWidgetItem(value))
        self.audit_status.setText(f"Audit trail: the newest {len(entries)} entries (alarm transitions, acknowledgements, "
                                  "promotions, settings changes); append-only.")

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self.audit_timer.start()
        self.shared_timer.start()
        self.refresh_audit()
        self.refresh_shared()

    def hideEvent(self, event) -> None:
        super().hideEvent(event)
        self.audit_timer.stop()
        self.shared_timer.stop()
