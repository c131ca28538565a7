"""Stopping a child process together with everything it started (its process group).

The AutoML job and the MLflow UI run in their own sessions (``start_new_session=True``), so the
group id is the leader's pid and one signal reaches every worker they forked, even after the
leader itself has died.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time


def group_alive(group: int) -> bool:
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def stop_group(process: subprocess.Popen, grace_s: float, reap_s: float) -> None:
    """SIGTERM the group, SIGKILL what is left after ``grace_s``, wait up to ``reap_s`` for it to go."""
    if os.name == "nt":  # no process groups; taskkill /T walks the tree (untested here)
        subprocess.run(["taskkill", "/F", "/T", "/PID", str(process.pid)], capture_output=True)
        process.wait()
        return
    group = process.pid
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
