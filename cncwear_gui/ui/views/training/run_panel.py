"""A training run: the search in its worker with live progress (candidates, best score, elapsed
time against the budget, the score curve), then the run's summary.

The search reports each candidate from its worker thread through ``on_event``; the panel
re-emits it as a Qt signal (queued to the GUI thread) tagged with the run's number, so a cancelled
run's late events are ignored. Redraws are throttled by a timer."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QElapsedTimer, Qt, QTimer, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QVBoxLayout, QWidget

from ...widgets import show_status
from ...workers import TaskRunner
from ..score_curve import ScoreCurve
from ..training_jobs import GATE_METRIC, TrainingOutcome, train_in_worker
from .search_panel import ENGINE_NAMES

if TYPE_CHECKING:
    from ....automl.jobs import JobEvent

REDRAW_MS = 250
PROTOCOL_SHORT = {"loeo": "LOEO (unseen tools)", "seed": "seed (random rows, optimistic)"}


def search_time(result) -> float:
    """Seconds the search itself took (the run's search_seconds also counts the evaluation)."""
    return float(next((e.data["elapsed_s"] for e in result.events if e.kind == "done" and "elapsed_s" in e.data),
                      result.search_seconds))


def summary(result) -> str:
    """One run in a line or two: the search, LOEO first (the honest figure), then seed, the registration."""
    parts = [f"✔ {ENGINE_NAMES[result.engine]} tried {result.trials} candidates in {search_time(result):.0f} s "
             f"on {result.feature_set}"]
    if result.ensemble:
        parts[0] += f"; best: {result.ensemble[0]['model']}" + (f" (+{len(result.ensemble) - 1} in the ensemble)" if len(result.ensemble) > 1 else "")
    for protocol in sorted(result.evaluations, key=lambda p: p != "loeo"):  # the honest figure first
        evaluation = result.evaluations[protocol]
        text = f"{PROTOCOL_SHORT.get(protocol, protocol)} accuracy {evaluation.metrics['accuracy']:.1%}"
        if protocol == "loeo":
            text += f" ({evaluation.experiments_correct}/{len(evaluation.verdicts)} experiments right)"
        parts.append(text)
    parts.append(f"registered as v{result.model_version} (challenger)" if result.model_version else "logged, not registered")
    return " · ".join(parts)


class RunPanel(QWidget):
    """The run's status line and progress; its score curve (``curve``) is drawn where the view puts
    it (the view's splitter, beside the result tables)."""

    trained = Signal(object)  # TrainingOutcome, once the run's summary is shown
    _job_event = Signal(int, object)  # (run number, JobEvent), emitted from the worker thread

    def __init__(self, parent=None):
        super().__init__(parent)
        self.outcome: TrainingOutcome | None = None
        self._run = 0
        self._budget_s = 60
        self._engine = "flaml"
        self._search_done = False
        self.trial_count = 0
        self.best_score: float | None = None
        self.best_model = ""
        self._clock = QElapsedTimer()
        self._search_elapsed = 0.0
        self.trainer = TaskRunner(self)

        self.status = QLabel("Choose an engine and a time budget, then Start training.")
        self.status.setObjectName("viewTitle")
        self.status.setWordWrap(True)
        self.status.ensurePolished()  # its font comes from the style sheet
        # two lines from the start: the run's summary then fits without shrinking (and re-laying out
        # and re-drawing) the plot and the tables in the frame that shows the results
        self.status.setMinimumHeight(2 * self.status.fontMetrics().lineSpacing())
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setFormat("idle")
        self.live = QLabel("elapsed — · 0 candidates · best —")
        self.curve = ScoreCurve()
        progress_row = QHBoxLayout()
        progress_row.addWidget(self.progress, 1)
        progress_row.addWidget(self.live, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.status)
        layout.addLayout(progress_row)

        self._timer = QTimer(self)
        self._timer.setInterval(REDRAW_MS)
        self._timer.timeout.connect(self._redraw)
        self._job_event.connect(self._on_job_event, Qt.QueuedConnection)
        self.trainer.progress.connect(self._on_train_progress)
        self.trainer.succeeded.connect(self._on_trained)
        self.trainer.failed.connect(lambda message: self._finish(f"✖ Training failed: {message}", failed=True))
        self.trainer.cancelled.connect(lambda: self._finish("■ Training cancelled — the view is idle again."))

    def start(self, dataset, choices: dict) -> None:
        self._run += 1
        run = self._run
        self._budget_s = choices["budget_s"]
        self._engine = choices["engine"]
        self._search_done = False
        self._search_elapsed = 0.0
        self._clock.invalidate()
        self.trial_count, self.best_score, self.best_model = 0, None, ""
        self.curve.reset(self._budget_s, GATE_METRIC)
        show_status(self.status, f"Training with {ENGINE_NAMES[choices['engine']]} on {choices['feature_set']}: "
                                 f"preparing the training table …")
        self.progress.setValue(0)
        self.progress.setFormat("preparing")
        self.live.setText(f"elapsed 0 s of {self._budget_s} s · 0 candidates · best —")
        self._timer.start()
        self.trainer.start(train_in_worker, dataset, choices,
                           on_event=lambda event, run=run: self._job_event.emit(run, event))

    def cancel(self) -> None:
        self.trainer.cancel()

    def _on_job_event(self, run: int, event: JobEvent) -> None:
        if run != self._run or not self.trainer.running:
            return  # a cancelled run finishing late
        data = event.data
        if event.kind == "started":
            self._clock.start()
            self.status.setText(f"Searching with {ENGINE_NAMES[self._engine]} on "
                                f"{data.get('rows', 0):,} rows × {data.get('features', '?')} features …")
        elif event.kind == "trial":
            self.trial_count = int(data.get("n", self.trial_count + 1))
            self.curve.add_trial(data.get("elapsed_s", 0.0), data.get("score"))
        elif event.kind == "best":
            self.best_score, self.best_model = data.get("score"), str(data.get("model", ""))
        elif event.kind == "done":
            self._search_done = True
            self._search_elapsed = float(data.get("elapsed_s", self._elapsed()))
            self.status.setText("Search finished; evaluating the found model (seed split, then leave one experiment out) …")

    def _elapsed(self) -> float:
        if self._search_done:
            return self._search_elapsed
        return self._clock.elapsed() / 1000 if self._clock.isValid() else 0.0

    def _on_train_progress(self, fraction: float, message: str) -> None:
        if self._search_done:  # evaluation and logging: the task's own progress
            self.progress.setValue(int(fraction * 1000))
            self.progress.setFormat(message or "%p%")

    def _redraw(self) -> None:
        elapsed = self._elapsed()
        if not self._search_done:
            self.progress.setValue(int(min(1.0, elapsed / max(1, self._budget_s)) * 1000))
            self.progress.setFormat(f"search: {elapsed:.0f} s of {self._budget_s} s" if self._clock.isValid() else "preparing")
        best = "—" if self.best_score is None else f"{self.best_score:.4f} ({self.best_model})"
        clock = (f"search took {elapsed:.0f} s (budget {self._budget_s} s)" if self._search_done
                 else f"elapsed {elapsed:.0f} s of {self._budget_s} s")
        self.live.setText(f"{clock} · {self.trial_count} candidates · best {best}")
        self.curve.refresh(None if self._search_done else elapsed)

    def _finish(self, text: str, failed: bool = False) -> None:
        self._timer.stop()
        self._redraw()
        show_status(self.status, text, "failed" if failed else "")
        self.progress.setValue(0)
        self.progress.setFormat("failed" if failed else "cancelled" if text.startswith("■") else "done")

    def _on_trained(self, outcome: TrainingOutcome) -> None:
        self.outcome = outcome
        result = outcome.result
        self._search_done = True
        self._search_elapsed = search_time(result)
        self._finish(summary(result))
        self.progress.setValue(1000)
        self.trained.emit(outcome)
