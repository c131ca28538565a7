"""What every command module shares: the exit codes, ``BadInput`` and the output helper.

Re-exported by the package (``cncwear_gui.cli.BadInput``, ``cncwear_gui.cli.emit``); the command
modules import them from here, so no module of the package imports the package that registers it.
"""

from __future__ import annotations

import json
import logging
from typing import Callable

EXIT_OK, EXIT_FAILURE, EXIT_BAD_INPUT = 0, 1, 2
log = logging.getLogger("cncwear")


class BadInput(Exception):
    """Input the user must fix; reported with exit code 2."""


def emit(args, data: dict | list, text: str | Callable[[], None] | None = None, *, indent: int | None = 2) -> None:
    """A command's result: with ``--progress-json`` one JSON line (flushed); with ``--json`` one
    JSON document (``indent``); otherwise ``text``, printed (a str) or rendering itself (a callable)."""
    from .. import events

    if getattr(args, "progress_json", False):
        events.emit(data)
    elif getattr(args, "json", False):
        print(json.dumps(data, indent=indent, default=str), flush=True)
    elif callable(text):
        text()
    elif text is not None:
        print(text)
