"""Small widgets and helpers the views share: text labels, status lines, read-only tables, titled
boxes, and the descriptor a view uses to keep a panel's attribute under its own name."""

from __future__ import annotations

from datetime import datetime, timezone

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QGroupBox,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from .theme import CAUTION_STYLE, FAILED_STYLE, WARN_STYLE

STATUS_STYLE = {"": "", "failed": FAILED_STYLE, "warning": WARN_STYLE, "caution": CAUTION_STYLE}


def text_label(text: str = "", selectable: bool = True) -> QLabel:
    """A word-wrapped label whose text can be selected (and copied) with the mouse."""
    label = QLabel(text)
    label.setWordWrap(True)
    if selectable:
        label.setTextInteractionFlags(Qt.TextSelectableByMouse)
    return label


def show_status(label: QLabel, text: str, level: str = "") -> None:
    """A status line's text and its background: none, or ``failed``/``warning``/``caution``
    (the colour only beside words that say the same)."""
    label.setText(text)
    label.setStyleSheet(STATUS_STYLE[level])


def table_item(text: str, tooltip: str | None = None, align_right: bool = False) -> QTableWidgetItem:
    """A read-only, selectable cell."""
    item = QTableWidgetItem(text)
    item.setFlags(Qt.ItemIsEnabled | Qt.ItemIsSelectable)
    if tooltip:
        item.setToolTip(tooltip)
    if align_right:
        item.setTextAlignment(int(Qt.AlignRight | Qt.AlignVCenter))
    return item


def compact_table(columns: tuple[str, ...], stretch_last: bool = True) -> QTableWidget:
    """A read-only table of compact rows that selects one whole row at a time."""
    table = QTableWidget(0, len(columns))
    table.setHorizontalHeaderLabels(columns)
    table.verticalHeader().hide()
    table.setEditTriggers(QAbstractItemView.NoEditTriggers)
    table.setSelectionBehavior(QAbstractItemView.SelectRows)
    table.setSelectionMode(QAbstractItemView.SingleSelection)
    table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeToContents)
    table.horizontalHeader().setStretchLastSection(stretch_last)
    table.verticalHeader().setDefaultSectionSize(20)
    table.verticalHeader().setMinimumSectionSize(18)
    return table


def fill_box(box: QGroupBox, *items, grow: QWidget | None = None) -> QGroupBox:
    """Widgets and layouts in a titled box, top to bottom; ``grow`` takes the spare height."""
    layout = QVBoxLayout(box)
    layout.setContentsMargins(6, 6, 6, 6)
    for item in items:
        if isinstance(item, QWidget):
            layout.addWidget(item, 1 if item is grow else 0)
        else:
            layout.addLayout(item)
    return box


def parse_utc(text: str | None) -> datetime | None:
    """An ISO time as an aware datetime (UTC when it names no zone); None when empty or unreadable."""
    if not text:
        return None
    try:
        value = datetime.fromisoformat(str(text))
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def percent(value: float | None) -> str:
    return "not recorded" if value is None else f"{value:.1%}"


class on_panel:  # noqa: N801 - used like a function in a class body
    """A view's attribute that lives on one of its panels: ``budget = on_panel("search")`` reads
    ``view.search.budget``. The names the main window, the screenshot mode and the tests know stay."""

    def __init__(self, panel: str, name: str | None = None):
        self.panel, self.name = panel, name

    def __set_name__(self, owner, name: str) -> None:
        self.name = self.name or name

    def __get__(self, view, owner=None):
        if view is None:
            return self
        return getattr(getattr(view, self.panel), self.name)
