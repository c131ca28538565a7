"""``cncwear db current|upgrade``: the schema revision of a store, and upgrading it (for IT)."""

from __future__ import annotations

from .base import EXIT_BAD_INPUT, EXIT_OK, BadInput, emit
from .common import audit_url, redact


def _url(args) -> str:
    from ..store.database import default_store_url

    return args.store or audit_url() or default_store_url()


def _unreachable(url: str, error: Exception) -> BadInput:
    """A bad URL, a server that does not answer, a wrong password: said with the URL redacted."""
    from sqlalchemy.engine import make_url

    reason = str(getattr(error, "orig", None) or error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    try:
        password = make_url(url).password
    except Exception:
        password = None
    if password:
        reason = reason.replace(str(password), "***")
    return BadInput(f"cannot open the store at {redact(url)}: {reason}")


def _describe(status: dict) -> str:
    written = f", written by cncwear {status['app_version']}" if status["app_version"] else ""
    stored = (f"revision {status['revision']} (schema version {status['schema_version'] or '?'}){written}"
              if status["revision"] else
              "no cncwear tables yet" if status["state"] == "new" else
              f"no version table: cncwear 0.9.0's schema (schema version {status['schema_version'] or '?'}){written}")
    hints = {"current": "up to date",
             "behind": "older than this cncwear: `cncwear db upgrade` upgrades it (the app also does when it opens it)",
             "new": "empty: the first cncwear to open it creates the tables",
             "newer": "written by a newer cncwear: this one refuses it"}
    return (f"store: {status['store']}\n"
            f"store schema: {stored}\n"
            f"this cncwear: {status['this_app_version']}, revision {status['head']} "
            f"(schema version {status['head_schema_version']})\n"
            f"state: {status['state']}, {hints[status['state']]}")


def _guarded(args, work):
    from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError

    url = _url(args)
    try:
        return work(url)
    except (ArgumentError, NoSuchModuleError, DBAPIError, FileNotFoundError, ValueError, ModuleNotFoundError) as error:
        raise _unreachable(url, error) from None


def cmd_current(args) -> int:
    from ..store.database import read_status

    import sys

    status = _guarded(args, read_status)
    emit(args, status, _describe(status))
    if status["refused"]:
        print(f"cncwear db: {status['refused']}", file=sys.stderr)
        return EXIT_BAD_INPUT
    return EXIT_OK


def cmd_upgrade(args) -> int:
    import logging

    from ..store.database import upgrade_store

    if not args.verbose:  # the upgrade's log line would repeat what this prints
        logging.getLogger("cncwear_gui.store.database").setLevel(logging.ERROR)
    status = _guarded(args, upgrade_store)

    def text() -> None:
        if status["was"] == "current":
            print(f"store: {status['store']}\nalready at revision {status['head']} (schema version "
                  f"{status['head_schema_version']}): nothing to do")
            return
        before = (f"revision {status['upgraded_from']}" if status["upgraded_from"] else
                  "an empty database" if status["was"] == "new" else "cncwear 0.9.0's schema (no version table)")
        print(f"store: {status['store']}\nupgraded from {before} to revision {status['head']} "
              f"(schema version {status['head_schema_version']}, cncwear {status['this_app_version']})")
        if status["copy"]:
            print(f"a copy of the store as it was: {status['copy']}")

    emit(args, status, text)
    return EXIT_OK


def register(commands) -> None:
    db = commands.add_parser("db", help="the schema of cncwear's own store: its revision, upgrading it (for IT)")
    actions = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    for name, func, help_text in (
            ("current", cmd_current, "the store's revision, schema version and the cncwear that wrote it"),
            ("upgrade", cmd_upgrade, "upgrade the store to this cncwear's schema (a SQLite file is copied first)")):
        action = actions.add_parser(name, help=help_text)
        action.add_argument("--store", metavar="URL", help="SQLAlchemy URL (default: the settings' feature store)")
        action.add_argument("--json", action="store_true")
        action.set_defaults(func=func)
