"""Print an HTML report to PDF with Qt's rich-text engine (QTextDocument + QPdfWriter).

Safe in a worker thread: it paints on a QPdfWriter, not on a widget. Written beside the target
and renamed over it (:func:`cncwear_gui.atomic_files.atomic_path`), so a failed export leaves
no half-written PDF and no temporary file.
"""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QMarginsF
from PySide6.QtGui import QGuiApplication, QPageLayout, QPageSize, QPdfWriter, QTextDocument

from ..atomic_files import atomic_path

_cli_application = None  # the command line has no QApplication: one offscreen, kept for the process


def _ensure_application() -> None:
    global _cli_application
    if QGuiApplication.instance() is None:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        _cli_application = QGuiApplication(["cncwear"])


def write_pdf(html: str, path: Path) -> None:
    _ensure_application()
    path = Path(path)
    with atomic_path(path, fsync=False) as partial:  # an export the user can repeat
        writer = QPdfWriter(str(partial))
        writer.setPageSize(QPageSize(QPageSize.A4))
        writer.setPageMargins(QMarginsF(15, 15, 15, 15), QPageLayout.Millimeter)
        writer.setTitle("cncwear explanation report")
        document = QTextDocument()
        document.setHtml(html)
        document.print_(writer)
        del writer  # flushes and closes the file
        if not partial.exists() or partial.stat().st_size == 0:
            raise OSError(f"Qt could not write the PDF to {path}")
