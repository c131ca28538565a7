"""Small widgets and helpers the views share: text labels, status lines, read-only tables, titled
boxes, the window's tabs of views, and the descriptor a view uses to keep a panel's attribute
under its own name."""

from __future__ import annotations

import math
from datetime import datetime, timezone

from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QAbstractItemView,
    QGroupBox,
    QHeaderView,
    QFrame,
    QLabel,
    QScrollArea,
    QTabWidget,
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


def fit_wrapped_height(widget: QWidget) -> None:
    """Keep ``widget`` at least as tall as its layout needs at its width, whenever it is resized or
    its texts change. A word-wrapped label needs more lines when narrower, and a splitter, grid or
    column sized to a short screen would squeeze the lines into the next row (Qt's minimum heights
    ignore height-for-width); with this the view scrolls instead."""
    if not hasattr(widget, "_fit_filter"):
        widget._fit_filter = _FitHeight(widget)
        widget.installEventFilter(widget._fit_filter)
        for label in widget.findChildren(QLabel):  # a label's new width changes its lines: fit again
            if label.wordWrap():
                label.installEventFilter(widget._fit_filter)
    _fit(widget)


def _fit(widget: QWidget) -> None:
    """The layout's minimum plus what each wrapped label needs at its width beyond its own minimum
    (Qt's heightForWidth of a layout is the preferred height: plots would ask for their full size)."""
    layout = widget.layout()
    if layout is None:
        return
    extra, squeezed = 0, False
    for label in widget.findChildren(QLabel):
        if label.wordWrap() and label.isVisibleTo(widget) and label.text():
            wanted = label.heightForWidth(label.width())
            extra += max(0, wanted - label.minimumSizeHint().height())
            squeezed = squeezed or wanted > label.height()
    needed = layout.totalMinimumSize().height() + extra
    if needed != widget.minimumHeight():
        widget.setMinimumHeight(needed)
    elif squeezed and widget.height() >= needed:  # the room is there, but the layout kept the heights of
        layout.invalidate()  # the texts' previous widths (a label's new text or width): lay it out again


class _FitHeight(QObject):
    """Fits its widget when it is resized or laid out anew, or when one of its wrapped labels is resized."""

    def __init__(self, widget: QWidget):
        super().__init__(widget)
        self.widget = widget

    def eventFilter(self, watched, event) -> bool:  # noqa: N802 - Qt's name
        if event.type() in (QEvent.Resize, QEvent.LayoutRequest):
            _fit(self.widget)
        return False


class _Page(QWidget):
    """A view in its scroll area, without a layout: a scroll area gives a widget whose layout has
    height-for-width (wrapped labels) its *preferred* height (plots at full size, tiles a screen tall
    each). The view fills the area instead, scrolling only below its minimum (wrapped texts keep
    theirs with fit_wrapped_height)."""

    def __init__(self, view: QWidget):
        super().__init__()
        self.view = view
        view.setParent(self)
        view.installEventFilter(self)
        self._follow_minimum()

    def eventFilter(self, watched, event) -> bool:  # noqa: N802 - Qt's name
        if event.type() == QEvent.LayoutRequest:  # the view's layout changed: its minimum, once laid out
            QTimer.singleShot(0, self, self._follow_minimum)  # not after the page is gone
        return False

    def _follow_minimum(self) -> None:
        minimum = self.view.minimumSizeHint().expandedTo(self.view.minimumSize())
        if minimum != self.minimumSize():
            self.setMinimumSize(minimum)

    def sizeHint(self):  # noqa: N802 - Qt's name
        return self.minimumSize()

    def event(self, event) -> bool:
        if event.type() == QEvent.LayoutRequest:  # the view's minimum may have changed
            self._follow_minimum()
        return super().event(event)

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt's name
        super().resizeEvent(event)
        self.view.setGeometry(self.rect())


def scroll_area(content: QWidget) -> QScrollArea:
    """``content`` filling the area, with scroll bars only when the area is smaller than the
    content's minimum (a 1024 × 768 screen), so a view never makes the window larger than the screen."""
    area = QScrollArea()
    area.setWidget(_Page(content))
    area.setWidgetResizable(True)
    area.setFrameShape(QFrame.NoFrame)
    return area


class ViewTabs(QTabWidget):
    """The window's tabs: each view in a :func:`scroll_area`. ``widget``, ``indexOf``,
    ``currentWidget`` and ``setCurrentWidget`` speak of the views, not of their scroll areas."""

    def add_view(self, view: QWidget, title: str) -> int:
        area = scroll_area(view)
        area.setObjectName(f"{type(view).__name__}Scroll")
        return self.addTab(area, title)

    def widget(self, index: int) -> QWidget | None:
        area = super().widget(index)
        page = area.widget() if isinstance(area, QScrollArea) else None
        return page.view if isinstance(page, _Page) else area

    def indexOf(self, view: QWidget) -> int:  # noqa: N802 - Qt's name
        return next((i for i in range(self.count()) if self.widget(i) is view), super().indexOf(view))

    def currentWidget(self) -> QWidget | None:  # noqa: N802 - Qt's name
        return self.widget(self.currentIndex())

    def setCurrentWidget(self, view: QWidget) -> None:  # noqa: N802 - Qt's name
        self.setCurrentIndex(self.indexOf(view))


def mm_to_px(mm: float, widget: QWidget | None = None) -> int:
    """Logical pixels that measure ``mm`` millimetres on ``widget``'s screen (the primary screen
    without one): from the screen's physical DPI, which already divides by the display scaling
    (QT_SCALE_FACTOR, 150 %, 200 %); the logical DPI when the screen reports an implausible size
    (no EDID: 0 mm, or a made-up one)."""
    screen = (widget.screen() if widget is not None else None) or QGuiApplication.primaryScreen()
    if screen is None:
        return math.ceil(mm / 25.4 * 96)
    dpi = screen.physicalDotsPerInch()
    if not 50 <= dpi * screen.devicePixelRatio() <= 600:
        dpi = screen.logicalDotsPerInch()
    return math.ceil(mm / 25.4 * dpi)


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
