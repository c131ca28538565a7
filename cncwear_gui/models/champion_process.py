"""Resolving the champion in a child process, so mlflow never loads into the GUI process.

The child is ``cncwear champion --progress-json``: it prints one JSON object per line —
``{"progress": f, "message": m}`` while it works and ``{"champion": {...}}`` at the end — and
exits 2 with a message on stderr for bad input. Cancel kills it.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from ..tasks import Cancelled, Task, ensure_task
from .champion import ChampionRef

POLL_SECONDS = 0.1


class ChampionProcessError(RuntimeError):
    pass


def resolve_champion_in_subprocess(data_paths: list[Path], task: Task | None = None) -> ChampionRef:
    task = ensure_task(task)
    command = [sys.executable, "-m", "cncwear_gui.cli", "champion", "--progress-json", "--data", *map(str, data_paths)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, bufsize=1)
    champion = None
    try:
        for line in process.stdout:
            if task.cancelled:
                raise Cancelled()
            try:
                message = json.loads(line)
            except json.JSONDecodeError:
                continue  # a library printed something; not ours
            if "progress" in message:
                task.progress(float(message["progress"]), message.get("message", ""))
            elif "champion" in message:
                champion = ChampionRef.from_json(message["champion"])
        process.wait()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    if task.cancelled:
        raise Cancelled()
    if process.returncode != 0 or champion is None:
        lines = [line for line in process.stderr.read().splitlines() if line.strip() and " INFO " not in line]
        reason = lines[-1] if lines else f"exit code {process.returncode}"
        raise ChampionProcessError(reason.removeprefix("cncwear champion: "))
    return champion
