"""${message}

Revision ${up_revision} (schema version ${up_revision}), after ${down_revision | comma,n}.
Made with ``--rev-id NNNN`` (the next number: it is the schema version). Create only what is
missing (``steps.py``), so running it again on a half-upgraded store finishes it.
"""

import sqlalchemy as sa
from cncwear_gui.store.migrations.steps import add_missing_column, create_missing_table  # noqa: F401

revision = ${repr(up_revision)}
down_revision = ${repr(down_revision)}
branch_labels = None
depends_on = None


def upgrade() -> None:
    ${upgrades if upgrades else "pass"}


def downgrade() -> None:
    raise NotImplementedError("cncwear stores are not downgraded: restore the copy made before the upgrade")
