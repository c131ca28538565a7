"""Resolving the champion in a child process, so mlflow never loads into the GUI process.

The child is ``cncwear champion --progress-json``: progress lines while it works, on a first start
``{"first_start": {...}}`` once the model is fitted (handed to ``task.interim``: the caller may
predict with it while the child evaluates, logs and registers it), then ``{"champion": {...}}``;
it exits 2 with a message on stderr for bad input. Cancel kills it.
"""

from __future__ import annotations

from pathlib import Path

from ..child_process import CliProcessError, run_cli_process
from ..tasks import Task
from .champion import ChampionRef


def resolve_champion_in_subprocess(data_paths: list[Path], task: Task | None = None) -> ChampionRef:
    found: list[ChampionRef] = []

    def on_message(message: dict) -> None:
        if "champion" in message:
            found.append(ChampionRef.from_json(message["champion"]))
        elif "first_start" in message and task is not None:
            task.interim(ChampionRef.from_json(message["first_start"]))

    run_cli_process(["champion", "--progress-json", "--data", *map(str, data_paths)], on_message, task)
    if not found:
        raise CliProcessError("cncwear champion printed no champion")
    return found[0]
