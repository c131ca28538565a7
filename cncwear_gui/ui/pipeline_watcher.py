"""The automatic retraining triggers while the app is open: a ``cncwear pipeline watch`` child.

It runs only when a schedule or a watched folder is configured; the child checks them (and the
labelled feedback) every minute and runs the pipeline when one fires, so training never touches
the GUI process. Every firing is recorded in the history database, which the Monitoring view
shows; the schedule survives restarts because it lives there too. Stopping sends SIGTERM and
does not wait: a pipeline in progress cancels itself (or finishes writing its run) and exits.

A child that dies (killed, or an error it cannot get past) is reported in ``status`` with its
exit code and the last line it wrote to stderr, and started again by a later ``apply``: at once
the first time, then after a delay that doubles while it keeps dying (a feature store that is
down must not cost a process start every few seconds).
"""

from __future__ import annotations

import logging
import signal
import subprocess
import sys
import time
from pathlib import Path

from ..settings import Settings

log = logging.getLogger(__name__)
CHECK_INTERVAL_S = 60
OFF = "off: no schedule and no watched folder configured"
FIRST_RETRY_DELAY_S = 10  # after the second death in a row; doubled for each further one
MAX_RETRY_DELAY_S = 600
HEALTHY_AFTER_S = 300  # a child that ran this long no longer counts as dying in a row


class PipelineWatcher:
    def __init__(self, stderr_path: Path, interval_s: float = CHECK_INTERVAL_S):
        self.stderr_path = stderr_path  # the current child's stderr, read when it dies
        self.interval_s = interval_s
        self.process: subprocess.Popen | None = None
        self.started_at = 0.0
        self.deaths = 0  # in a row
        self.last_death = ""  # how the last child that died ended
        self.retry_at = 0.0
        self.status = OFF

    @property
    def failed(self) -> bool:
        return bool(self.last_death)

    @staticmethod
    def wanted(settings: Settings) -> bool:
        return settings.pipeline_schedule_hours > 0 or bool(settings.pipeline_watch_dir)

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def apply(self, settings: Settings) -> None:
        """Start, restart or stop the child for these settings (a running child re-reads them each round)."""
        now = time.monotonic()
        if not self.wanted(settings):
            self.stop()
            return
        if self.running:
            if now - self.started_at >= HEALTHY_AFTER_S:
                self.deaths = 0
            return
        if self.process is not None:  # it died since the last look
            self._record_death(now)
        if now < self.retry_at:
            self.status = f"next start in {self.retry_at - now:.0f} s; the watcher {self.last_death}"
            return
        self._start(now)
        self.status = (f"restarted (pid {self.process.pid}) after the watcher {self.last_death}" if self.failed
                       else f"watching (pid {self.process.pid})")

    def _start(self, now: float) -> None:
        with open(self.stderr_path, "wb") as stderr:  # truncated: only this child's words are kept
            self.process = subprocess.Popen(
                [sys.executable, "-m", "cncwear_gui.cli", "pipeline", "watch", "--interval", f"{self.interval_s:g}"],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=stderr, start_new_session=True)
        self.started_at = now
        log.info("pipeline watcher started (pid %d)", self.process.pid)

    def _record_death(self, now: float) -> None:
        code = self.process.returncode
        how = f"signal {signal.Signals(-code).name}" if code < 0 else f"exit code {code}"
        last_line = _last_line(self.stderr_path)
        self.last_death = f"stopped with {how}" + (f": {last_line}" if last_line else "")
        self.process = None
        self.deaths += 1
        delay = 0 if self.deaths == 1 else min(MAX_RETRY_DELAY_S, FIRST_RETRY_DELAY_S * 2 ** (self.deaths - 2))
        self.retry_at = now + delay
        log.warning("pipeline watcher %s (death %d in a row; next start in %d s); stderr in %s",
                    self.last_death, self.deaths, delay, self.stderr_path)

    def stop(self) -> None:
        if self.running:
            self.process.send_signal(signal.SIGTERM)
        self.process = None
        self.deaths, self.last_death, self.retry_at = 0, "", 0.0
        self.status = OFF


def _last_line(path: Path) -> str:
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").strip().splitlines()
    except OSError:
        return ""
    return lines[-1].strip()[:300] if lines else ""
