"""The operator kiosk mode and the PIN pad: touch targets sized in millimetres at the screen's DPI.

Kiosk mode (``cncwear gui --kiosk``, or the setting ``kiosk``) is the window of a panel PC at the
machine: full screen, no menus and no status bar, two big tabs (Operator and Alarms), and only the
operator's actions: Acknowledge, False alarm, Shelve and Tool changed. Every button, tab and field
is at least ``TOUCH_TARGET_MM`` high at the screen's physical DPI. Leaving it (the small **Exit
kiosk…** button at the tabs' right) needs the PIN where IT set one (roles.py). The window applies
it (MainWindow.set_kiosk); this module holds what kiosk mode means for the widgets.
"""

from __future__ import annotations

import math

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QDialog, QGridLayout, QLabel, QLineEdit, QPushButton, QVBoxLayout

TOUCH_TARGET_MM = 10.0  # a fingertip: the smallest touch target (ISO 9241-410 suggests at least 9.5 mm)
MIN_TOUCH_PX = 40  # never smaller than the app's normal buttons
PLAUSIBLE_DPI = (50.0, 1000.0)  # outside this the screen reports no usable physical size (no EDID, a VM)
KIOSK_VIEWS = ("Operator", "Alarms")
KIOSK_FONT_PT = 14


def touch_target_px(screen=None, mm: float = TOUCH_TARGET_MM) -> int:
    """``mm`` in the window's (device-independent) pixels on ``screen``. Qt's physicalDotsPerInch is
    those pixels per physical inch (the screen's size over its physical size), so at 150 % scaling
    the figure is the same on the glass. A screen that reports no plausible physical size is taken
    at its logical DPI (96 at 100 %), which is about right for panel PCs (15.6" 1366 × 768: 100 dpi)."""
    screen = screen or QGuiApplication.primaryScreen()
    dpi = screen.physicalDotsPerInch() if screen is not None else 0.0
    if not PLAUSIBLE_DPI[0] <= dpi <= PLAUSIBLE_DPI[1]:
        dpi = screen.logicalDotsPerInch() if screen is not None else 96.0
    return max(MIN_TOUCH_PX, math.ceil(mm / 25.4 * dpi))


def kiosk_style_sheet(px: int) -> str:
    """Buttons, tabs, fields and check boxes at least ``px`` (the touch target) high; set on the window,
    so the dialogs it opens (Acknowledge, Tool change, the PIN pad) get it too."""
    return (f"QPushButton {{ min-height: {px}px; min-width: {px}px; font-size: {KIOSK_FONT_PT}pt; padding: 0 16px; }} "
            f"#machineTile QPushButton {{ font-size: {KIOSK_FONT_PT - 2}pt; padding: 0 10px; }} "  # two on a tile's row
            f"#exitKiosk {{ font-size: {KIOSK_FONT_PT - 4}pt; }} "  # maintenance's way out: touch-sized, not prominent
            f"QTabBar::tab {{ min-height: {px}px; min-width: {4 * px}px; font-size: {KIOSK_FONT_PT + 4}pt; }} "
            f"QComboBox, QLineEdit {{ min-height: {px}px; font-size: {KIOSK_FONT_PT}pt; }} "
            f"QCheckBox {{ min-height: {px}px; font-size: {KIOSK_FONT_PT}pt; }} "
            f"QCheckBox::indicator {{ width: {px * 2 // 3}px; height: {px * 2 // 3}px; }} "
            f"QTableView {{ font-size: {KIOSK_FONT_PT}pt; }}")  # the header keeps its font: its columns size to it


def apply_kiosk_to_alarms(view, on: bool, row_px: int) -> None:
    """The Alarms view in kiosk mode: the list and Acknowledge, False alarm, Shelve (for the time in its
    box, 30 minutes unless maintenance set another) and Tool changed; no Unshelve, no duration box,
    no audit trail and no Export (maintenance reads and exports them on its own PC). Rows a finger can pick."""
    view.unshelve_button.setVisible(not on)
    view.export_button.setVisible(not on)
    view.shelve_minutes.setVisible(not on)
    for label in view.findChildren(QLabel):
        if label.text() == "for":  # "… Shelve for [30 min]": the duration box's label
            label.setVisible(not on)
    audit_pane = view.audit.parentWidget()
    if audit_pane is not None:
        audit_pane.setVisible(not on)
    header = view.table.verticalHeader()
    if not hasattr(view, "normal_row_px"):
        view.normal_row_px = header.defaultSectionSize()
    header.setDefaultSectionSize(row_px if on else view.normal_row_px)


class PinDialog(QDialog):
    """The PIN, typed or touched on a keypad (a panel PC has no keyboard). The caller checks it."""

    def __init__(self, title: str, text: str, parent=None):
        super().__init__(parent)
        self.setWindowTitle(title)
        self.message = QLabel(text)
        self.message.setWordWrap(True)
        self.pin = QLineEdit()
        self.pin.setEchoMode(QLineEdit.Password)
        self.pin.setPlaceholderText("PIN")
        self.pin.setAlignment(Qt.AlignCenter)
        self.pin.returnPressed.connect(self.accept)
        pad = QGridLayout()
        self.keys: dict[str, QPushButton] = {}
        for index, key in enumerate(("1", "2", "3", "4", "5", "6", "7", "8", "9", "⌫", "0", "OK")):
            button = QPushButton(key)
            button.setAutoDefault(False)
            button.clicked.connect(lambda _=False, key=key: self._key(key))
            pad.addWidget(button, index // 3, index % 3)
            self.keys[key] = button
        cancel = QPushButton("Cancel")
        cancel.setAutoDefault(False)
        cancel.clicked.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.message)
        layout.addWidget(self.pin)
        layout.addLayout(pad)
        layout.addWidget(cancel)

    def _key(self, key: str) -> None:
        if key == "OK":
            self.accept()
        elif key == "⌫":
            self.pin.backspace()
        else:
            self.pin.insert(key)

    def text(self) -> str:
        return self.pin.text().strip()
