"""The revisions of cncwear's own store schema (Alembic), and running them on a database.

One schema for every store in a database: the feature store, audit trail, prediction log,
pipeline history, taught references and tool changes share it, so a database has one revision,
kept in ``cncwear_alembic_version`` (not ``alembic_version``: an MLflow backend may share a central
PostgreSQL database and keeps its own there). Revision ``0001`` is the schema of cncwear 0.9.0
exactly; each later file in ``versions/`` is one step, numbered ``NNNN_what.py`` with revision id
``NNNN``, and that number is the schema version ``store_info`` records. Every step creates only
what is missing (a table, a column, an index), so a store some version of the app already gave
part of a step (the 0.9.0 store a pre-migration build opened), or an upgrade a crash stopped half
way on SQLite (whose DDL is not transactional), is finished by running it again.

The policy (refusing a newer store, the copy of a SQLite file, ``store_info``) is
``store.database``'s; this module only knows the revisions and runs them. Adding a table:
docs/architecture.md, "Store schema migrations".
"""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection

HERE = Path(__file__).resolve().parent
VERSIONS = HERE / "versions"
VERSION_TABLE = "cncwear_alembic_version"
_REVISION_FILE = re.compile(r"^(\d{4})_\w+\.py$")


def revisions() -> list[str]:
    """Every revision this cncwear knows, oldest first (from the file names: no Alembic import)."""
    found = sorted(match.group(1) for match in map(_REVISION_FILE.match, (p.name for p in VERSIONS.glob("*.py"))) if match)
    return found


def head() -> str:
    return revisions()[-1]


def schema_version(revision: str) -> int:
    """The schema version ``store_info`` records for a revision: its number."""
    return int(revision)


def stored_revision(conn: Connection) -> str | None:
    """The revision recorded in the database; None when it has no version table (new, or 0.9.0)."""
    if not inspect(conn).has_table(VERSION_TABLE):
        return None
    return conn.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalar()


def upgrade(conn: Connection, target: str = "head") -> None:
    """Run the revisions from the stored one (none: from the baseline, which creates only the
    0.9.0 tables that are missing) up to ``target`` on ``conn``; the caller commits."""
    from alembic import command

    config = alembic_config()
    config.attributes["connection"] = conn
    command.upgrade(config, target)


def alembic_config():
    """An Alembic configuration for these revisions (no ini file needed; ``alembic.ini`` beside
    this file is for developers drafting a revision with ``alembic revision --autogenerate``)."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(HERE))
    return config


def script_revisions() -> list[str]:
    """The revision chain as Alembic reads it from the files, oldest first (for the tests)."""
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config())
    return [rev.revision for rev in reversed(list(script.walk_revisions()))]
