"""The settings dialog: edits a copy of Settings and returns it only when valid."""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QSpinBox,
    QWidget,
)

from ..settings import THEMES, Settings


class SettingsDialog(QDialog):
    def __init__(self, settings: Settings, parent=None):
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self._original = settings
        self.data_dir = QLineEdit(settings.data_dir)
        self.data_dir.setPlaceholderText("bundled dataset")
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        data_row = QHBoxLayout()
        data_row.addWidget(self.data_dir, 1)
        data_row.addWidget(browse)
        data_widget = QWidget()
        data_widget.setLayout(data_row)
        self.tracking_uri = QLineEdit(settings.mlflow_tracking_uri)
        self.tracking_uri.setPlaceholderText("sqlite in the user data directory")
        self.store_url = QLineEdit(settings.feature_store_url)
        self.store_url.setPlaceholderText("sqlite in the user data directory")
        self.threshold = QDoubleSpinBox()
        self.threshold.setRange(0.01, 0.99)
        self.threshold.setSingleStep(0.05)
        self.threshold.setValue(settings.worn_threshold)
        self.theme = QComboBox()
        self.theme.addItems(THEMES)
        self.theme.setCurrentText(settings.theme)
        self.bind = QLineEdit(settings.metrics_bind_address)
        self.port = QSpinBox()
        self.port.setRange(1, 65535)
        self.port.setValue(settings.metrics_port)

        form = QFormLayout(self)
        form.addRow("Data directory", data_widget)
        form.addRow("MLflow tracking URI", self.tracking_uri)
        form.addRow("Feature store URL", self.store_url)
        form.addRow("Worn threshold", self.threshold)
        form.addRow("Theme", self.theme)
        form.addRow("Metrics bind address", self.bind)
        form.addRow("Metrics port", self.port)
        buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def edited(self) -> Settings:
        return replace(
            self._original,
            data_dir=self.data_dir.text().strip(),
            mlflow_tracking_uri=self.tracking_uri.text().strip(),
            feature_store_url=self.store_url.text().strip(),
            worn_threshold=round(self.threshold.value(), 4),
            theme=self.theme.currentText(),
            metrics_bind_address=self.bind.text().strip() or "127.0.0.1",
            metrics_port=self.port.value(),
        )

    def accept(self) -> None:
        problems = self.edited().validate()
        if problems:
            QMessageBox.warning(self, "Settings", "\n".join(problems))
            return
        super().accept()

    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Data directory", self.data_dir.text())
        if folder:
            self.data_dir.setText(folder)
