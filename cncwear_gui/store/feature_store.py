"""The feature store: imported samples per experiment and versioned feature sets (SQLAlchemy).

Default: a SQLite file in the user data directory; any SQLAlchemy URL (e.g. PostgreSQL) for a
shared central store. An import is one transaction: a rejected file, a cancel or a crash leaves
the store exactly as it was. Re-importing an identical file is a no-op; a changed file for the
same experiment becomes a new version (older versions are kept, marked not current).

Floor-labelled runs (:meth:`FeatureStore.add_floor_run`) are the operators' ground truth: a run a
tool change (worn, broken) or a false-alarm mark labelled. They are stored like an experiment
(metadata, source file row, samples) next to the bundled ones, plus a ``floor_runs`` row with who,
where and why. Their numbers are ``FLOOR_RUN_OFFSET + id`` (100001, 100002, …): the id comes from
the database's autoincrement, so two PCs writing at once never get the same number, and an
experiment file can never be imported with a number in that range, so the two never collide.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

import hashlib
import math
import socket
from datetime import datetime

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

from .. import __version__
from ..data.dataset import Dataset, Experiment
from ..data.metadata import ExperimentMeta
from ..data.schema import DOCUMENTED_UNRELIABLE, PROCESS_COLUMN, SIGNAL_COLUMNS, TOOL_CONDITIONS
from ..data.setup import SetupKey
from ..features.sets import FEATURE_SETS, FeatureSet
from ..tasks import Task, ensure_task
from .audit_trail import AuditTrail
from .database import (STORE_SCHEMA_VERSION, StoreTooNew, aware_utc, check_connection, creating_tables,
                       default_store_url, open_engine, os_user, refuse_newer_store, utcnow)
from .locked_retry import retry_when_locked

SCHEMA_VERSION = STORE_SCHEMA_VERSION
FLOOR_RUN_ONCE = "uq_floor_runs_machine_sha256"
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


floor_runs = Table(
    "floor_runs",
    metadata,
    Column("id", Integer, primary_key=True),  # the run's experiment number is FLOOR_RUN_OFFSET + id
    Column("machine", String(255), nullable=False, index=True),
    Column("setup", String(255), nullable=False),  # data.setup.SetupKey.text
    Column("model_version", String(64)),  # the model that watched the run (none: no model was loaded)
    Column("label", String(16), nullable=False),  # worn, unworn
    Column("reason", String(64), nullable=False),  # worn, broken, false alarm
    Column("user", String(255), nullable=False),
    Column("host", String(255), nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    Column("sha256", String(64), nullable=False),  # of the stored samples: the same run is stored once
    UniqueConstraint("machine", "sha256", name=FLOOR_RUN_ONCE),  # two PCs storing the same run: the loser retries
    sqlite_autoincrement=True,  # an id is never handed out twice
)

FLOOR_RUN_OFFSET = 100_000
FLOOR_SOURCE_PREFIX = "floor:"  # ExperimentMeta.source and the source file name: floor:<machine>
#: What the operator's action says about the tool. A tool change for reason "scheduled" or
#: "precaution" says nothing (the tool may have been fine) and is no label.
LABEL_OF_REASON = {"worn": "worn", "broken": "worn", "false alarm": "unworn"}
FLOOR_RUN_COLUMNS = (*SIGNAL_COLUMNS, PROCESS_COLUMN, "phase", "quality_flags")


def is_floor_run(number: int) -> bool:
    return number > FLOOR_RUN_OFFSET


class ImportRejected(Exception):
    """The dataset had rejected files; nothing was written."""


class FeatureSetConflict(Exception):
    """A feature set name and version already stored with a different definition."""


class FloorRunRejected(ValueError):
    """A floor-labelled run that cannot be stored as given; the message says why. Nothing was written."""


@dataclass(frozen=True)
class FloorRun:
    run: int  # its experiment number in a Dataset (from FLOOR_RUN_OFFSET + 1 up)
    machine: str
    setup: str
    model_version: str | None
    label: str
    reason: str
    user: str
    host: str
    recorded_at: datetime
    rows: int
    sha256: str

    def to_json(self) -> dict:
        return {**asdict(self), "recorded_at": self.recorded_at.isoformat(timespec="seconds")}


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
        check_connection(self.engine, self.url)
        self._audit: AuditTrail | None = None
        with creating_tables(self.url, self.engine):
            try:
                with self.engine.connect() as conn:
                    refuse_newer_store(conn, self.url)
            except StoreTooNew:
                self.engine.dispose()
                raise
            metadata.create_all(self.engine)
            with self.engine.begin() as conn:
                if conn.execute(select(store_info.c.value).where(store_info.c.key == "schema_version")).first() is None:
                    conn.execute(store_info.insert(), [{"key": "schema_version", "value": str(SCHEMA_VERSION)},
                                                       {"key": "app_version", "value": __version__}])
            for feature_set in FEATURE_SETS.values():
                self.register_feature_set(feature_set)

    def close(self) -> None:
        if self._audit is not None:
            self._audit.close()
        self.engine.dispose()

    # -- imports -----------------------------------------------------------------------------
    def import_dataset(self, dataset: Dataset, task: Task | None = None) -> ImportResult:
        """Store every experiment of a fully valid dataset in one transaction."""
        task = ensure_task(task)
        rejected = [r for r in dataset.reports if not r.usable]
        if rejected:
            names = ", ".join(Path(r.path).name for r in rejected)
            raise ImportRejected(f"nothing imported: {len(rejected)} file(s) rejected ({names})")
        unlabelled = [e.path.name for e in dataset.experiments.values() if e.unlabelled]
        if unlabelled:
            raise ImportRejected(f"nothing imported: {len(unlabelled)} unlabelled file(s) ({', '.join(unlabelled[:5])}); "
                                 "give each an experiment number (--experiment, or NAME.meta.json beside it)")
        reserved = [number for number in dataset.experiments if is_floor_run(number)]
        if reserved:
            raise ImportRejected(f"nothing imported: experiment number(s) {reserved[:5]} are in the floor-labelled runs' "
                                 f"range (from {FLOOR_RUN_OFFSET + 1} up); renumber the file(s)")
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

    def _insert_file(self, conn, experiment: Experiment, file_name: str | None = None) -> int:
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
                file_name=file_name or experiment.path.name,
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
    def load_dataset(self, experiment_numbers: list[int] | None = None, floor_runs: bool = True) -> Dataset:
        """The current version of each stored experiment, as a Dataset like the file loader's;
        with ``floor_runs``, the floor-labelled runs too (each its own experiment)."""
        return self._load(lambda number: (experiment_numbers is None or number in experiment_numbers)
                          and (floor_runs or not is_floor_run(number)))

    def floor_dataset(self, machine: str | None = None) -> Dataset:
        """Only the floor-labelled runs (of one machine), each an Experiment labelled by the floor."""
        numbers = {run.run for run in self.floor_runs(machine)}
        return self._load(numbers.__contains__)

    def training_dataset(self, base: Dataset) -> Dataset:
        """``base`` (e.g. the bundled experiments from their files) plus every floor-labelled run:
        what the pipeline trains on. Raises ValueError when a number of ``base`` is in the floor range."""
        clash = sorted(number for number in base.experiments if is_floor_run(number))
        if clash:
            raise ValueError(f"experiment number(s) {clash[:5]} of the training data are in the floor-labelled runs' "
                             f"range (from {FLOOR_RUN_OFFSET + 1} up)")
        floor = self.floor_dataset()
        return Dataset(experiments={**base.experiments, **floor.experiments}, reports=list(base.reports))

    def _load(self, keep) -> Dataset:
        with self.engine.connect() as conn:
            files = pd.read_sql(select(source_files).where(source_files.c.is_current.is_(True)), conn)
            meta_rows = {row.experiment: row for row in conn.execute(select(experiments))}
            dataset = Dataset()
            for file in files.sort_values("experiment").itertuples():
                if not keep(int(file.experiment)):
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

    # -- floor-labelled runs -----------------------------------------------------------------
    def add_floor_run(self, machine: str, setup: str, model_version: str | None, label: str, rows: pd.DataFrame,
                      reason: str, user: str | None = None) -> int:
        """Store one run the floor labelled, with its ``run.labelled`` audit entry, in one transaction;
        returns its experiment number (from ``FLOOR_RUN_OFFSET + 1`` up).

        ``rows``: the run's samples (the 47 signals, ``Machining_Process``, ``phase``,
        ``quality_flags``; ``feedrate``/``clamp_pressure`` are read only when ``setup`` is unknown).
        ``setup``: ``SetupKey.text``. ``reason``: worn, broken (label worn) or false alarm (unworn).
        The same samples from the same machine are stored once: again with the same label returns
        the stored number; with the other label it is refused. Invalid input raises
        :class:`FloorRunRejected` and writes nothing; a locked database is retried
        (``store.locked_retry.retry_when_locked``); any other database error is raised.
        """
        machine = str(machine or "").strip()
        if not machine:
            raise FloorRunRejected("a floor-labelled run needs the machine it was cut on")
        if label not in TOOL_CONDITIONS:
            raise FloorRunRejected(f"label '{label}': expected one of {', '.join(TOOL_CONDITIONS)}")
        if reason not in LABEL_OF_REASON:
            raise FloorRunRejected(f"reason '{reason}' labels no run; labelling reasons: {', '.join(LABEL_OF_REASON)} "
                                   "(a scheduled or precautionary tool change says nothing about the tool)")
        if LABEL_OF_REASON[reason] != label:
            raise FloorRunRejected(f"label '{label}' contradicts reason '{reason}' (which means {LABEL_OF_REASON[reason]})")
        frame = _floor_frame(rows)
        key = _floor_setup(setup, rows)
        sha256 = hashlib.sha256(frame.to_csv(index=False).encode()).hexdigest()
        user = user or os_user()
        audit = self._audit_trail()

        def write() -> int:
            with self.engine.begin() as conn:
                stored = conn.execute(select(floor_runs.c.id, floor_runs.c.label).where(
                    floor_runs.c.machine == machine, floor_runs.c.sha256 == sha256)).first()
                if stored is not None:
                    if stored.label != label:
                        raise FloorRunRejected(f"this run of {machine} is stored already as {stored.label} "
                                               f"(run {FLOOR_RUN_OFFSET + stored.id}); nothing changed")
                    return FLOOR_RUN_OFFSET + stored.id
                run_id = FLOOR_RUN_OFFSET + int(conn.execute(floor_runs.insert().values(
                    machine=machine, setup=setup, model_version=None if model_version is None else str(model_version),
                    label=label, reason=reason, user=user, host=socket.gethostname(), recorded_at=utcnow(),
                    sha256=sha256)).inserted_primary_key[0])
                source = f"{FLOOR_SOURCE_PREFIX}{machine}"
                meta = ExperimentMeta(experiment=run_id, material="unknown", feedrate=key.feedrate,
                                      clamp_pressure=key.clamp_pressure, tool_condition=label, source=source)
                self._upsert_meta(conn, meta)
                self._insert_file(conn, Experiment(run_id, Path(source), sha256, frame, meta), file_name=source)
                audit.record_in(conn, "run.labelled", subject=f"run {run_id}", new_value=label, machine=machine,
                                user=user, comment=f"{reason}; {setup}; model v{model_version}; {len(frame)} samples")
                return run_id

        return retry_when_locked(write, f"storing the floor-labelled run of {machine}", races=(FLOOR_RUN_ONCE,))

    def floor_runs(self, machine: str | None = None) -> list[FloorRun]:
        """The floor-labelled runs, oldest first (of one machine when given)."""
        query = (select(floor_runs, source_files.c.rows)
                 .join(source_files, (source_files.c.experiment == FLOOR_RUN_OFFSET + floor_runs.c.id)
                       & source_files.c.is_current.is_(True))
                 .order_by(floor_runs.c.id))
        if machine is not None:
            query = query.where(floor_runs.c.machine == str(machine))
        with self.engine.connect() as conn:
            found = conn.execute(query).mappings().all()
        return [FloorRun(run=FLOOR_RUN_OFFSET + row["id"], machine=row["machine"], setup=row["setup"],
                         model_version=row["model_version"], label=row["label"], reason=row["reason"],
                         user=row["user"], host=row["host"], recorded_at=aware_utc(row["recorded_at"]),
                         rows=row["rows"], sha256=row["sha256"]) for row in found]

    def _audit_trail(self) -> AuditTrail:
        """The audit trail in this store's database (its rows commit with the store's)."""
        if self._audit is None:
            self._audit = AuditTrail(self.url)
        return self._audit

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


def _floor_frame(rows) -> pd.DataFrame:
    """The stored columns of a floor run's samples, checked; FloorRunRejected names what is wrong."""
    if not isinstance(rows, pd.DataFrame):
        raise FloorRunRejected(f"the run's samples must be a pandas DataFrame, not {type(rows).__name__}")
    if rows.empty:
        raise FloorRunRejected("the run has no samples; nothing to label")
    missing = [name for name in FLOOR_RUN_COLUMNS if name not in rows.columns]
    if missing:
        more = f" and {len(missing) - 5} more" if len(missing) > 5 else ""
        raise FloorRunRejected(f"the run's samples lack column(s) {', '.join(missing[:5])}{more}")
    frame = pd.DataFrame(index=pd.RangeIndex(len(rows)))
    for name in (*SIGNAL_COLUMNS, "phase", "quality_flags"):
        given = rows[name].reset_index(drop=True)
        values = pd.to_numeric(given, errors="coerce")
        bad = np.flatnonzero(values.isna().to_numpy() & given.notna().to_numpy())
        if bad.size:
            raise FloorRunRejected(f"column {name}: '{given.iloc[bad[0]]}' (sample {bad[0] + 1}) is not a number")
        frame[name] = values.to_numpy(dtype=np.float64)
    for name in ("phase", "quality_flags"):
        values = frame[name].to_numpy()
        if not np.isfinite(values).all() or (values != np.round(values)).any():
            raise FloorRunRejected(f"column {name}: every sample needs a whole number")
    frame["phase"] = frame["phase"].astype(np.int8)
    frame["quality_flags"] = frame["quality_flags"].astype(np.int32)
    process = rows[PROCESS_COLUMN].reset_index(drop=True)
    frame[PROCESS_COLUMN] = process.where(process.notna(), None).astype(object).to_numpy()
    frame["line"] = np.arange(1, len(frame) + 1, dtype=np.int32)  # no file: the sample's number in the run
    return frame[[*SIGNAL_COLUMNS, PROCESS_COLUMN, "phase", "quality_flags", "line"]]


def _floor_setup(setup: str, rows: pd.DataFrame) -> SetupKey:
    """The run's job constants: from its setup text, or, when that is unknown, from constant
    ``feedrate``/``clamp_pressure`` columns of its samples."""
    if setup == SetupKey().text:
        def constant(name: str) -> float:
            if name not in rows.columns:
                return math.nan
            values = pd.to_numeric(rows[name], errors="coerce").dropna().unique()
            return float(values[0]) if len(values) == 1 else math.nan

        return SetupKey(constant("feedrate"), constant("clamp_pressure"))
    try:
        return SetupKey.parse(setup)
    except (TypeError, ValueError, AttributeError) as error:
        raise FloorRunRejected(str(error) if isinstance(error, ValueError) else f"setup {setup!r} is not a setup text") from None

