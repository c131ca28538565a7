"""Running core work off the GUI thread: one task at a time, progress, cancel, errors shown.

Core functions take a ``cncwear_gui.tasks.Task``; ``TaskRunner`` gives them one whose progress
(and interim results) become Qt signals and whose cancel flag is set by ``cancel()``. Starting a
new task cancels the running one; ``shutdown()`` cancels and waits, for closing windows.
"""

from __future__ import annotations

import logging
from typing import Callable

from PySide6.QtCore import QObject, Signal
from superqt.utils import create_worker

from ..tasks import Cancelled, Task
from .gc_pauses import freeze_after_imports

log = logging.getLogger(__name__)


class TaskRunner(QObject):
    progress = Signal(float, str)
    interim = Signal(object)  # Task.interim(result) of the running task, in the GUI thread
    succeeded = Signal(object)
    failed = Signal(str)
    cancelled = Signal()
    running_changed = Signal(bool)
    _interim_from_worker = Signal(object, object)  # (task, result): queued to the GUI thread

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._task: Task | None = None
        self._worker = None
        self._interim_from_worker.connect(self._forward_interim)

    @property
    def running(self) -> bool:
        return self._task is not None

    def start(self, function: Callable, *args, **kwargs) -> None:
        """Run ``function(*args, task=..., **kwargs)`` in the thread pool."""
        self.cancel()
        task = Task(on_progress=lambda fraction, message: self.progress.emit(fraction, message),
                    on_interim=lambda result: self._interim_from_worker.emit(task, result))
        self._task = task
        self.running_changed.emit(True)
        # Handlers passed in _connect (not connected later), or superqt re-raises errors.
        self._worker = create_worker(
            function,
            *args,
            task=task,
            _connect={
                "returned": lambda result, t=task: self._finish(t, result),
                "errored": lambda error, t=task: self._fail(t, error),
            },
            **kwargs,
        )

    def cancel(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self._task, self._worker = None, None
            self.running_changed.emit(False)
            self.cancelled.emit()

    def shutdown(self, timeout_ms: int = 10_000) -> None:
        from superqt.utils._qthreading import WorkerBase

        self.cancel()
        try:
            WorkerBase.await_workers(timeout_ms)
        except RuntimeError as error:  # a step that cannot be interrupted (a model load, an import): close anyway
            log.warning("closing with a background task still running: %s", error)

    def _forward_interim(self, task: Task, result) -> None:
        if task is self._task:  # not from a task cancelled or replaced since
            self.interim.emit(result)

    def _finish(self, task: Task, result) -> None:
        if task is not self._task:  # a cancelled task finished late: ignore its result
            return
        self._task, self._worker = None, None
        freeze_after_imports()  # what the task imported stays loaded: keep it out of full collections
        self.succeeded.emit(result)
        self.running_changed.emit(False)

    def _fail(self, task: Task, error: BaseException) -> None:
        if task is not self._task or isinstance(error, Cancelled):
            return
        log.error("background task failed", exc_info=error)
        self._task, self._worker = None, None
        self.running_changed.emit(False)
        self.failed.emit(f"{type(error).__name__}: {error}")
