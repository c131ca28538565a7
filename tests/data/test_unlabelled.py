"""Files with valid signals but no experiment number: unlabelled, usable for scoring, never training
or the feature store; their metadata from options or a NAME.meta.json beside them."""

import json
import shutil

import pytest

from cncwear_gui.data.dataset import load_dataset
from cncwear_gui.data.metadata import ExperimentMeta
from cncwear_gui.store.feature_store import FeatureStore, ImportRejected


@pytest.fixture
def floor(tmp_path, bundled_dir):
    folder = tmp_path / "floor"
    folder.mkdir()
    for name in ("mill3_2026-12-01.csv", "mill3_2026-12-02.csv"):
        shutil.copyfile(bundled_dir / "experiment_01.csv", folder / name)
    return folder


def test_unlabelled_files_are_keyed_apart_and_never_labelled(floor, bundled_dir):
    dataset = load_dataset([floor, bundled_dir / "experiment_01.csv"])
    assert dataset.ok and dataset.unlabelled == 2
    assert sorted(dataset.experiments) == [-2, -1, 1]
    unlabelled = [e for e in dataset.experiments.values() if e.unlabelled]
    assert [e.path.name for e in unlabelled] == ["mill3_2026-12-01.csv", "mill3_2026-12-02.csv"]
    assert all(e.meta is None and e.title.endswith("(unlabelled)") for e in unlabelled)
    reports = [r for r in dataset.reports if r.unlabelled]
    assert [r.status_text for r in reports] == ["warning: unlabelled"] * 2 and all(r.experiment is None for r in reports)
    labelled = dataset.samples(labelled_only=True)  # what training reads
    assert set(labelled["experiment"]) == {1}
    same = dataset.samples()
    a, b = (same[same["experiment"] == n].drop(columns=["experiment", "worn", "feedrate", "clamp_pressure",
                                                         "tool_condition"]).reset_index(drop=True) for n in (-1, 1))
    assert a.equals(b)


def test_the_feature_store_refuses_unlabelled_files(floor, tmp_path):
    store = FeatureStore(f"sqlite:///{tmp_path / 'f.db'}")
    try:
        before = store.counts()
        with pytest.raises(ImportRejected, match="2 unlabelled file"):
            store.import_dataset(load_dataset([floor]))
        assert store.counts() == before
    finally:
        store.close()


def test_a_metadata_file_beside_it_gives_constants_or_number_and_label(floor):
    (floor / "mill3_2026-12-01.meta.json").write_text(json.dumps({"feedrate": 6, "clamp_pressure": 4}))
    (floor / "mill3_2026-12-02.meta.json").write_text(json.dumps(
        {"experiment": 31, "feedrate": 6, "clamp_pressure": 4, "tool_condition": "worn"}))
    dataset = load_dataset([floor])
    assert dataset.ok and sorted(dataset.experiments) == [-1, 31]
    assert (dataset.experiments[-1].meta.feedrate, dataset.experiments[-1].meta.tool_condition) == (6.0, None)
    assert dataset.experiments[31].meta.labelled and set(dataset.samples(labelled_only=True)["experiment"]) == {31}


@pytest.mark.parametrize("content, message", [
    ('{"feedrate": 6, "tool_condition": "worn"}', "tool_condition needs an experiment number"),
    ('{"feedrate": -1}', "feedrate must be a positive number"),
    ('{"feedrate": 6,', "not a JSON metadata file"),
])
def test_a_bad_metadata_file_rejects_its_data_file(floor, content, message):
    (floor / "mill3_2026-12-01.meta.json").write_text(content)
    dataset = load_dataset([floor / "mill3_2026-12-01.csv"])
    [report] = dataset.reports
    assert not report.usable and message in report.errors[0].message and "mill3_2026-12-01.meta.json" in report.errors[0].message


def test_constants_typed_in_describe_an_unlabelled_file(floor):
    meta = ExperimentMeta(experiment=None, feedrate=6.0, clamp_pressure=4.0)
    dataset = load_dataset([floor / "mill3_2026-12-01.csv"], manual_meta=meta)
    assert dataset.unlabelled == 1 and dataset.experiments[-1].meta.feedrate == 6.0
