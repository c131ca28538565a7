"""A store written by a newer cncwear is refused, on both engines, with a message naming both
versions, before anything is written to it."""

import pytest
import sqlalchemy
from helpers import BUNDLED, run_cli, run_sql
from sqlalchemy import text

from cncwear_gui import __version__
from cncwear_gui.store.audit_trail import AuditTrail
from cncwear_gui.store.database import STORE_SCHEMA_VERSION, StoreTooNew
from cncwear_gui.store.feature_store import FeatureStore
from cncwear_gui.store.pipeline_history import PipelineHistory
from cncwear_gui.store.prediction_log import PredictionLog
from cncwear_gui.store.taught_references import TaughtReferenceStore
from cncwear_gui.store.tool_changes import ToolChangeLog

NEWER = STORE_SCHEMA_VERSION + 1
OPENERS = {"feature store": FeatureStore, "audit trail": AuditTrail, "prediction log": PredictionLog,
           "pipeline history": PipelineHistory, "taught references": TaughtReferenceStore,
           "tool changes": ToolChangeLog}




def _tables(url) -> list[str]:
    engine = sqlalchemy.create_engine(url)
    try:
        return sorted(sqlalchemy.inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_a_new_store_records_its_schema_and_the_app_that_created_it(store_url):
    FeatureStore(store_url).close()
    engine = sqlalchemy.create_engine(store_url)
    with engine.connect() as conn:
        info = dict(conn.execute(text("SELECT key, value FROM store_info")).tuples().all())
    engine.dispose()
    assert info == {"schema_version": str(STORE_SCHEMA_VERSION), "app_version": __version__}
    store = FeatureStore(store_url)  # this version opens its own store again
    store.close()


@pytest.mark.parametrize("opener", list(OPENERS))
def test_every_store_refuses_a_newer_schema_and_creates_nothing(store_url, opener):
    run_sql(store_url, "CREATE TABLE store_info (key VARCHAR(64) PRIMARY KEY, value VARCHAR(256))",
         f"INSERT INTO store_info VALUES ('schema_version', '{NEWER}'), ('app_version', '7.1.0')")
    with pytest.raises(StoreTooNew) as refused:
        OPENERS[opener](store_url)
    message = str(refused.value)
    assert f"schema version {NEWER} (written by cncwear 7.1.0)" in message
    assert f"this is cncwear {__version__}, which reads schema version {STORE_SCHEMA_VERSION} at most" in message
    assert "Nothing was changed" in message
    assert _tables(store_url) == ["store_info"]  # not one table of this version's added


def test_a_newer_store_without_its_app_version_is_refused_too(store_url):
    FeatureStore(store_url).close()
    run_sql(store_url, f"UPDATE store_info SET value = '{NEWER}' WHERE key = 'schema_version'",
         "DELETE FROM store_info WHERE key = 'app_version'")
    with pytest.raises(StoreTooNew, match=f"schema version {NEWER} \\(written by a newer cncwear\\)"):
        FeatureStore(store_url)


def test_the_cli_says_so_with_exit_2_and_no_password(store_url):
    FeatureStore(store_url).close()
    run_sql(store_url, f"UPDATE store_info SET value = '{NEWER}' WHERE key = 'schema_version'",
         "UPDATE store_info SET value = '7.1.0' WHERE key = 'app_version'")
    url = store_url.replace("cncwear@", "cncwear:s3cret@")  # PostgreSQL: trust authentication ignores it
    done = run_cli("import", "--store", url, str(BUNDLED / "experiment_03.csv"))
    assert done.returncode == 2, done.stderr
    assert f"schema version {NEWER} (written by cncwear 7.1.0); this is cncwear {__version__}" in done.stderr
    assert "s3cret" not in done.stderr
