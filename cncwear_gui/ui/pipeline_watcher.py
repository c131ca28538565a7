"""The automatic retraining triggers while the app is open: a ``cncwear pipeline watch`` child.

It runs only when a schedule or a watched folder is configured; the child checks them (and the
labelled feedback) every minute and runs the pipeline when one fires, so training never touches
the GUI process. Every firing is recorded in the history database, which the Monitoring view
shows; the schedule survives restarts because it lives there too. Stopping sends SIGTERM and
does not wait: a pipeline in progress cancels itself (or finishes writing its run) and exits.

A child that dies (killed, or an error it cannot get past) is reported in ``status`` with its
exit code and the last line it wrote to stderr, and started again at the next ``apply``.
"""

from __future__ import annotations

import logging
import signal
import subprocess
import sys
from pathlib import Path

from ..settings import Settings

log = logging.getLogger(__name__)
CHECK_INTERVAL_S = 60
OFF = "off: no schedule and no watched folder configured"


class PipelineWatcher:
    def __init__(self, stderr_path: Path, interval_s: float = CHECK_INTERVAL_S):
        self.stderr_path = stderr_path  # the current child's stderr, read when it dies
        self.interval_s = interval_s
        self.process: subprocess.Popen | None = None
        self.status = OFF
        self.failed = False  # the last child died on its own

    @staticmethod
    def wanted(settings: Settings) -> bool:
        return settings.pipeline_schedule_hours > 0 or bool(settings.pipeline_watch_dir)

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def apply(self, settings: Settings) -> None:
        """Start, restart or stop the child for these settings (a running child re-reads them each round)."""
        if not self.wanted(settings):
            self.stop()
        elif not self.running:
            died = self._death_notice()
            self._start()
            self.failed = died is not None
            self.status = f"restarted (pid {self.process.pid}) after {died}" if died else f"watching (pid {self.process.pid})"

    def _start(self) -> None:
        with open(self.stderr_path, "wb") as stderr:  # truncated: only this child's words are kept
            self.process = subprocess.Popen(
                [sys.executable, "-m", "cncwear_gui.cli", "pipeline", "watch", "--interval", f"{self.interval_s:g}"],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=stderr, start_new_session=True)
        log.info("pipeline watcher started (pid %d)", self.process.pid)

    def _death_notice(self) -> str | None:
        """How the previous child ended, when it ended without being asked to."""
        if self.process is None:
            return None
        code = self.process.returncode
        how = f"signal {signal.Signals(-code).name}" if code < 0 else f"exit code {code}"
        notice = f"the watcher stopped with {how}"
        last_line = _last_line(self.stderr_path)
        if last_line:
            notice += f": {last_line}"
        log.warning("%s; stderr in %s", notice, self.stderr_path)
        return notice

    def stop(self) -> None:
        if self.running:
            self.process.send_signal(signal.SIGTERM)
        self.process = None
        self.status, self.failed = OFF, False


def _last_line(path: Path) -> str:
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").strip().splitlines()
    except OSError:
        return ""
    return lines[-1].strip()[:300] if lines else ""
