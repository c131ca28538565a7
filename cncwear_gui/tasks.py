"""Progress and cancellation for long core work, without Qt.

Core functions take an optional ``Task``; the UI layer subclasses nothing, it just passes a Task
whose ``on_progress`` emits a signal and whose ``cancel()`` is wired to a Cancel button.
"""

from __future__ import annotations

import threading
from typing import Callable


class Cancelled(Exception):
    """The user cancelled; whatever was in progress has been rolled back."""


class Task:
    def __init__(self, on_progress: Callable[[float, str], None] | None = None,
                 on_interim: Callable[[object], None] | None = None):
        self._cancel = threading.Event()
        self._on_progress = on_progress
        self._on_interim = on_interim

    def cancel(self) -> None:
        self._cancel.set()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def check(self) -> None:
        if self._cancel.is_set():
            raise Cancelled()

    def child(self, start: float, end: float, label: str = "",
              on_interim: Callable[[object], None] | None = None) -> Task:
        """A task for one step of this one: progress maps into [start, end], cancel is shared;
        interim results go to ``on_interim`` if given (it may pass them on), else up to this task."""
        child = Task(lambda fraction, message: self.progress(start + (end - start) * fraction, label + message),
                     on_interim or self._on_interim)
        child._cancel = self._cancel
        return child

    def uncancellable(self, start: float, end: float, label: str = "") -> Task:
        """A child that reports progress but ignores cancel: for a step that must not stop halfway
        (writing a run to the tracking store). Cancel takes effect after it."""
        return Task(lambda fraction, message: self._report(start + (end - start) * fraction, label + message),
                    self._on_interim)

    def progress(self, fraction: float, message: str = "") -> None:
        """Report progress (0..1) and stop here if cancellation was requested."""
        self.check()
        self._report(fraction, message)

    @property
    def wants_interim(self) -> bool:
        """Someone takes interim results (worth preparing one)."""
        return self._on_interim is not None

    def interim(self, result: object) -> None:
        """Hand over a usable result before the work ends (a model fitted and verified, still being
        registered); the final result still comes as the return value."""
        if self._on_interim is not None:
            self._on_interim(result)

    def _report(self, fraction: float, message: str) -> None:
        if self._on_progress is not None:
            self._on_progress(max(0.0, min(1.0, fraction)), message)


def ensure_task(task: Task | None) -> Task:
    return task if task is not None else Task()
