"""Drift over time, as the live engine checks it: every ``DRIFT_CHECK_S`` (and at **Check now**)
the engine compares each machine's last window with the champion's training reference (PSI and
KS per feature, on its own thread, the same checks ``cncwear serve`` runs) and its passes carry
each machine's last check. The checker panel keeps the checks per machine and draws them as a
heatmap; the group trend, the latest check and the predicted P(worn) distribution show the
selected machine's checks it hands on."""

from __future__ import annotations

import time
from collections import deque
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Callable

import numpy as np
from PySide6.QtCore import Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QComboBox, QGroupBox, QHBoxLayout, QLabel, QPushButton

from ...live_service import DRIFT_CHECK_S
from ...state import AppState
from ...widgets import compact_table, fill_box, show_status, table_item, text_label
from ..monitoring_jobs import MonitoringSnapshot
from ..monitoring_plots import LEVEL_BACKGROUND, LEVEL_TEXT, THRESHOLDS, DriftHeatmap, GroupPsiPlot, PredictionHistogram

if TYPE_CHECKING:  # pandas stays off the start-up path
    from ....live.machine_monitor import DriftCheck

DRIFT_HISTORY = 360  # checks kept per machine: an hour at one check every 10 s
TOP_FEATURES = 10
REQUEST_WAIT_S = 2 * DRIFT_CHECK_S  # a requested check that brings nothing is no longer waited for

CheckRequest = Callable[[], None]  # asks the live engine for a drift check in its next pass


class DriftHeatmapPanel(QGroupBox):
    """The drift checker: the engine's checks per machine (from its passes), the machine picker,
    Check now and the heatmap of the selected machine's PSI per feature and check."""

    checks_shown = Signal(object, object)  # (the selected machine or None, its checks with a report)

    def __init__(self, state: AppState, request_check: CheckRequest | None = None, parent=None):
        super().__init__("Drift over time: PSI per feature and check", parent)
        self.state = state
        self.request_check = request_check
        self.snapshot: MonitoringSnapshot | None = None
        self.drift_history: dict[str, deque[DriftCheck]] = {}
        self._columns: list[str] = []  # heatmap rows: the reference's feature columns
        self._seen: dict[str, object] = {}  # machine → the last check taken from a pass
        self._requested_at: float | None = None  # Check now asked, no new check arrived since

        self.machine_box = QComboBox()
        self.machine_box.setMinimumWidth(110)
        self.machine_box.currentIndexChanged.connect(lambda _index: self.show_drift())
        self.check_button = QPushButton("Check now")
        self.check_button.setToolTip(f"Compare every machine's last window with the training data now "
                                     f"(automatically every {DRIFT_CHECK_S} s).")
        self.check_button.clicked.connect(self.check_drift_now)
        self.drift_status = text_label(f"Every {DRIFT_CHECK_S} s each machine's last window (up to 10 minutes) is "
                                       "compared with the champion's training data.")
        self.heatmap = DriftHeatmap()
        picker = QHBoxLayout()
        picker.addWidget(QLabel("Machine"))
        picker.addWidget(self.machine_box)
        picker.addWidget(self.check_button)
        picker.addStretch(1)
        caption = text_label("PSI (population stability index) of each feature's distribution in the window vs the "
                             "training data: grey < 0.1 no real change, amber 0.1–0.25 moderate, red ≥ 0.25 significant. "
                             "A window of one run always differs somewhat from the pooled training runs (feedrate, "
                             "positions): watch for features that turn red and stay red.")
        fill_box(self, picker, self.drift_status, self.heatmap, self.heatmap.hovered, caption, grow=self.heatmap)

    @property
    def waiting(self) -> bool:
        """Check now was asked and its checks have not arrived yet."""
        return self._requested_at is not None and time.monotonic() - self._requested_at < REQUEST_WAIT_S

    @property
    def checked(self) -> bool:
        """A check arrived (or there is no live engine to check) and none asked for is still coming."""
        return (self.request_check is None or any(self.drift_history.values())) and not self.waiting

    def shutdown(self) -> None:
        self._requested_at = None

    def set_snapshot(self, snapshot: MonitoringSnapshot) -> None:
        """A new snapshot: a new champion has its own training reference, so its checks start anew."""
        previous = self.snapshot
        self.snapshot = snapshot
        if previous is not None and (previous.version, previous.reference.feature_set) != (
                snapshot.version, snapshot.reference.feature_set):
            self.drift_history.clear()
        self._columns = list(snapshot.reference.columns)

    def _set_status(self, text: str, failed: bool = False) -> None:
        show_status(self.drift_status, text, "failed" if failed else "")

    def check_drift_now(self) -> None:
        """Ask the live engine to compare every machine's last window with the reference now."""
        if self.request_check is None:
            self._set_status("No live machine windows in this window.")
            return
        snapshot, model = self.snapshot, self.state.model
        if snapshot is None:
            self._set_status("Waiting for the monitoring data (the champion's training reference) …")
            return
        if model is None:
            self._set_status("Waiting for the model …")
            return
        if str(model.version) != snapshot.version or model.feature_set.key != snapshot.reference.feature_set:
            self._set_status(f"Paused: the app predicts with v{model.version}, the training reference is of "
                             f"v{snapshot.version} ({snapshot.reference.feature_set}); waiting for both to match.")
            return
        self._requested_at = time.monotonic()
        self.request_check()

    def on_pass(self, views: list) -> None:
        """A pass of the live engine (``live.engine.MachineView``s): take the checks it brings that
        are new and belong to the snapshot's champion. Cheap when there are none (most passes)."""
        fresh = []
        for view in views:
            check = getattr(view, "drift", None)
            if check is None or self._seen.get(view.machine) is check:
                continue
            self._seen[view.machine] = check
            if self.snapshot is not None and check.model_version == self.snapshot.version:
                fresh.append(check)
        if fresh:
            self._add_checks(fresh)

    def _add_checks(self, checks: list[DriftCheck]) -> None:
        self._requested_at = None
        for check in checks:
            self.drift_history.setdefault(check.machine, deque(maxlen=DRIFT_HISTORY)).append(check)
        known = [self.machine_box.itemText(i) for i in range(self.machine_box.count())]
        for machine in self.drift_history:
            if machine not in known:
                self.machine_box.addItem(machine)
        failed = [c for c in checks if c.error]
        drifted = [c.machine for c in checks if c.report is not None and c.report.drifted]
        when = checks[0].checked_at if checks else datetime.now(timezone.utc)
        text = (f"Last check {when:%H:%M:%S} UTC of {len(checks)} machine(s); next in {DRIFT_CHECK_S} s. "
                + (f"Drifted: {', '.join(drifted)}." if drifted else "No machine's window drifted."))
        if failed:
            text += " ✖ Not compared: " + "; ".join(f"{c.machine}: {c.error}" for c in failed)
        self._set_status(text, failed=bool(failed))
        self.show_drift()

    def selected_machine(self) -> str | None:
        return self.machine_box.currentText() or None

    def show_drift(self) -> None:
        machine = self.selected_machine()
        checks = [c for c in self.drift_history.get(machine, ()) if c.report is not None] if machine else []
        columns = self._columns
        matrix = np.column_stack([c.psi_of(columns) for c in checks]) if checks else np.zeros((len(columns), 0))
        self.heatmap.show_checks(columns, [c.checked_at for c in checks], matrix)
        self.checks_shown.emit(machine, checks)


class GroupTrendPanel(QGroupBox):
    """The largest PSI per feature group over the selected machine's checks."""

    def __init__(self, parent=None):
        super().__init__("Largest PSI per feature group (log scale)", parent)
        self.group_plot = GroupPsiPlot()
        fill_box(self, self.group_plot, grow=self.group_plot)

    def show_checks(self, checks: list[DriftCheck]) -> None:
        self.group_plot.show_series([c.checked_at for c in checks],
                                    {g: [c.report.group_psi.get(g) for c in checks] for g in self.group_plot.curves})


class LatestCheckPanel(QGroupBox):
    """The selected machine's latest check: the verdict, the reasons and the top features."""

    def __init__(self, parent=None):
        super().__init__("Latest check", parent)
        self.drift_verdict = text_label("No drift check yet.")
        bold = QFont()
        bold.setPointSize(11)
        bold.setBold(True)
        self.drift_verdict.setFont(bold)
        self.reasons_label = text_label("")
        self.drift_table = compact_table(("Feature", "Group", "PSI", "KS", "Level"), stretch_last=True)
        fill_box(self, self.drift_verdict, self.reasons_label, self.drift_table, grow=self.drift_table)

    def show_check(self, machine: str | None, check: DriftCheck | None) -> None:
        if check is None or check.report is None:
            show_status(self.drift_verdict, "No drift check yet.")
            self.reasons_label.setText("")
            self.drift_table.setRowCount(0)
            return
        report = check.report
        alarms, compared = len(report.alarms), sum(1 for f in report.features if f.psi is not None)
        warnings = sum(1 for f in report.features if f.level == "warn")
        head = f"{machine} · {check.rows:,} samples · {check.checked_at:%H:%M:%S} UTC: "
        if report.drifted:
            show_status(self.drift_verdict, head + f"◆ DRIFTED ({alarms} of {compared} features at alarm level)", "failed")
        elif alarms or warnings:
            show_status(self.drift_verdict,
                        head + f"▲ some change ({alarms} alarm, {warnings} warn; not drifted as a whole)", "warning")
        else:
            show_status(self.drift_verdict, head + "● no drift")
        self.reasons_label.setText("\n".join(f"• {reason}" for reason in report.reasons) or "• nothing stands out")
        top = report.top(TOP_FEATURES)
        self.drift_table.setRowCount(len(top))
        for row, feature in enumerate(top):
            level = table_item(LEVEL_TEXT[feature.level])
            if LEVEL_BACKGROUND[feature.level] is not None:
                level.setBackground(LEVEL_BACKGROUND[feature.level])
            cells = (table_item(feature.name), table_item(feature.group),
                     table_item("—" if feature.psi is None else f"{feature.psi:.3f}", align_right=True),
                     table_item("—" if feature.ks is None else f"{feature.ks:.3f}", align_right=True), level)
            for column, cell in enumerate(cells):
                self.drift_table.setItem(row, column, cell)


class PredictionShiftPanel(QGroupBox):
    """The latest window's predicted P(worn) distribution against the training reference's."""

    def __init__(self, parent=None):
        super().__init__("Predicted P(worn): this window vs the training data", parent)
        self.prediction_plot = PredictionHistogram()
        self.prediction_caption = text_label("")
        fill_box(self, self.prediction_plot, self.prediction_caption, grow=self.prediction_plot)

    def show_check(self, reference: np.ndarray | None, check: DriftCheck | None, threshold: float) -> None:
        if check is None or check.report is None:
            self.prediction_plot.show_distribution(reference, None, threshold)
            self.prediction_caption.setText("The training reference; this window's bars follow the first check.")
            return
        report = check.report
        self.prediction_plot.show_distribution(reference, check.prediction_fractions, threshold)
        if report.prediction_mean is None:
            self.prediction_caption.setText("No P(worn) for this window.")
        else:
            before = "—" if report.reference_prediction_mean is None else f"{report.reference_prediction_mean:.2f}"
            psi = "—" if report.prediction_psi is None else f"{report.prediction_psi:.2f}"
            level = ("" if report.prediction_psi is None else
                     " ◆ shifted" if report.prediction_psi >= THRESHOLDS.prediction_psi_alarm else " ● within limits")
            self.prediction_caption.setText(f"Mean P(worn): training {before} → window {report.prediction_mean:.2f} · "
                                            f"PSI {psi}{level}. A run of one tool is mostly one class; the training "
                                            "data holds both.")
