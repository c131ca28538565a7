"""What a revision does, each step only when it is missing: running a revision again on a store
that already has part of it (a crash half way on SQLite, a table an older build created) is safe."""

from __future__ import annotations

from alembic import op
from sqlalchemy import Column, inspect


def create_missing_table(name: str, *columns_and_constraints, indexes: tuple[tuple[str, list[str]], ...] = (),
                         **table_options) -> bool:
    """Create table ``name`` unless it is there, and each of ``indexes`` ((name, columns)) it lacks.
    True when the table was created."""
    bind = op.get_bind()
    created = not inspect(bind).has_table(name)
    if created:
        op.create_table(name, *columns_and_constraints, **table_options)
        present = set()
    else:
        present = {index["name"] for index in inspect(bind).get_indexes(name)}
    for index_name, columns in indexes:
        if index_name not in present:
            op.create_index(index_name, name, columns)
    return created


def add_missing_column(table: str, column: Column) -> bool:
    """Add ``column`` to ``table`` unless it is there (existing rows get NULL or its server default)."""
    present = {existing["name"] for existing in inspect(op.get_bind()).get_columns(table)}
    if column.name in present:
        return False
    op.add_column(table, column)
    return True
