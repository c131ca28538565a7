"""The feature store on both engines: round trip, idempotent re-import, versions, all-or-nothing imports."""


import pandas as pd
import pytest

from cncwear_gui.data.dataset import load_dataset
from cncwear_gui.features.sets import FeatureSet
from cncwear_gui.store.feature_store import FeatureSetConflict, FeatureStore, ImportRejected
from cncwear_gui.tasks import Cancelled, Task


@pytest.fixture
def store(store_url):
    store = FeatureStore(store_url)
    yield store
    store.close()


def test_default_store_lives_in_the_user_data_dir(home):
    store = FeatureStore()
    assert store.url == f"sqlite:///{home / 'features.db'}"
    assert (home / "features.db").exists()
    store.close()


def test_round_trip_of_the_whole_bundled_dataset(store, bundled_dataset):
    result = store.import_dataset(bundled_dataset)
    assert len(result.imported) == 18 and not result.unchanged
    assert store.counts()["samples"] == 25_286
    loaded = store.load_dataset()
    pd.testing.assert_frame_equal(loaded.samples(), bundled_dataset.samples())
    assert loaded.experiments[12].rows == 2_276
    assert {n: e.meta.tool_condition for n, e in loaded.experiments.items()} == {
        n: e.meta.tool_condition for n, e in bundled_dataset.experiments.items()
    }


def test_reimporting_the_same_files_is_a_no_op(store, bundled_dir):
    first = load_dataset([bundled_dir / "experiment_01.csv", bundled_dir / "experiment_02.csv"])
    store.import_dataset(first)
    before = store.counts()
    again = store.import_dataset(load_dataset([bundled_dir / "experiment_01.csv", bundled_dir / "experiment_02.csv"]))
    assert not again.imported and [u["experiment"] for u in again.unchanged] == [1, 2]
    after = store.counts()
    assert after["samples"] == before["samples"] and after["source_files"] == before["source_files"]


def test_a_changed_file_becomes_a_new_version(store, data_copy):
    store.import_dataset(load_dataset([data_copy / "experiment_07.csv"]))
    path = data_copy / "experiment_07.csv"
    lines = path.read_text().splitlines()
    path.write_text("\n".join(lines[:-10]) + "\n")  # the logger re-exported a shorter run
    result = store.import_dataset(load_dataset([path]))
    assert result.imported == [{"experiment": 7, "file": "experiment_07.csv", "rows": len(lines) - 11, "version": 2}]
    files = store.files()
    assert list(files["version"]) == [1, 2] and list(files["is_current"]) == [False, True]
    assert store.load_dataset().experiments[7].rows == len(lines) - 11


def test_a_dataset_with_a_rejected_file_writes_nothing(store, data_copy):
    (data_copy / "experiment_18.csv").write_text("garbage\n")
    dataset = load_dataset([data_copy])
    assert not dataset.ok and len(dataset.experiments) == 17
    before = store.counts()
    with pytest.raises(ImportRejected, match="experiment_18.csv"):
        store.import_dataset(dataset)
    assert store.counts() == before


def test_cancel_during_import_rolls_back(store, bundled_dataset):
    before = store.counts()
    task = Task(lambda fraction, message: fraction > 0.5 and task.cancel())
    with pytest.raises(Cancelled):
        store.import_dataset(bundled_dataset, task=task)
    assert store.counts() == before


def test_feature_sets_are_versioned(store):
    names = {(fs["name"], fs["version"]) for fs in store.feature_sets()}
    assert {("seed_slides", 1), ("signals", 1)} <= names
    changed = FeatureSet("signals", 1, "same name and version, other columns", ("X1_ActualPosition",))
    with pytest.raises(FeatureSetConflict):
        store.register_feature_set(changed)
    store.register_feature_set(FeatureSet("signals", 2, "a new version", ("X1_ActualPosition",)))
    assert ("signals", 2) in {(fs["name"], fs["version"]) for fs in store.feature_sets()}


def test_import_cli_json(store_url, bundled_dir):
    from helpers import run_cli
    import json

    url = store_url
    done = run_cli("import", "--json", "--store", url, str(bundled_dir / "experiment_03.csv"))
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["imported"][0]["experiment"] == 3 and out["rows"] == 1_521
    again = json.loads(run_cli("import", "--json", "--store", url, str(bundled_dir / "experiment_03.csv")).stdout)
    assert again["imported"] == [] and again["unchanged"][0]["experiment"] == 3
