"""The ``cncwear`` command: every capability headless, with ``--json`` output.

Exit codes: 0 success, 2 bad input (the message names file, line and column), 1 other failure.

One module per area registers its subcommands and only parses, checks input, calls the core and
renders: ``data`` (validate, import, drift), ``predict``, ``models`` (champion, benchmark, train, registry,
promote), ``explain``, ``live`` (serve, simulate), ``pipeline`` (pipeline run/watch/history/feedback,
monitor), ``teach`` (teach, tool-change), ``alarms`` (the shared alarm list and requests on it), ``db`` (current, upgrade), ``exports`` (export) and ``gui``. Results go through :func:`emit`: text, or
JSON with ``--json`` (one indented document) and ``--progress-json`` (JSON lines, see
``cncwear_gui.events``).
"""

from __future__ import annotations

import argparse
import logging
import sys

from .base import EXIT_BAD_INPUT, EXIT_FAILURE, EXIT_OK, BadInput, emit, log

__all__ = ["EXIT_BAD_INPUT", "EXIT_FAILURE", "EXIT_OK", "BadInput", "build_parser", "emit", "gui_main", "main"]


def build_parser() -> argparse.ArgumentParser:
    from .. import __version__
    from . import alarms, data, db, explain, exports, gui, live, models, pipeline, predict, teach

    parser = argparse.ArgumentParser(prog="cncwear", description="Milling-tool wear prediction for CNC shop floors.")
    parser.add_argument("--version", action="version", version=f"cncwear {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages to stderr")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for area in (gui, data, predict, models, explain, live, pipeline, teach, alarms, db, exports):
        area.register(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    from ..tasks import Cancelled

    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s")
    try:
        return args.func(args)
    except BadInput as error:
        print(f"cncwear {args.command}: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        return 130
    except Cancelled:
        print(f"cncwear {args.command}: cancelled", file=sys.stderr)
        return 130
    except Exception as error:  # reported, logged with traceback in verbose mode
        from ..store.database import StoreTooNew, StoreUnreachable

        if isinstance(error, (StoreTooNew, StoreUnreachable)):  # the store given: not for this version, or not there
            print(f"cncwear {args.command}: {error}", file=sys.stderr)
            return EXIT_BAD_INPUT
        log.debug("failure", exc_info=True)
        print(f"cncwear {args.command}: failed: {error}", file=sys.stderr)
        return EXIT_FAILURE


def gui_main() -> int:
    """Entry point of the GUI script (no console on Windows)."""
    return main(["gui", *sys.argv[1:]])
