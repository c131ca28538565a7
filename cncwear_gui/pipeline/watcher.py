"""The automatic retraining triggers while the app is open: a ``cncwear pipeline watch`` child.

It runs only when a schedule or a watched folder is configured; the child checks them (and the
labelled feedback) every minute and runs the pipeline when one fires, so training never touches
the GUI process. Every firing is recorded in the history database, which the Monitoring view
shows; the schedule survives restarts because it lives there too. Stopping sends SIGTERM and
does not wait: a pipeline in progress cancels itself (or finishes writing its run) and exits.

Each pipeline the child runs ends with a JSON line on its stdout (kept in a file beside its
stderr); ``new_firings`` hands the app the ones it has not seen, so a promotion reloads the
champion in the window at once.

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

from .. import events
from ..backoff import Backoff
from ..settings import Settings

log = logging.getLogger(__name__)
CHECK_INTERVAL_S = 60
OFF = "off: no schedule and no watched folder configured"
FIRST_RETRY_DELAY_S = 10  # after the second death in a row; doubled for each further one
MAX_RETRY_DELAY_S = 600
HEALTHY_AFTER_S = 300  # a child that ran this long no longer counts as dying in a row


class PipelineWatcher:
    def __init__(self, log_dir: Path, interval_s: float | None = None):
        self.stderr_path = log_dir / "pipeline-watch.stderr.log"  # the current child's stderr, read when it dies
        self.stdout_path = log_dir / "pipeline-watch.stdout.log"  # its firings, one JSON line each
        self._stdout_read = 0  # bytes of it handed out already
        self._unreported: list[dict] = []  # firings of a child that ended, read before its successor started
        self.interval_s = interval_s or CHECK_INTERVAL_S
        self.process: subprocess.Popen | None = None
        self.started_at = 0.0
        self.deaths = 0  # in a row
        self.last_death = ""  # how the last child that died ended
        self.retry_at = 0.0
        # read here, not at import, so a test can shorten the delays
        self._backoff = Backoff(first=FIRST_RETRY_DELAY_S, cap=MAX_RETRY_DELAY_S)
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
                self._backoff.reset()
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
        self._unreported += self._read_firings()  # what the previous child reported before it ended
        with open(self.stdout_path, "wb") as stdout, open(self.stderr_path, "wb") as stderr:  # this child's words only
            self.process = subprocess.Popen(
                [sys.executable, "-m", "cncwear_gui.cli", "pipeline", "watch", "--interval", f"{self.interval_s:g}"],
                stdin=subprocess.DEVNULL, stdout=stdout, stderr=stderr, start_new_session=True)
        self._stdout_read = 0
        self.started_at = now
        log.info("pipeline watcher started (pid %d)", self.process.pid)

    def _record_death(self, now: float) -> None:
        code = self.process.returncode
        how = f"signal {signal.Signals(-code).name}" if code < 0 else f"exit code {code}"
        message = _last_message(self.stderr_path)
        self.last_death = f"stopped with {how}" + (f": {message}" if message else "")
        self.process = None
        self.deaths += 1
        delay = 0 if self.deaths == 1 else self._backoff.next_delay()  # the first death in a row: at once
        self.retry_at = now + delay
        log.warning("pipeline watcher %s (death %d in a row; next start in %d s); stderr in %s",
                    self.last_death, self.deaths, delay, self.stderr_path)

    def new_firings(self) -> list[dict]:
        """The pipelines the child ran since the last call: trigger, firing_id, status, reason, error."""
        firings, self._unreported = self._unreported + self._read_firings(), []
        return firings

    def _read_firings(self) -> list[dict]:
        try:
            with open(self.stdout_path, "rb") as stdout:
                stdout.seek(self._stdout_read)
                text = stdout.read()
        except OSError:
            return []
        complete = text[:text.rfind(b"\n") + 1]  # a line being written is read next time
        self._stdout_read += len(complete)
        return [firing for firing in events.parse_lines(complete) if firing.get("fired")]

    def stop(self) -> None:
        if self.running:
            self.process.send_signal(signal.SIGTERM)
        self.process = None
        self.deaths, self.last_death, self.retry_at = 0, "", 0.0
        self._backoff.reset()
        self.status = OFF


def _last_message(path: Path) -> str:
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").strip().splitlines()
    except OSError:
        return ""
    # The command's own message ("cncwear pipeline: ...") may span lines (SQLAlchemy adds the SQL and a link).
    own = [line.strip() for line in lines if line.startswith("cncwear ")]
    return (own or lines or [""])[-1].strip()[:300]
