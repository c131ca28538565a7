"""Schema migrations (store/migrations): a store cncwear 0.9.0 wrote upgrades in place with every
row kept, on SQLite and PostgreSQL; a new database is created at the head revision; a newer
store is refused naming both versions; `cncwear db current|upgrade`; and the head revision
matches the store modules' tables, so a table or column without a revision fails here.

data/store-0.9.0.sql was written by 0.9.0's own code (data/make_store_090.py, run on the release
commit): features of two experiments (one in two versions), the feature sets, audit entries,
predictions, pipeline firings, a seen file and feedback.
"""

import re
import sqlite3
from datetime import timezone
from pathlib import Path

import pytest
import sqlalchemy
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from helpers import run_cli, run_sql
from sqlalchemy import select, text

from cncwear_gui import __version__
from cncwear_gui.store import migrations
from cncwear_gui.store.audit_trail import AuditTrail
from cncwear_gui.store.database import STORE_SCHEMA_VERSION, StoreTooNew, bring_to_head, creating_tables, open_engine
from cncwear_gui.store.feature_store import FeatureStore
from cncwear_gui.store.migrations.models import models_metadata
from cncwear_gui.store.pipeline_history import PipelineHistory
from cncwear_gui.store.prediction_log import PredictionLog
from cncwear_gui.store.taught_references import TaughtReferenceStore
from cncwear_gui.store.tool_changes import ToolChangeLog

DUMP = Path(__file__).with_name("data") / "store-0.9.0.sql"
HEAD = migrations.head()  # the newest revision: its number is the schema version
#: 0.9.0's tables, parents first (samples refer to source_files).
TABLES_090 = ("store_info", "experiments", "source_files", "samples", "feature_sets", "imports", "audit_trail",
              "prediction_log", "pipeline_firings", "pipeline_seen_files", "prediction_feedback")
OPENERS = (FeatureStore, AuditTrail, PredictionLog, PipelineHistory, TaughtReferenceStore, ToolChangeLog)


def dumped_counts() -> dict[str, int]:
    counts = dict.fromkeys(TABLES_090, 0)
    for name in re.findall(r'^INSERT INTO "(\w+)"', DUMP.read_text(), flags=re.M):
        counts[name] += 1
    return counts


def load_sqlite_090(path: Path) -> str:
    connection = sqlite3.connect(path)
    connection.executescript(DUMP.read_text())
    connection.close()
    return f"sqlite:///{path}"


def load_postgresql_090(url: str, tmp_path: Path) -> None:
    """0.9.0 never ran on PostgreSQL; its schema there is what its create_all would have made:
    the baseline revision, without a version table. Then the dump's rows, copied as they are."""
    engine = open_engine(url)
    with engine.begin() as conn:
        migrations.upgrade(conn, migrations.revisions()[0])
        conn.execute(text(f"DROP TABLE {migrations.VERSION_TABLE}"))
    source = sqlalchemy.create_engine(load_sqlite_090(tmp_path / "source.db"))
    source_tables, target_tables = sqlalchemy.MetaData(), sqlalchemy.MetaData()
    source_tables.reflect(source)
    target_tables.reflect(engine)
    with source.connect() as reading, engine.begin() as writing:
        for name in TABLES_090:
            rows = [{key: value.replace(tzinfo=timezone.utc) if hasattr(value, "tzinfo") and value.tzinfo is None
                     else value for key, value in row.items()}
                    for row in reading.execute(select(source_tables.tables[name])).mappings()]
            if rows:
                writing.execute(target_tables.tables[name].insert(), rows)
            if "id" in target_tables.tables[name].c:  # the rows came with their ids: move the sequence on
                writing.execute(text(f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                                     f"(SELECT coalesce(max(id), 1) FROM {name}))"))
    source.dispose()
    engine.dispose()


@pytest.fixture
def store_090(store_url, tmp_path) -> str:
    if store_url.startswith("sqlite"):
        return load_sqlite_090(Path(sqlalchemy.make_url(store_url).database))
    load_postgresql_090(store_url, tmp_path)
    return store_url


def snapshot(url: str) -> dict[str, list[tuple]]:
    """Every row of 0.9.0's tables, in 0.9.0's columns, in key order."""
    engine = sqlalchemy.create_engine(url)
    tables = sqlalchemy.MetaData()
    tables.reflect(engine, only=TABLES_090)
    rows = {}
    with engine.connect() as conn:
        for name in TABLES_090:
            table = tables.tables[name]
            columns = [c for c in table.c if c.name != "run_id"]  # the one column added since
            order = list(table.primary_key.columns)
            rows[name] = [tuple(row) for row in conn.execute(select(*columns).order_by(*order))]
    engine.dispose()
    return rows


def data(rows: dict) -> dict:
    """All but store_info, whose versions the upgrade changes (checked by version_rows)."""
    return {name: table_rows for name, table_rows in rows.items() if name != "store_info"}


def version_rows(url: str) -> tuple[list, dict]:
    engine = sqlalchemy.create_engine(url)
    with engine.connect() as conn:
        revision = conn.execute(text(f"SELECT version_num FROM {migrations.VERSION_TABLE}")).scalars().all()
        info = dict(conn.execute(text("SELECT key, value FROM store_info")).tuples().all())
    engine.dispose()
    return revision, info


def schema_differences(url: str) -> list:
    engine = sqlalchemy.create_engine(url)
    with engine.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), models_metadata())
    engine.dispose()
    return [d for d in differences if not (isinstance(d, tuple) and d[0] == "remove_table"
                                           and d[1].name == migrations.VERSION_TABLE)]


# -- a 0.9.0 store --------------------------------------------------------------------------------
def test_a_090_store_upgrades_in_place_with_nothing_lost_and_works(store_090):
    url = store_090
    before = snapshot(url)
    assert {name: len(rows) for name, rows in before.items()} == dumped_counts()  # the whole fixture is there
    assert len(before["samples"]) == 74 and len(before["prediction_log"]) == 21 and len(before["audit_trail"]) == 3

    store = FeatureStore(url)  # the first store to open it upgrades the whole database
    assert version_rows(url) == ([HEAD], {"schema_version": str(STORE_SCHEMA_VERSION), "app_version": __version__})
    assert schema_differences(url) == []
    assert data(snapshot(url)) == data(before)  # every row of every table, every column, unchanged

    # the stores read what 0.9.0 wrote and write on top of it
    dataset = store.load_dataset()
    assert sorted(dataset.experiments) == [1, 6]
    assert (dataset.experiments[1].rows, dataset.experiments[6].rows) == (25, 24)  # 6: its second, current version
    assert [(f["name"], f["version"]) for f in store.feature_sets()][:3] == [("process", 1), ("seed_slides", 1),
                                                                             ("signals", 1)]
    store.close()
    audit = AuditTrail(url)
    assert [e.action for e in audit.entries()] == ["model.promoted", "settings.changed", "alarm.acknowledged"]
    audit.record("db.upgraded", subject="test", user="it")
    assert len(audit.entries()) == 4
    with pytest.raises(sqlalchemy.exc.DBAPIError, match="append-only"):
        run_sql(url, "UPDATE audit_trail SET comment = 'changed' WHERE id = 1")
    audit.close()
    log = PredictionLog(url, flush_interval_s=0.05)
    assert log.count() == 21 and log.recent(machine="m3")[0]["run_id"] is None
    log.append({"machine": "m1", "probability": 0.9, "wear_state": "worn", "run_id": 7})
    assert log.flush(10) and log.count() == 22 and log.recent(machine="m1", limit=1)[0]["run_id"] == 7
    log.close()
    history = PipelineHistory(url)
    assert [f.trigger for f in history.firings()] == ["schedule", "manual"]
    assert history.unseen({"0" * 64: "x", "1" * 64: "y"}) == {"1" * 64: "y"}
    history.close()
    changes = ToolChangeLog(url)
    assert changes.record("m1", "worn", user="operator1").label == "worn"
    changes.close()
    assert version_rows(url)[0] == [HEAD]


def test_the_sqlite_file_is_copied_before_the_upgrade(tmp_path):
    url = load_sqlite_090(tmp_path / "features.db")
    before = snapshot(url)
    AuditTrail(url).close()
    copy = tmp_path / "features.db.schema-1.bak"
    assert copy.is_file()
    assert snapshot(f"sqlite:///{copy}") == before  # store_info too: the copy is the store as it was
    assert not sqlalchemy.inspect(sqlalchemy.create_engine(f"sqlite:///{copy}")).has_table(migrations.VERSION_TABLE)
    AuditTrail(url).close()  # at head now: opened again, nothing upgraded, no second copy
    assert sorted(p.name for p in tmp_path.glob("*.bak")) == ["features.db.schema-1.bak"]


def test_a_store_an_older_build_gave_part_of_the_next_revision_is_finished(store_090):
    """A pre-migration build added run_id and some new tables by itself; a crash can stop a
    SQLite upgrade half way: running the revisions again creates only what is missing."""
    run_sql(store_090, "ALTER TABLE prediction_log ADD COLUMN run_id BIGINT")
    engine = sqlalchemy.create_engine(store_090)
    models_metadata().tables["tool_changes"].create(engine)  # as that build's create_all made it
    engine.dispose()
    before = snapshot(store_090)
    engine = open_engine(store_090)
    with creating_tables(store_090, engine):
        done = bring_to_head(engine, store_090)
    engine.dispose()
    assert (done["from"], done["to"], done["state"]) == (None, HEAD, "behind")
    assert data(snapshot(store_090)) == data(before)
    assert schema_differences(store_090) == []
    assert version_rows(store_090)[0] == [HEAD]


# -- a new database, the head revision ----------------------------------------------------------
def test_a_new_database_is_created_at_head_and_matches_the_store_modules(store_url):
    """Whichever store opens a new database first creates every table at the head revision; the
    head has exactly the tables, columns and indexes today's store modules define."""
    AuditTrail(store_url).close()
    assert version_rows(store_url) == ([HEAD], {"schema_version": str(STORE_SCHEMA_VERSION),
                                                  "app_version": __version__})
    assert schema_differences(store_url) == []
    engine = sqlalchemy.create_engine(store_url)
    assert set(sqlalchemy.inspect(engine).get_table_names()) == {*models_metadata().tables, migrations.VERSION_TABLE}
    engine.dispose()


def test_a_table_without_a_revision_is_found(store_url):
    """What the test above catches: a column a store module gained without a revision."""
    AuditTrail(store_url).close()
    run_sql(store_url, "ALTER TABLE tool_changes DROP COLUMN runs")
    assert [d[0] for d in schema_differences(store_url)] == ["add_column"]


def test_the_revision_files_are_one_numbered_chain():
    assert migrations.script_revisions() == migrations.revisions() == [f"{n:04d}" for n in range(1, STORE_SCHEMA_VERSION + 1)]
    assert STORE_SCHEMA_VERSION == int(migrations.head())
    for path in migrations.VERSIONS.glob("*.py"):
        assert re.search(rf'^revision = "{path.name[:4]}"$', path.read_text(), flags=re.M), path.name


# -- newer stores ----------------------------------------------------------------------------------
def test_a_store_at_a_revision_this_cncwear_does_not_know_is_refused_naming_both_versions(store_url):
    AuditTrail(store_url).close()
    run_sql(store_url, f"UPDATE {migrations.VERSION_TABLE} SET version_num = '0007'",
            "UPDATE store_info SET value = '7.1.0' WHERE key = 'app_version'")
    for opener in OPENERS:
        with pytest.raises(StoreTooNew) as refused:
            opener(store_url)
        assert (f"schema version {STORE_SCHEMA_VERSION} at revision 0007 (written by cncwear 7.1.0); "
                f"this is cncwear {__version__}, which reads schema version {STORE_SCHEMA_VERSION} at most") \
            in str(refused.value)
    assert version_rows(store_url)[0] == ["0007"]  # nothing written


# -- the command line -------------------------------------------------------------------------------
def test_db_current_and_upgrade_on_a_090_store(tmp_path):
    url = load_sqlite_090(tmp_path / "features.db")
    current = run_cli("db", "current", "--store", url)
    assert current.returncode == 0, current.stderr
    assert "no version table: cncwear 0.9.0's schema (schema version 1)" in current.stdout
    assert f"this cncwear: {__version__}, revision {HEAD} (schema version {int(HEAD)})" in current.stdout
    assert "state: behind" in current.stdout
    upgraded = run_cli("db", "upgrade", "--store", url)
    assert upgraded.returncode == 0, upgraded.stderr
    assert f"upgraded from cncwear 0.9.0's schema (no version table) to revision {HEAD}" in upgraded.stdout
    assert f"a copy of the store as it was: {tmp_path / 'features.db.schema-1.bak'}" in upgraded.stdout
    again = run_cli("db", "upgrade", "--store", url)
    assert f"already at revision {HEAD} (schema version {int(HEAD)}): nothing to do" in again.stdout
    import json

    status = json.loads(run_cli("db", "current", "--store", url, "--json").stdout)
    assert status == {"store": url, "revision": HEAD, "schema_version": str(int(HEAD)), "app_version": __version__,
                      "head": HEAD, "head_schema_version": int(HEAD), "this_app_version": __version__, "state": "current",
                      "refused": None}


def test_db_on_a_newer_store_exits_2_naming_both_versions(store_url):
    AuditTrail(store_url).close()
    run_sql(store_url, f"UPDATE {migrations.VERSION_TABLE} SET version_num = '0007'",
            "UPDATE store_info SET value = '7' WHERE key = 'schema_version'",
            "UPDATE store_info SET value = '7.1.0' WHERE key = 'app_version'")
    url = store_url.replace("cncwear@", "cncwear:s3cret@")  # PostgreSQL: trust authentication ignores it
    current = run_cli("db", "current", "--store", url)
    assert current.returncode == 2 and "state: newer" in current.stdout
    assert "schema version 7 at revision 0007 (written by cncwear 7.1.0)" in current.stderr
    assert "s3cret" not in current.stdout + current.stderr
    upgraded = run_cli("db", "upgrade", "--store", store_url)
    assert upgraded.returncode == 2
    assert f"schema version 7 at revision 0007 (written by cncwear 7.1.0); this is cncwear {__version__}" \
        in upgraded.stderr
    assert version_rows(store_url)[0] == ["0007"]


@pytest.mark.parametrize("url, says", [
    ("postgresql+psycopg://cncwear:s3cret@127.0.0.1:1/cncwear", "Connection refused"),
    ("postgresql+psycopg://cncwear:s3cret@db.example:notaport/cncwear", "notaport"),
    ("nosuchdb://cncwear:s3cret@host/cncwear", "nosuchdb"),
    ("sqlite:///{tmp}/missing.db", "no such file"),
])
def test_db_current_on_a_bad_or_unreachable_store_exits_2_without_the_password(url, says, tmp_path):
    url = url.format(tmp=tmp_path)
    done = run_cli("db", "current", "--store", url)
    assert done.returncode == 2, done.stderr
    assert "cncwear db: cannot open the store at " in done.stderr and says in done.stderr
    assert "s3cret" not in done.stderr + done.stdout
    assert not (tmp_path / "missing.db").exists()  # reading never creates a store


@pytest.mark.slow
def test_processes_opening_a_090_store_at_once_upgrade_it_once(store_090, home, tmp_path):
    """The window, its watcher and the CLI started together after an update of the app."""
    from test_concurrent_first_open import OPEN_OWN_STORES, _open_at_once

    before = snapshot(store_090)
    _open_at_once(OPEN_OWN_STORES, home, tmp_path, extra_args=(store_090,))
    assert version_rows(store_090)[0] == [HEAD]
    assert data(snapshot(store_090)) == data(before)
    assert schema_differences(store_090) == []
    assert len(list(tmp_path.glob("*.bak"))) == (1 if store_090.startswith("sqlite") else 0)  # one copy, made once
