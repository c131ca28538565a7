"""Following champion promotions made outside this window.

Every promotion (the gate, ``cncwear promote``, a pipeline run by hand, by the trigger watcher or
on another PC that shares the store, the first-start champion) is written to the audit trail as
``model.promoted``. ``check()`` reads the newest such entry in a worker; when it names a version
other than the one the window serves, ``promoted`` is emitted once for that entry, and the window
loads the champion again. The registry stays the truth: the reload asks it, not the audit entry.
A failing read is logged and retried after ``RETRY_AFTER_FAILURE_S``. The audit trail is opened
once per store URL (opening checks and creates tables, a write) and then only read.
"""

from __future__ import annotations

import logging
import time
from typing import Callable

from PySide6.QtCore import QObject, Signal

from ..backoff import Backoff
from .workers import TaskRunner

log = logging.getLogger(__name__)

RETRY_AFTER_FAILURE_S = 60.0


class PromotionFollower(QObject):
    promoted = Signal(object)  # the AuditEntry of a promotion to a version this window does not serve

    def __init__(self, served_version: Callable[[], str | None], loading: Callable[[], bool], parent=None):
        super().__init__(parent)
        self._served_version, self._loading = served_version, loading
        self._handled_id: int | None = None
        self._settled = False  # a read made while nothing was loading
        self._retry_at = 0.0
        self._retry_delay = Backoff(first=RETRY_AFTER_FAILURE_S, cap=RETRY_AFTER_FAILURE_S, factor=1.0)
        self._trail, self._trail_url = None, None  # used by one worker at a time (see check)
        self.runner = TaskRunner(self)
        self.runner.succeeded.connect(self._on_newest)
        self.runner.failed.connect(self._on_failed)

    def check(self, store_url: str) -> None:
        if not self.runner.running and time.monotonic() >= self._retry_at:
            self.runner.start(self._newest_promotion, store_url)

    def close(self) -> None:
        self.runner.shutdown()
        if self._trail is not None:
            self._trail.close()

    def _newest_promotion(self, store_url: str, task=None):
        """In a worker: the audit trail's newest ``model.promoted`` entry, or None."""
        if self._trail is None or self._trail_url != store_url:
            from ..store.audit_trail import AuditTrail

            if self._trail is not None:
                self._trail.close()
            self._trail, self._trail_url = None, None  # if opening fails, the next check opens again
            self._trail, self._trail_url = AuditTrail(store_url or None), store_url
        entries = self._trail.entries(limit=1, action_prefix="model.promoted")
        return entries[0] if entries else None

    def _on_newest(self, entry) -> None:
        self._retry_delay.reset()
        if self._loading():
            return  # a load under way may pick it up already: look again next time
        first, self._settled = not self._settled, True
        if entry is None or entry.id == self._handled_id:
            return
        if first and self._served_version() is None:  # the start-up load failed with it in place: no retry
            self._handled_id = entry.id
            return
        if entry.new_value != self._served_version():
            log.info("champion v%s promoted by %s on %s at %s: loading it", entry.new_value, entry.os_user,
                     entry.host, entry.at)
            self.promoted.emit(entry)
        self._handled_id = entry.id

    def _on_failed(self, message: str) -> None:
        delay = self._retry_delay.next_delay()
        log.warning("could not read promotions from the audit trail (next try in %d s): %s", delay, message)
        self._retry_at = time.monotonic() + delay
