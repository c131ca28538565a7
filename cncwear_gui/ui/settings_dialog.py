"""The settings dialog: edits a copy of Settings and returns it only when valid.

A folder that is not there (a network share not mounted yet) is a warning under the form, never a
reason to refuse: the folder may be there later."""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
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
        self.window = QSpinBox()
        self.window.setRange(1, 6000)
        self.window.setSuffix(" samples")
        self.window.setValue(settings.smoothing_window)
        self.window.setToolTip("The P(worn) trend is the mean of this many samples (10 per second); the wear light follows the run's verdict.")
        self.alarm_delay = QSpinBox()
        self.alarm_delay.setRange(1, 6000)
        self.alarm_delay.setSuffix(" samples")
        self.alarm_delay.setValue(settings.alarm_delay_samples)
        self.alarm_delay.setToolTip("The alarm is raised when the run's tool verdict stays WORN this many samples.")
        self.teach_runs = QSpinBox()
        self.teach_runs.setRange(1, 100)
        self.teach_runs.setSuffix(" run(s)")
        self.teach_runs.setValue(settings.teach_runs)
        self.teach_runs.setToolTip("A teach-in learns the setup's reference from this many good runs.")
        self.relearn = QCheckBox("a tool change starts a teach-in of the new tool")
        self.relearn.setChecked(settings.relearn_after_tool_change)
        self.taught_warn = QDoubleSpinBox()
        self.taught_warn.setRange(1, 999)
        self.taught_warn.setDecimals(0)
        self.taught_warn.setSuffix(" % over taught")
        self.taught_warn.setValue(settings.taught_warn_pct)
        self.taught_alarm = QDoubleSpinBox()
        self.taught_alarm.setRange(1, 999)
        self.taught_alarm.setDecimals(0)
        self.taught_alarm.setSuffix(" % over taught")
        self.taught_alarm.setValue(settings.taught_alarm_pct)
        self.taught_delay = QSpinBox()
        self.taught_delay.setRange(1, 1000)
        self.taught_delay.setSuffix(" windows of 2 s")
        self.taught_delay.setValue(settings.taught_delay_windows)
        self.taught_delay.setToolTip("The taught monitor's alarm needs this many windows in a row over the alarm limit.")
        self.alarm_sound = QCheckBox("beep when an alarm is raised")
        self.alarm_sound.setChecked(settings.alarm_sound)
        self.kiosk = QCheckBox("start in operator kiosk mode (full screen; leaving needs the PIN)")
        self.kiosk.setChecked(settings.kiosk)
        self.kiosk.setToolTip("As cncwear gui --kiosk: the Operator and Alarms views and the operator's actions only, "
                              "from the next start. The PIN: Edit → Role of this PC… (IT).")
        self.machines = QPlainTextEdit("\n".join(settings.machines))
        self.machines.setPlaceholderText("one machine per line, ID=SOURCE, e.g.\nmill-1=opc.tcp://192.168.0.20:4840\n"
                                         "mill-2=tail:/data/logger/mill2.csv?feedrate=6&clamp_pressure=4\n"
                                         "empty: eight demo machines replaying the loaded dataset")
        self.machines.setFixedHeight(90)
        self.demo_speed = QDoubleSpinBox()
        self.demo_speed.setRange(0.1, 100)
        self.demo_speed.setSuffix(" ×")
        self.demo_speed.setValue(settings.demo_replay_speed)
        self.theme = QComboBox()
        self.theme.addItems(THEMES)
        self.theme.setCurrentText(settings.theme)
        self.bind = QLineEdit(settings.metrics_bind_address)
        self.port = QSpinBox()
        self.port.setRange(1, 65535)
        self.port.setValue(settings.metrics_port)
        self.bind.setToolTip("127.0.0.1: only this PC can scrape (default). 0.0.0.0: every network interface (LAN).")
        self.tls_cert = QLineEdit(settings.metrics_tls_cert)
        self.tls_cert.setPlaceholderText("none: plain HTTP")
        self.tls_key = QLineEdit(settings.metrics_tls_key)
        self.tls_key.setPlaceholderText("the certificate's private key (PEM)")
        self.pipeline_engine = QComboBox()
        self.pipeline_engine.addItems(["flaml", "auto-sklearn"])
        self.pipeline_engine.setCurrentText(settings.pipeline_engine)
        self.pipeline_budget = QSpinBox()
        self.pipeline_budget.setRange(5, 24 * 3600)
        self.pipeline_budget.setSuffix(" s")
        self.pipeline_budget.setValue(settings.pipeline_budget_s)
        self.dask = QLineEdit(settings.dask_scheduler)
        self.dask.setPlaceholderText("none: auto-sklearn trains on this PC (e.g. tcp://dask-host:8786)")
        self.dask.setToolTip("auto-sklearn fits its candidates on this Dask cluster; FLAML always trains on this PC")
        self.schedule = QDoubleSpinBox()
        self.schedule.setRange(0, 24 * 365)
        self.schedule.setSuffix(" h")
        self.schedule.setSpecialValueText("off")
        self.schedule.setValue(settings.pipeline_schedule_hours)
        self.watch_dir = QLineEdit(settings.pipeline_watch_dir)
        self.watch_dir.setPlaceholderText("none: no new-data trigger")
        self.degradation = QDoubleSpinBox()
        self.degradation.setRange(0.05, 1.0)
        self.degradation.setSingleStep(0.05)
        self.degradation.setValue(settings.degradation_accuracy)
        self.min_labels = QSpinBox()
        self.min_labels.setRange(1, 10000)
        self.min_labels.setValue(settings.degradation_min_labels)

        self.folder_warning = QLabel()  # missing folders: saved all the same
        self.folder_warning.setObjectName("folderWarning")
        self.folder_warning.setWordWrap(True)
        self.data_dir.textChanged.connect(self._show_folder_problems)
        self.watch_dir.textChanged.connect(self._show_folder_problems)
        self._show_folder_problems()

        form = QFormLayout(self)
        form.addRow("Data directory", data_widget)
        form.addRow("MLflow tracking URI", self.tracking_uri)
        form.addRow("Feature store URL", self.store_url)
        form.addRow("Worn threshold", self.threshold)
        form.addRow("Smoothing window", self.window)
        form.addRow("Alarm delay", self.alarm_delay)
        form.addRow("Alarm sound", self.alarm_sound)
        form.addRow("Kiosk mode", self.kiosk)
        form.addRow("Teach-in learns from", self.teach_runs)
        form.addRow("Tool change", self.relearn)
        form.addRow("Taught warning limit", self.taught_warn)
        form.addRow("Taught alarm limit", self.taught_alarm)
        form.addRow("Taught alarm delay", self.taught_delay)
        form.addRow("Machines", self.machines)
        form.addRow("Demo replay speed", self.demo_speed)
        form.addRow("Theme", self.theme)
        form.addRow("Metrics bind address", self.bind)
        form.addRow("Metrics port", self.port)
        form.addRow("Metrics TLS certificate", self.tls_cert)
        form.addRow("Metrics TLS key", self.tls_key)
        form.addRow("Retraining engine", self.pipeline_engine)
        form.addRow("Retraining budget", self.pipeline_budget)
        form.addRow("Dask scheduler (auto-sklearn)", self.dask)
        form.addRow("Retrain every", self.schedule)
        form.addRow("Watched folder (new data)", self.watch_dir)
        form.addRow("Retrain below feedback accuracy", self.degradation)
        form.addRow("… judged on at least (labels)", self.min_labels)
        buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(self.folder_warning)
        form.addRow(buttons)

    def edited(self) -> Settings:
        return replace(
            self._original,
            data_dir=self.data_dir.text().strip(),
            mlflow_tracking_uri=self.tracking_uri.text().strip(),
            feature_store_url=self.store_url.text().strip(),
            worn_threshold=round(self.threshold.value(), 4),
            smoothing_window=self.window.value(),
            alarm_delay_samples=self.alarm_delay.value(),
            alarm_sound=self.alarm_sound.isChecked(),
            kiosk=self.kiosk.isChecked(),
            machines=[line.strip() for line in self.machines.toPlainText().splitlines() if line.strip()],
            demo_replay_speed=round(self.demo_speed.value(), 2),
            theme=self.theme.currentText(),
            metrics_bind_address=self.bind.text().strip() or "127.0.0.1",
            metrics_port=self.port.value(),
            metrics_tls_cert=self.tls_cert.text().strip(),
            metrics_tls_key=self.tls_key.text().strip(),
            pipeline_engine=self.pipeline_engine.currentText(),
            pipeline_budget_s=self.pipeline_budget.value(),
            dask_scheduler=self.dask.text().strip(),
            pipeline_schedule_hours=round(self.schedule.value(), 4),
            pipeline_watch_dir=self.watch_dir.text().strip(),
            degradation_accuracy=round(self.degradation.value(), 4),
            degradation_min_labels=self.min_labels.value(),
            teach_runs=self.teach_runs.value(),
            relearn_after_tool_change=self.relearn.isChecked(),
            taught_warn_pct=round(self.taught_warn.value(), 1),
            taught_alarm_pct=round(self.taught_alarm.value(), 1),
            taught_delay_windows=self.taught_delay.value(),
        )

    def folder_problems(self) -> list[str]:
        """Folders that are not there now, each with what that means; they do not stop Save."""
        edited = self.edited()
        problems = []
        if problem := edited.data_dir_problem():
            problems.append(f"{problem} (now): it is saved all the same; until it is there, the Data view says so")
        if problem := edited.watch_dir_problem():
            problems.append(f"{problem} (now): it is saved all the same; until it is there, the new-data trigger waits")
        return problems

    def _show_folder_problems(self) -> None:
        problems = self.folder_problems()
        self.folder_warning.setText("\n".join(f"⚠ {problem}" for problem in problems))
        self.folder_warning.setVisible(bool(problems))

    def accept(self) -> None:
        from ..live.sources import machine_list_problems  # pandas stays off the start-up path

        edited = self.edited()
        problems = edited.validate() + machine_list_problems(edited.machines)
        if problems:
            QMessageBox.warning(self, "Settings", "\n".join(problems))
            return
        super().accept()

    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Data directory", self.data_dir.text())
        if folder:
            self.data_dir.setText(folder)
