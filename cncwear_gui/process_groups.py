"""Stopping a child process together with everything it started (its process group).

The AutoML job, the MLflow UI, the prediction sidecar and the GUI's ``cncwear`` children
(child_process.py) run in their own sessions (``start_new_session=True``), so the group id is
the leader's pid and one signal reaches every worker they forked, even after the leader itself has
died; :func:`stop_group` is how each of them is stopped.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from typing import Callable


def group_alive(group: int) -> bool:
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def stop_group(process: subprocess.Popen, grace_s: float, reap_s: float,
               ask: Callable[[subprocess.Popen], None] | None = None) -> None:
    """Stop ``process`` and everything in its process group; the one way cncwear stops a child.

    Without ``ask``: SIGTERM the group, SIGKILL what is left after ``grace_s``. With ``ask``: ask
    the leader alone to stop (``ask(process)``: a SIGTERM it handles, a shutdown request over its
    pipe), give it ``grace_s`` to exit, then SIGKILL the group, whatever of it is left (the
    workers it forked; the leader too if it did not exit). Then wait up to ``reap_s`` for the
    group to go. The process must lead its own group (``start_new_session=True``).
    """
    if ask is not None and process.poll() is None:
        try:
            ask(process)
        except OSError:
            pass  # it is gone already, or its pipe is: nothing to ask
        try:
            process.wait(timeout=grace_s)
        except subprocess.TimeoutExpired:
            pass
    if os.name == "nt":  # no process groups; taskkill /T walks the tree (untested here)
        if process.poll() is None:
            subprocess.run(["taskkill", "/F", "/T", "/PID", str(process.pid)], capture_output=True)
        process.wait()
        return
    group = process.pid
    if ask is None:
        try:
            os.killpg(group, signal.SIGTERM)
        except ProcessLookupError:
            process.wait()
            return
        deadline = time.monotonic() + grace_s
        while time.monotonic() < deadline and group_alive(group):
            process.poll()  # reap the leader so it does not linger as a zombie in the group
            time.sleep(0.05)
    try:
        os.killpg(group, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait()
    deadline = time.monotonic() + reap_s  # killed children take a moment to be reaped
    while time.monotonic() < deadline and group_alive(group):
        time.sleep(0.05)
