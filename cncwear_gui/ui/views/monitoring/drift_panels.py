"""Drift over time, as the live engine checks it: every ``DRIFT_CHECK_S`` (and at **Check now**)
the engine compares each machine's last window with the champion's training runs of the same
setup (PSI and KS per feature and phase, on its own thread, the same checks ``cncwear serve``
runs) and its passes carry each machine's last check. A machine whose setup the champion never
trained on is named as *unfamiliar* (no drift judgement), apart from drifted and OK machines.
The checker panel keeps the checks per machine and draws them as a heatmap; the group trend, the
latest check and the predicted P(worn) distribution show the selected machine's checks it hands
on."""

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
        self._columns: list[str] = []  # heatmap rows: the per-setup reference's feature columns
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
                                       "compared with the champion's training runs of the same setup.")
        self.unfamiliar_label = text_label("")  # machines whose setup the champion never trained on
        self.unfamiliar_label.setVisible(False)
        self.heatmap = DriftHeatmap()
        picker = QHBoxLayout()
        picker.addWidget(QLabel("Machine"))
        picker.addWidget(self.machine_box)
        picker.addWidget(self.check_button)
        picker.addStretch(1)
        caption = text_label("PSI (population stability index) of each feature in the window vs the nearest training "
                             "run of the same setup, phase by phase: grey < 0.1 no real change, amber 0.1–0.25 moderate, "
                             "red ≥ 0.25 significant. Watch for features that turn red and stay red. An empty column: "
                             "not judged (an unfamiliar setup, or no whole phase in the window yet).")
        fill_box(self, picker, self.drift_status, self.unfamiliar_label, self.heatmap, self.heatmap.hovered, caption,
                 grow=self.heatmap)

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
        self._columns = list(snapshot.setup_reference.columns)

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
        # the status says every machine's latest check: the engine's periodic checks come one machine per pass
        latest = [c for c in (self.latest_of(machine) for machine in self.drift_history) if c is not None]
        failed = [c for c in latest if c.error]
        states = {state: [c for c in latest if c.state == state] for state in ("drifted", "ok", "unfamiliar")}
        when = max(c.checked_at for c in latest) if latest else datetime.now(timezone.utc)
        text = (f"Last check {when:%H:%M:%S} UTC; {len(latest)} machine(s), each every {DRIFT_CHECK_S} s. "
                + (f"◆ Drifted: {', '.join(c.machine for c in states['drifted'])}." if states["drifted"]
                   else "No machine's window drifted.")
                + (f" ● No drift: {', '.join(c.machine for c in states['ok'])}." if states["ok"] else ""))
        show_status(self.unfamiliar_label, "\n".join(f"? {unfamiliar_text(c)}" for c in states["unfamiliar"]),
                    "warning")
        self.unfamiliar_label.setVisible(bool(states["unfamiliar"]))
        if failed:
            text += " ✖ Not compared: " + "; ".join(f"{c.machine}: {c.error}" for c in failed)
        self._set_status(text, failed=bool(failed))
        selected = self.selected_machine()
        if selected is None or any(c.machine == selected for c in checks):
            self.show_drift()

    def latest_of(self, machine: str) -> DriftCheck | None:
        checks = self.drift_history.get(machine)
        return checks[-1] if checks else None

    def selected_machine(self) -> str | None:
        return self.machine_box.currentText() or None

    def show_drift(self) -> None:
        machine = self.selected_machine()
        checks = [c for c in self.drift_history.get(machine, ()) if c.report is not None] if machine else []
        columns = self._columns
        matrix = np.column_stack([c.psi_of(columns) for c in checks]) if checks else np.zeros((len(columns), 0))
        self.heatmap.show_checks(columns, [c.checked_at for c in checks], matrix)
        self.checks_shown.emit(machine, checks)


def unfamiliar_text(check: DriftCheck) -> str:
    """"Mill 3: setup feed 20 · clamp 2.5 is unfamiliar to model v4 — no drift judgement"."""
    version = f"model v{check.model_version}" if check.model_version else "the model"
    return f"{check.machine}: setup {check.setup} is unfamiliar to {version} — no drift judgement"


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
        head = f"{machine} · {check.setup} · {check.rows:,} samples · {check.checked_at:%H:%M:%S} UTC: "
        if check.state == "unfamiliar":
            show_status(self.drift_verdict, "? " + unfamiliar_text(check), "warning")
            self.reasons_label.setText("• The champion has no training run of this setup (feed rate, clamp pressure), "
                                       "so there is nothing of this job to compare with; this is not drift. Train on "
                                       f"runs of it to have it judged.{left_out_text(check)}")
            self.drift_table.setRowCount(0)
            return
        if report.drifted:
            show_status(self.drift_verdict, head + f"◆ DRIFTED ({alarms} of {compared} features at alarm level)", "failed")
        elif alarms or warnings:
            show_status(self.drift_verdict,
                        head + f"▲ some change ({alarms} alarm, {warnings} warn; not drifted as a whole)", "warning")
        elif check.state == "not_judged":
            show_status(self.drift_verdict, head + "○ not judged yet")
        else:
            show_status(self.drift_verdict, head + "● no drift")
        self.reasons_label.setText(("\n".join(f"• {reason}" for reason in report.reasons) or "• nothing stands out")
                                   + left_out_text(check))
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


def left_out_text(check: DriftCheck) -> str:
    return (f"\n• {check.left_out:,} older samples of another setup in the window were left out."
            if check.left_out else "")


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
            shift = ("" if report.prediction_psi is None else f" · PSI {report.prediction_psi:.2f}" + (
                " ◆ shifted" if report.prediction_psi >= THRESHOLDS.prediction_psi_alarm else " ● within limits"))
            self.prediction_caption.setText(f"Mean P(worn) of this window {report.prediction_mean:.2f}{shift}. A run "
                                            "of one tool is mostly one class and the training data holds both, so the "
                                            "bars are shown, not judged as drift.")
