"""The feature store: imported samples per experiment and versioned feature sets (SQLAlchemy).

Default: a SQLite file in the user data directory; any SQLAlchemy URL (e.g. PostgreSQL) for a
shared central store. An import is one transaction: a rejected file, a cancel or a crash leaves
the store exactly as it was. Re-importing an identical file is a no-op; a changed file for the
same experiment becomes a new version (older versions are kept, marked not current).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    UniqueConstraint,
    func,
    select,
    update,
)
from sqlalchemy.engine import Engine

from ..data.dataset import Dataset, Experiment
from ..data.metadata import ExperimentMeta
from ..data.schema import DOCUMENTED_UNRELIABLE, PROCESS_COLUMN, SIGNAL_COLUMNS
from ..features.sets import FEATURE_SETS, FeatureSet
from ..tasks import Task, ensure_task
from .database import creating_tables, default_store_url, open_engine, utcnow

SCHEMA_VERSION = 1
metadata = MetaData()

store_info = Table("store_info", metadata, Column("key", String(64), primary_key=True), Column("value", String(256)))
experiments = Table(
    "experiments",
    metadata,
    Column("experiment", Integer, primary_key=True, autoincrement=False),
    Column("material", String(64)),
    Column("feedrate", Float),
    Column("clamp_pressure", Float),
    Column("tool_condition", String(16)),
    Column("machining_finalized", String(8)),
    Column("passed_visual_inspection", String(8)),
    Column("metadata_source", String(1024)),
)
source_files = Table(
    "source_files",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("experiment", Integer, nullable=False, index=True),
    Column("file_name", String(1024), nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("rows", Integer, nullable=False),
    Column("version", Integer, nullable=False),
    Column("is_current", Boolean, nullable=False),
    Column("imported_at", DateTime(timezone=True), nullable=False),
    Column("flags", JSON, nullable=False),
    UniqueConstraint("experiment", "sha256"),
    UniqueConstraint("experiment", "version"),
)
samples = Table(
    "samples",
    metadata,
    Column("file_id", Integer, ForeignKey("source_files.id"), nullable=False),
    Column("row", Integer, nullable=False),
    *(Column(name, Float) for name in SIGNAL_COLUMNS),
    Column(PROCESS_COLUMN, String(64)),
    Column("phase", Integer, nullable=False),
    Column("quality_flags", Integer, nullable=False),
    Column("line", Integer, nullable=False),
    PrimaryKeyConstraint("file_id", "row"),
)
feature_sets = Table(
    "feature_sets",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(128), nullable=False),
    Column("version", Integer, nullable=False),
    Column("fingerprint", String(32), nullable=False),
    Column("definition", JSON, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("name", "version"),
)
imports = Table(
    "imports",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("summary", JSON, nullable=False),
)


class ImportRejected(Exception):
    """The dataset had rejected files; nothing was written."""


class FeatureSetConflict(Exception):
    """A feature set name and version already stored with a different definition."""


@dataclass
class ImportResult:
    imported: list[dict] = field(default_factory=list)  # {experiment, file, version, rows}
    unchanged: list[dict] = field(default_factory=list)

    def to_json(self) -> dict:
        return {"imported": self.imported, "unchanged": self.unchanged}




class FeatureStore:
    def __init__(self, url: str | None = None):
        self.url = url or default_store_url()
        self.engine: Engine = open_engine(self.url)
        with creating_tables(self.url):
            metadata.create_all(self.engine)
            with self.engine.begin() as conn:
                if conn.execute(select(store_info.c.value).where(store_info.c.key == "schema_version")).first() is None:
                    conn.execute(store_info.insert().values(key="schema_version", value=str(SCHEMA_VERSION)))
            for feature_set in FEATURE_SETS.values():
                self.register_feature_set(feature_set)

    def close(self) -> None:
        self.engine.dispose()

    # -- imports -----------------------------------------------------------------------------
    def import_dataset(self, dataset: Dataset, task: Task | None = None) -> ImportResult:
        """Store every experiment of a fully valid dataset in one transaction."""
        task = ensure_task(task)
        rejected = [r for r in dataset.reports if not r.usable]
        if rejected:
            names = ", ".join(Path(r.path).name for r in rejected)
            raise ImportRejected(f"nothing imported: {len(rejected)} file(s) rejected ({names})")
        result = ImportResult()
        numbers = sorted(dataset.experiments)
        with self.engine.begin() as conn:
            for index, number in enumerate(numbers):
                experiment = dataset.experiments[number]
                task.progress(index / max(1, len(numbers)), f"experiment {number}")
                if experiment.meta is not None:
                    self._upsert_meta(conn, experiment.meta)
                entry = {"experiment": number, "file": experiment.path.name, "rows": experiment.rows}
                same = conn.execute(
                    select(source_files.c.id, source_files.c.version).where(
                        source_files.c.experiment == number, source_files.c.sha256 == experiment.sha256
                    )
                ).first()
                if same is not None:
                    result.unchanged.append({**entry, "version": same.version})
                    continue
                version = self._insert_file(conn, experiment)
                result.imported.append({**entry, "version": version})
            conn.execute(imports.insert().values(at=utcnow(), summary=result.to_json()))
            task.check()  # a cancel up to here rolls everything back
        task.progress(1.0, "imported")
        return result

    def _upsert_meta(self, conn, meta: ExperimentMeta) -> None:
        values = {k: v for k, v in meta.to_json().items() if k not in ("experiment", "source")}
        values["metadata_source"] = meta.source
        exists = conn.execute(select(experiments.c.experiment).where(experiments.c.experiment == meta.experiment)).first()
        if exists:
            conn.execute(update(experiments).where(experiments.c.experiment == meta.experiment).values(**values))
        else:
            conn.execute(experiments.insert().values(experiment=meta.experiment, **values))

    def _insert_file(self, conn, experiment: Experiment) -> int:
        previous = conn.execute(
            select(func.max(source_files.c.version)).where(source_files.c.experiment == experiment.number)
        ).scalar()
        version = (previous or 0) + 1
        conn.execute(
            update(source_files).where(source_files.c.experiment == experiment.number).values(is_current=False)
        )
        flags = experiment.samples["quality_flags"].to_numpy()
        file_id = conn.execute(
            source_files.insert().values(
                experiment=experiment.number,
                file_name=experiment.path.name,
                sha256=experiment.sha256,
                rows=experiment.rows,
                version=version,
                is_current=True,
                imported_at=utcnow(),
                flags={"documented_unreliable_rows": int(np.count_nonzero(flags & DOCUMENTED_UNRELIABLE))},
            )
        ).inserted_primary_key[0]
        frame = experiment.samples[[*SIGNAL_COLUMNS, PROCESS_COLUMN, "phase", "quality_flags", "line"]].copy()
        frame.insert(0, "row", np.arange(len(frame)))
        frame.insert(0, "file_id", file_id)
        frame.to_sql(samples.name, conn, if_exists="append", index=False, chunksize=5000)
        return version

    # -- reading -----------------------------------------------------------------------------
    def load_dataset(self, experiment_numbers: list[int] | None = None) -> Dataset:
        """The current version of each stored experiment, as a Dataset like the file loader's."""
        with self.engine.connect() as conn:
            files = pd.read_sql(select(source_files).where(source_files.c.is_current.is_(True)), conn)
            meta_rows = {row.experiment: row for row in conn.execute(select(experiments))}
            dataset = Dataset()
            for file in files.sort_values("experiment").itertuples():
                if experiment_numbers is not None and file.experiment not in experiment_numbers:
                    continue
                frame = pd.read_sql(
                    select(samples).where(samples.c.file_id == int(file.id)).order_by(samples.c.row), conn
                ).drop(columns=["file_id", "row"])
                frame["phase"] = frame["phase"].astype(np.int8)
                frame["quality_flags"] = frame["quality_flags"].astype(np.int32)
                frame["line"] = frame["line"].astype(np.int32)
                meta = meta_rows.get(file.experiment)
                dataset.experiments[int(file.experiment)] = Experiment(
                    number=int(file.experiment),
                    path=Path(file.file_name),
                    sha256=file.sha256,
                    samples=frame,
                    meta=_meta_from_row(meta) if meta is not None else None,
                )
        return dataset

    def files(self) -> pd.DataFrame:
        with self.engine.connect() as conn:
            return pd.read_sql(select(source_files).order_by(source_files.c.experiment, source_files.c.version), conn)

    def counts(self) -> dict[str, int]:
        """Row counts per table (what a test compares before and after a rejected import)."""
        with self.engine.connect() as conn:
            return {t.name: conn.execute(select(func.count()).select_from(t)).scalar() for t in metadata.sorted_tables}

    # -- feature sets ------------------------------------------------------------------------
    def register_feature_set(self, feature_set: FeatureSet) -> None:
        with self.engine.begin() as conn:
            row = conn.execute(
                select(feature_sets.c.fingerprint).where(
                    feature_sets.c.name == feature_set.name, feature_sets.c.version == feature_set.version
                )
            ).first()
            if row is None:
                conn.execute(
                    feature_sets.insert().values(
                        name=feature_set.name,
                        version=feature_set.version,
                        fingerprint=feature_set.fingerprint,
                        definition=feature_set.definition(),
                        created_at=utcnow(),
                    )
                )
            elif row.fingerprint != feature_set.fingerprint:
                raise FeatureSetConflict(
                    f"feature set {feature_set.key} is stored with a different definition; give it a new version"
                )

    def feature_sets(self) -> list[dict]:
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(select(feature_sets).order_by(feature_sets.c.name, feature_sets.c.version))]


def _meta_from_row(row) -> ExperimentMeta:
    return ExperimentMeta(
        experiment=row.experiment,
        material=row.material,
        feedrate=row.feedrate,
        clamp_pressure=row.clamp_pressure,
        tool_condition=row.tool_condition,
        machining_finalized=row.machining_finalized,
        passed_visual_inspection=row.passed_visual_inspection,
        source=row.metadata_source or "store",
    )
