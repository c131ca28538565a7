"""The automatic retraining triggers while the app is open: a ``cncwear pipeline watch`` child.

It runs only when a schedule or a watched folder is configured; the child checks them (and the
labelled feedback) every minute and runs the pipeline when one fires, so training never touches
the GUI process. Every firing is recorded in the history database, which the Monitoring view
shows; the schedule survives restarts because it lives there too. Stopping sends SIGTERM and
does not wait: a pipeline in progress cancels itself (or finishes writing its run) and exits.
"""

from __future__ import annotations

import logging
import signal
import subprocess
import sys

from ..settings import Settings

log = logging.getLogger(__name__)
CHECK_INTERVAL_S = 60


class PipelineWatcher:
    def __init__(self):
        self.process: subprocess.Popen | None = None

    @staticmethod
    def wanted(settings: Settings) -> bool:
        return settings.pipeline_schedule_hours > 0 or bool(settings.pipeline_watch_dir)

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def apply(self, settings: Settings) -> None:
        """Start or stop the child for these settings (a running child re-reads them each round)."""
        if not self.wanted(settings):
            self.stop()
        elif not self.running:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "cncwear_gui.cli", "pipeline", "watch", "--interval", str(CHECK_INTERVAL_S)],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
            log.info("pipeline watcher started (pid %d)", self.process.pid)

    def stop(self) -> None:
        if self.running:
            self.process.send_signal(signal.SIGTERM)
        self.process = None
