"""Every table today's store modules define, for comparing with the head revision (the test that
fails when a table or column has no revision, and ``alembic revision --autogenerate``)."""

from __future__ import annotations

import importlib
import pkgutil

from sqlalchemy import MetaData


def models_metadata() -> MetaData:
    """Every table the store modules define, in one MetaData (each module of ``cncwear_gui.store``
    with a module-level ``metadata``; a new store module is found without being listed)."""
    from cncwear_gui import store

    combined = MetaData()
    for module_info in pkgutil.iter_modules(store.__path__):
        if module_info.name == "migrations":
            continue
        module = importlib.import_module(f"cncwear_gui.store.{module_info.name}")
        metadata = getattr(module, "metadata", None)
        if isinstance(metadata, MetaData):
            for table in metadata.tables.values():
                if table.name not in combined.tables:
                    table.to_metadata(combined)
    return combined
