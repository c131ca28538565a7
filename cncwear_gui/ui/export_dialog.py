"""The Export dialog of the Alarms and Monitoring views: one kind of stored row to CSV or Parquet.

Kind, format, machines, time range and file; **Export** runs ``store.exports.export`` in a worker
(``TaskRunner``) with a progress bar and **Cancel** (a cancel leaves no file). A failure opens a
message box that does not block; the dialog stays open to try again. Times are entered in this
PC's local time and exported as UTC.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from PySide6.QtCore import QDateTime, QStandardPaths, Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateTimeEdit,
    QDialog,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QWidget,
)

from ..store.exports import KINDS
from .widgets import show_status, text_label
from .workers import TaskRunner

FORMAT_NAMES = {"csv": "CSV (Excel, any spreadsheet)", "parquet": "Parquet (pandas, Spark, BI tools)"}


def run_export(request: dict, task=None):
    """In the worker: the export (``store.exports.export``)."""
    from ..store.exports import export

    return export(**request, task=task)


def _default_folder() -> Path:
    documents = QStandardPaths.writableLocation(QStandardPaths.DocumentsLocation)
    folder = Path(documents) if documents else Path.home()
    return folder if folder.is_dir() else Path.home()


class ExportDialog(QDialog):
    """Export one of ``kinds`` from the store at ``url`` (None: the default store)."""

    def __init__(self, url: str | None, kinds: tuple[str, ...], machines: list[str] | None = None,
                 machine: str | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Export")
        self.url = url
        self.result = None  # the last ExportResult
        self.error_box: QMessageBox | None = None
        self.runner = TaskRunner(self)

        self.kind = QComboBox()
        for kind in kinds:
            self.kind.addItem(KINDS[kind].title, kind)
        self.format = QComboBox()
        for fmt, name in FORMAT_NAMES.items():
            self.format.addItem(name, fmt)
        self.machines = QLineEdit(machine or "")
        self.machines.setPlaceholderText("all machines; or e.g. " + ", ".join((machines or ["mill-1", "mill-2"])[:2]))
        self.machines.setToolTip("Machine names, separated by commas. Empty: every machine in the store.")
        now = QDateTime.currentDateTime()
        self.use_since, self.since = QCheckBox("from"), QDateTimeEdit(now.addDays(-7))
        self.use_until, self.until = QCheckBox("before"), QDateTimeEdit(now)
        for box, edit in ((self.use_since, self.since), (self.use_until, self.until)):
            edit.setDisplayFormat("yyyy-MM-dd HH:mm")
            edit.setCalendarPopup(True)
            edit.setEnabled(False)
            box.toggled.connect(edit.setEnabled)
        times = QHBoxLayout()
        for widget in (self.use_since, self.since, self.use_until, self.until):
            times.addWidget(widget)
        times.addStretch(1)
        self.path = QLineEdit()
        self.browse = QPushButton("Browse…")
        self.browse.clicked.connect(self._browse)
        where = QHBoxLayout()
        where.addWidget(self.path, 1)
        where.addWidget(self.browse)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setFormat("idle")
        self.status = text_label("Times are this PC's local time; the file has UTC. Without a range: everything kept.")
        self.export_button = QPushButton("Export")
        self.export_button.setDefault(True)
        self.export_button.clicked.connect(self.start)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.runner.cancel)
        self.close_button = QPushButton("Close")
        self.close_button.clicked.connect(self.reject)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        for button in (self.export_button, self.cancel_button, self.close_button):
            buttons.addWidget(button)

        form = QFormLayout(self)
        form.addRow("What", self.kind)
        form.addRow("Format", self.format)
        form.addRow("Machines", self.machines)
        form.addRow("Time", times)
        form.addRow("File", where)
        form.addRow(self.progress)
        form.addRow(self.status)
        form.addRow(buttons)
        self.setMinimumWidth(560)

        self.kind.currentIndexChanged.connect(self._suggest_path)
        self.format.currentIndexChanged.connect(self._suggest_path)
        self.runner.progress.connect(self._on_progress)
        self.runner.succeeded.connect(self._on_done)
        self.runner.failed.connect(self._on_failed)
        self.runner.cancelled.connect(lambda: self._finished("■ Cancelled: no file was written.", "warning"))
        self.runner.running_changed.connect(self._update_buttons)
        self._suggested = ""
        self._suggest_path()
        self._update_buttons(False)

    # -- the request -----------------------------------------------------------------------------
    def _suggest_path(self) -> None:
        """A file name for the kind and format, until the user typed their own."""
        if self.path.text() and self.path.text() != self._suggested:
            current = Path(self.path.text())
            if current.suffix.lower() in (".csv", ".parquet"):
                self.path.setText(str(current.with_suffix("." + self.format.currentData())))
            return
        stamp = datetime.now().strftime("%Y%m%d-%H%M")
        self._suggested = str(_default_folder() / f"cncwear-{self.kind.currentData()}-{stamp}.{self.format.currentData()}")
        self.path.setText(self._suggested)

    def _browse(self) -> None:
        fmt = self.format.currentData()
        name, _ = QFileDialog.getSaveFileName(self, "Export to", self.path.text(),
                                              "CSV (*.csv)" if fmt == "csv" else "Parquet (*.parquet)")
        if name:
            self.path.setText(name if Path(name).suffix else f"{name}.{fmt}")

    def request(self) -> dict:
        """What Export asks ``store.exports.export`` for (local times as aware datetimes)."""
        def moment(edit: QDateTimeEdit) -> datetime:
            return edit.dateTime().toPython().astimezone()  # naive local → aware

        machines = [m.strip() for m in self.machines.text().split(",") if m.strip()]
        return {"kind": self.kind.currentData(), "path": self.path.text().strip(), "url": self.url,
                "fmt": self.format.currentData(), "machines": machines or None,
                "since": moment(self.since) if self.use_since.isChecked() else None,
                "until": moment(self.until) if self.use_until.isChecked() else None}

    def set_range(self, since: datetime | None, until: datetime | None) -> None:
        """Set the time range (aware datetimes; None: open)."""
        for box, edit, value in ((self.use_since, self.since, since), (self.use_until, self.until, until)):
            box.setChecked(value is not None)
            if value is not None:
                edit.setDateTime(QDateTime(value.astimezone().replace(tzinfo=None)))

    # -- running ---------------------------------------------------------------------------------
    def start(self) -> None:
        request = self.request()
        if not request["path"]:
            self._finished("Give the file to write.", "failed")
            return
        self.result = None
        self.progress.setValue(0)
        self.progress.setFormat("starting")
        show_status(self.status, f"Exporting to {request['path']} …")
        self.runner.start(run_export, request)

    def _on_progress(self, fraction: float, message: str) -> None:
        self.progress.setValue(int(fraction * 1000))
        self.progress.setFormat(f"{fraction:.0%}")
        self.status.setText(f"Exporting: {message}")

    def _on_done(self, result) -> None:
        self.result = result
        self.progress.setValue(1000)
        self.progress.setFormat("done")
        self._finished(f"✔ {result.rows:,} rows written to {result.path}.", "")

    def _on_failed(self, message: str) -> None:
        text = message.removeprefix("ExportRejected: ")
        self.progress.setValue(0)
        self.progress.setFormat("failed")
        self._finished(f"✖ The export failed: {text}", "failed")
        box = QMessageBox(QMessageBox.Critical, "Export failed",
                          f"The export wrote no file.\n\n{text}", QMessageBox.Ok, self)
        box.setAttribute(Qt.WA_DeleteOnClose)
        box.open()  # not exec(): the window keeps running behind the message
        self.error_box = box

    def _finished(self, text: str, level: str) -> None:
        show_status(self.status, text, level)

    def _update_buttons(self, running: bool) -> None:
        self.export_button.setEnabled(not running)
        self.cancel_button.setEnabled(running)
        for widget in (self.kind, self.format, self.machines, self.path, self.browse):
            widget.setEnabled(not running)

    def reject(self) -> None:
        """Closing cancels a running export (its file is not written)."""
        self.runner.cancel()
        super().reject()


def open_export_dialog(parent: QWidget, url: str | None, kinds: tuple[str, ...], machines: list[str] | None = None,
                       machine: str | None = None) -> ExportDialog:
    """Show the dialog without blocking (``open``); returned for the caller (and tests) to keep."""
    dialog = ExportDialog(url, kinds, machines, machine, parent)
    dialog.open()
    return dialog
