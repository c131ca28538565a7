"""Does a window fit the screen it was sized for, with every text whole? (issue 26)

``fit_problems`` names a window larger than the requested size and every shown label or button
whose text is cut: a word-wrapped label whose text needs more height at its width than it got
(the rows below it then overlap it) or has a word wider than the label (a long feature name: wrapping
cannot break it, its end is cut off), a one-line label or a button narrower or lower than its text,
and a pane that scrolls sideways (its right side cut off until the operator scrolls: up and down is
fine, a wrapped text or a tile row read sideways is not). A whole view may scroll sideways only on a
screen narrower than the smallest panel PC's 1024 px (a 1366 × 768 panel at 200 % is 683 px wide
to the app); a pane within it never.
The size test (tests/ui/test_screen_sizes.py) and the screenshot mode use it."""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, QEvent, Qt
from PySide6.QtGui import Qt as QtGui_Qt  # mightBeRichText lives in QtGui's Qt namespace
from PySide6.QtGui import QTextDocument, QTextOption
from PySide6.QtWidgets import QAbstractButton, QLabel, QScrollArea, QStackedWidget, QTabWidget, QWidget

SLACK_PX = 1  # rounding in the style's margins
PANEL_MIN_WIDTH = 1024  # the narrowest panel PC (issue 26): from here up no view scrolls sideways


def fit_problems(window: QWidget, width: int, height: int) -> list[str]:
    """What does not fit in ``window`` (shown, its current tab laid out) at ``width`` × ``height``."""
    settle_layouts()
    problems = []
    minimum = window.minimumSizeHint().expandedTo(window.minimumSize())
    if minimum.width() > width or minimum.height() > height:
        problems.append(f"the window needs at least {minimum.width()} × {minimum.height()} px, more than {width} × {height}"
                        f"{_largest_minimum(window, width, height)}")
    if window.width() > width or window.height() > height:
        problems.append(f"the window is {window.width()} × {window.height()} px, more than {width} × {height}")
    for widget in window.findChildren(QWidget):
        if isinstance(widget, (QLabel, QAbstractButton)) and _shown(widget, window):
            if problem := _cut_text(widget):
                problems.append(f"{_name(widget)}: {problem}")
        elif isinstance(widget, QScrollArea) and _shown(widget, window) and widget.widget() is not None:
            content, shown = widget.widget().width(), widget.viewport().width()
            if content > shown + SLACK_PX and (width >= PANEL_MIN_WIDTH or not _is_view(widget, window)):
                problems.append(f"{_name_of(widget.widget())}: scrolls sideways, its content is {content} px wide, "
                                f"the pane shows {shown}")
    return problems


def settle_layouts(rounds: int = 3) -> None:
    """Lay out what is waiting to be, before measuring or grabbing: a live tile's text set a moment
    ago has its new height only once its layout request is handled, each layout handled may ask its
    parent's for a round, and a view's scroll page follows the view's new minimum on a zero timer."""
    for _ in range(rounds):
        QCoreApplication.sendPostedEvents(None, QEvent.LayoutRequest)
        QCoreApplication.processEvents()
    QCoreApplication.sendPostedEvents(None, QEvent.LayoutRequest)


def _cut_text(widget: QWidget) -> str | None:
    text = widget.text() if isinstance(widget, (QLabel, QAbstractButton)) else ""
    if not text.strip() or (isinstance(widget, QLabel) and (widget.pixmap() is not None and not widget.pixmap().isNull())):
        return None
    size = widget.size()
    if isinstance(widget, QLabel) and widget.wordWrap():
        needed = widget.heightForWidth(size.width())
        if needed > size.height() + SLACK_PX:
            return f"word-wrapped text needs {needed} px height at {size.width()} px width, has {size.height()}"
        return _unbroken_word(widget)
    hint = widget.sizeHint() if isinstance(widget, QAbstractButton) else widget.minimumSizeHint()
    if hint.width() > size.width() + SLACK_PX or hint.height() > size.height() + SLACK_PX:
        return f"text needs {hint.width()} × {hint.height()} px, has {size.width()} × {size.height()}"
    return None


def _unbroken_word(label: QLabel) -> str | None:
    """A wrapped label's text laid out at the label's text width the way Qt wraps it: its widest line
    wider than that width is a word that could not be broken, drawn past the label's edge."""
    width = label.contentsRect().width() - 2 * max(label.margin(), 0) - max(label.indent(), 0)
    document = QTextDocument()
    document.setDocumentMargin(0)
    document.setDefaultFont(label.font())
    option = QTextOption()
    option.setWrapMode(QTextOption.WordWrap)
    document.setDefaultTextOption(option)
    rich = label.textFormat() == Qt.RichText or (label.textFormat() == Qt.AutoText and QtGui_Qt.mightBeRichText(label.text()))
    document.setHtml(label.text()) if rich else document.setPlainText(label.text())
    document.setTextWidth(width)
    if document.idealWidth() > width + SLACK_PX:
        return f"a word of the wrapped text needs {document.idealWidth():.0f} px width, the label has {width}"
    return None


def _is_view(area: QScrollArea, window: QWidget) -> bool:
    """Is ``area`` one of the window's tabs (a whole view), not a pane within a view?"""
    tabs = getattr(window, "tabs", None)
    return tabs is not None and any(QTabWidget.widget(tabs, i) is area for i in range(tabs.count()))


def _shown(widget: QWidget, window: QWidget) -> bool:
    """Shown in the window (a widget in a scroll area counts: scrolling brings it into view)."""
    return widget.isVisibleTo(window)


def _name(widget: QWidget) -> str:
    """The widget, its text and where it sits (its parents' classes), for a failure message."""
    chain, parent = [], widget.parentWidget()
    while parent is not None and len(chain) < 4:
        chain.append(parent.objectName() or type(parent).__name__)
        parent = parent.parentWidget()
    text = widget.text().replace("\n", " ")
    return f"{type(widget).__name__} {text[:60]!r} in {' < '.join(chain)}"


def _largest_minimum(window: QWidget, width: int, height: int) -> str:
    """The deepest widgets whose own minimum is wider or taller than the window's content can be
    (``width`` less 40 px, ``height`` less 120 px for the menu, tab and status bars): where to look.
    A tab not shown counts: its minimum is the tab widget's."""
    culprits = []
    for widget in _laid_out(window):
        too_wide, too_tall = _too_big(widget, width - 40, None), _too_big(widget, None, height - 120)
        if (too_wide or too_tall) and not any(
                _too_big(c, width - 40 if too_wide else None, height - 120 if too_tall else None)
                for c in _laid_out(widget)):
            minimum = widget.minimumSizeHint().expandedTo(widget.minimumSize())
            culprits.append(f"{_name_of(widget)} {minimum.width()} × {minimum.height()}")
    return f" (from {'; '.join(culprits[:6])})" if culprits else ""


def _laid_out(parent: QWidget) -> list[QWidget]:
    """Descendants a layout counts: not hidden, or a page of a stack (a tab not shown)."""
    return [w for w in parent.findChildren(QWidget) if not w.isWindow()
            and (not w.isHidden() or isinstance(w.parentWidget(), QStackedWidget))]


def _too_big(widget: QWidget, width: int | None, height: int | None) -> bool:
    minimum = widget.minimumSizeHint().expandedTo(widget.minimumSize())
    return (width is not None and minimum.width() > width) or (height is not None and minimum.height() > height)


def _name_of(widget: QWidget) -> str:
    parent = widget.parentWidget()
    where = (parent.objectName() or type(parent).__name__) if parent is not None else ""
    return f"{widget.objectName() or type(widget).__name__} in {where}"

