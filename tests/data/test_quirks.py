"""Variants of the real files found in other copies of the dataset are read the same way."""

import pandas as pd
import pytest

from cncwear_gui.data.dataset import load_dataset
from cncwear_gui.data.schema import SIGNAL_COLUMNS


@pytest.fixture
def original(bundled_dir):
    return load_dataset([bundled_dir / "experiment_04.csv"]).experiments[4].samples


def _write(folder, name, text_or_bytes):
    path = folder / name
    if isinstance(text_or_bytes, bytes):
        path.write_bytes(text_or_bytes)
    else:
        path.write_text(text_or_bytes)
    return path


def _load_one(path, bundled_dir):
    (path.parent / "train.csv").write_bytes((bundled_dir / "train.csv").read_bytes())
    dataset = load_dataset([path])
    assert dataset.ok, [r.to_json() for r in dataset.reports]
    return dataset, dataset.experiments[4].samples


@pytest.mark.parametrize("ending", [b"\r\n", b"\r", b"\n"])
def test_any_line_ending(tmp_path, bundled_dir, original, ending):
    raw = (bundled_dir / "experiment_04.csv").read_bytes().replace(b"\r\n", b"\n").replace(b"\n", ending)
    _, samples = _load_one(_write(tmp_path, "experiment_04.csv", raw), bundled_dir)
    pd.testing.assert_frame_equal(samples.drop(columns="line"), original.drop(columns="line"))


def test_leading_unnamed_index_column_is_ignored_with_a_warning(tmp_path, bundled_dir, original):
    frame = pd.read_csv(bundled_dir / "experiment_04.csv")
    path = tmp_path / "experiment_04.csv"
    frame.to_csv(path)  # pandas writes the unnamed index column
    dataset, samples = _load_one(path, bundled_dir)
    pd.testing.assert_frame_equal(samples[list(SIGNAL_COLUMNS)], original[list(SIGNAL_COLUMNS)])
    report = dataset.reports[0]
    assert report.status == "warning"
    assert any("index column" in w.message for w in report.warnings)


def test_rounded_numbers_appended_label_and_lower_case_end(tmp_path, bundled_dir, original):
    frame = pd.read_csv(bundled_dir / "experiment_04.csv").round(1)
    frame["Machining_Process"] = frame["Machining_Process"].replace({"End": "end"})
    frame["tool_condition"] = "unworn"
    path = tmp_path / "experiment_04.csv"
    frame.to_csv(path, index=False)
    dataset, samples = _load_one(path, bundled_dir)
    assert (samples["Machining_Process"] == "End").sum() == (original["Machining_Process"] == "End").sum()
    assert any("tool_condition" in w.message and w.column == 49 for w in dataset.reports[0].warnings)
    pd.testing.assert_series_equal(samples["X1_ActualPosition"], original["X1_ActualPosition"].round(1))


def test_column_names_differing_only_in_case_are_recognised(tmp_path, bundled_dir, original):
    raw = (bundled_dir / "experiment_04.csv").read_text()
    header, rest = raw.split("\n", 1)
    _, samples = _load_one(_write(tmp_path, "experiment_04.csv", header.lower() + "\n" + rest), bundled_dir)
    pd.testing.assert_frame_equal(samples[list(SIGNAL_COLUMNS)], original[list(SIGNAL_COLUMNS)])


def test_manual_metadata_for_a_file_without_train_csv(tmp_path, bundled_dir):
    from cncwear_gui.data.metadata import ExperimentMeta

    path = tmp_path / "run_from_machine_7.csv"
    path.write_bytes((bundled_dir / "experiment_04.csv").read_bytes())
    meta = ExperimentMeta(experiment=42, feedrate=6, clamp_pressure=4, tool_condition="worn")
    dataset = load_dataset([path], manual_meta=meta)
    assert dataset.ok and list(dataset.experiments) == [42]
    assert dataset.samples()["worn"].eq(1).all()


def test_file_without_any_metadata_is_usable_for_prediction_only(tmp_path, bundled_dir):
    path = _write(tmp_path, "experiment_04.csv", (bundled_dir / "experiment_04.csv").read_bytes())
    dataset = load_dataset([path])
    assert dataset.ok and dataset.reports[0].status == "warning"
    assert "tool condition unknown" in dataset.reports[0].warnings[-1].message
    assert dataset.samples(labelled_only=True).empty
