"""Edit → Role of this PC…: the PC's role (which views it shows, roles.py) and, for IT, the PIN.

The dialog only collects the choice; the window asks for the PIN where the new role needs it,
applies the role, saves it and writes the audit entries (settings.role_changed,
settings.pin_changed) — MainWindow.change_role."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
)

from ..roles import PIN_ROLES, ROLE_NAMES, ROLES, hash_pin, pin_problem, views_of
from ..settings import Settings


class RoleDialog(QDialog):
    def __init__(self, settings: Settings, current_role: str, parent=None):
        super().__init__(parent)
        self.setWindowTitle("Role of this PC")
        self._settings = settings
        self.role = QComboBox()
        for role in ROLES:
            self.role.addItem(ROLE_NAMES[role], role)
        self.role.setCurrentIndex(max(0, self.role.findData(settings.role)))
        self.views = QLabel()
        self.views.setWordWrap(True)
        self.role.currentIndexChanged.connect(self._show_views)
        protection = ("A PIN is set: every role but Operator needs it." if settings.role_pin_hash else
                      "No PIN is set: anyone can choose any role here (IT sets a PIN).")
        self.protection = QLabel(protection)
        self.protection.setWordWrap(True)
        form = QFormLayout(self)
        form.addRow("Role", self.role)
        form.addRow("Shows", self.views)
        form.addRow(self.protection)
        self.can_set_pin = current_role in PIN_ROLES
        self.new_pin = QLineEdit()
        self.repeat_pin = QLineEdit()
        self.remove_pin = QCheckBox("Remove the PIN (roles no longer protected)")
        for line in (self.new_pin, self.repeat_pin):
            line.setEchoMode(QLineEdit.Password)
            line.setPlaceholderText("4 to 12 digits; empty: unchanged")
        if self.can_set_pin:  # only IT sets, changes or removes the PIN
            form.addRow("New PIN", self.new_pin)
            form.addRow("Repeat the PIN", self.repeat_pin)
            if settings.role_pin_hash:
                form.addRow(self.remove_pin)
        buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)
        self._show_views()

    def _show_views(self) -> None:
        role = self.chosen_role()
        settings = "; Edit → Settings…" if role in ("maintenance", "quality", "it") else "; no settings"
        self.views.setText(", ".join(views_of(role)) + settings)

    def chosen_role(self) -> str:
        return self.role.currentData()

    def pin_problem(self) -> str | None:
        new, repeat = self.new_pin.text().strip(), self.repeat_pin.text().strip()
        if not (new or repeat):
            return None
        if new != repeat:
            return "the two PINs differ"
        return pin_problem(new)

    def new_pin_hash(self) -> str | None:
        """The PIN hash to store: a new hash, "" to remove the PIN, None to leave it as it is."""
        if not self.can_set_pin:
            return None
        if self.remove_pin.isChecked():
            return ""
        new = self.new_pin.text().strip()
        return hash_pin(new) if new else None

    def accept(self) -> None:
        if problem := self.pin_problem():
            QMessageBox.warning(self, "Role of this PC", problem)
            return
        super().accept()
