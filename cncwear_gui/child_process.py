"""Running a ``cncwear … --progress-json`` command as a child process, for the GUI.

Work that imports mlflow or trains models runs in a child, so the GUI process never holds the
GIL for it (importing mlflow or serialising a model stalls every other thread of a process for
hundreds of milliseconds). The child prints one JSON object per line: ``{"progress": f,
"message": m}`` while it works, anything else the caller's ``on_message`` handles. The child leads
its own process group. Cancel sends SIGTERM to the child (it cancels its own work, e.g. kills an
AutoML job's process group) and kills its whole group, the child too if it has not exited after
``grace_s`` (process_groups.stop_group). A non-zero exit raises CliProcessError with the child's
last line on stderr.
"""

from __future__ import annotations

import queue
import subprocess
import sys
import threading
from typing import Callable

from . import events
from .process_groups import stop_group
from .tasks import Cancelled, Task, ensure_task

POLL_SECONDS = 0.1
REAP_S = 2.0  # for the killed group's members to go


class CliProcessError(RuntimeError):
    pass


def run_cli_process(arguments: list[str], on_message: Callable[[dict], None], task: Task | None = None,
                    grace_s: float = 0.0) -> None:
    task = ensure_task(task)
    command = [sys.executable, "-m", "cncwear_gui.cli", *arguments]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, bufsize=1,
                               start_new_session=True)
    lines: queue.Queue = queue.Queue()
    stderr: list[str] = []
    threading.Thread(target=_pump, args=(process.stdout, lines.put, True), daemon=True).start()
    threading.Thread(target=_pump, args=(process.stderr, stderr.append, False), daemon=True).start()
    try:
        while True:
            if task.cancelled:
                _stop(process, grace_s)
                raise Cancelled()
            try:
                line = lines.get(timeout=POLL_SECONDS)
            except queue.Empty:
                continue
            if line is None:
                break
            message = events.parse_line(line)
            if message is None:
                continue  # a library printed something; not ours
            if events.is_progress(message):
                task.progress(float(message["progress"]), message.get("message", ""))
            else:
                on_message(message)
        process.wait()
    finally:
        if process.poll() is None:
            stop_group(process, 0.0, REAP_S)
    if process.returncode != 0:
        command_name = arguments[0]
        reasons = [line.strip() for line in stderr if line.strip() and " INFO " not in line]
        reason = reasons[-1] if reasons else f"exit code {process.returncode}"
        raise CliProcessError(reason.removeprefix(f"cncwear {command_name}: "))


def _pump(stream, put: Callable, mark_end: bool) -> None:
    for line in stream:
        put(line)
    if mark_end:
        put(None)


def _stop(process: subprocess.Popen, grace_s: float) -> None:
    """SIGTERM the child, SIGKILL its group (the child too if it has not exited) after ``grace_s``."""
    stop_group(process, grace_s, REAP_S, ask=lambda child: child.terminate())
