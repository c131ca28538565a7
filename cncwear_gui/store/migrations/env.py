"""Alembic's environment for cncwear's store revisions.

The app passes an open connection (``migrations.upgrade``). A developer drafting a revision runs
``alembic -c cncwear_gui/store/migrations/alembic.ini -x url=sqlite:///scratch.db revision
--autogenerate --rev-id NNNN -m what`` against a database at head; only then are the store
modules imported to compare their tables (see docs/architecture.md, "Store schema migrations").
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from cncwear_gui.store.migrations import VERSION_TABLE
from cncwear_gui.store.migrations.models import models_metadata


def _configure(connection) -> None:
    autogenerate = bool(getattr(context.config.cmd_opts, "autogenerate", False))
    context.configure(connection=connection, version_table=VERSION_TABLE, render_as_batch=True,
                      target_metadata=models_metadata() if autogenerate else None,
                      compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


connection = context.config.attributes.get("connection")
if connection is not None:
    _configure(connection)
else:  # the alembic command line: -x url=...
    url = context.get_x_argument(as_dictionary=True).get("url") or context.config.get_main_option("sqlalchemy.url")
    engine = create_engine(url)
    with engine.begin() as conn:
        _configure(conn)
    engine.dispose()
