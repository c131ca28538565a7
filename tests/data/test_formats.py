"""The formats shop floors export, made from real bundled experiments: each is read to exactly the
samples of the original, or refused naming file, line and column (exit 2, nothing written).
Chunk boundaries are tested with tiny chunks (a 1 GB file is benchmarks/large_file.py's)."""

import gzip
import json
import shutil
import zipfile

import numpy as np
import pandas as pd
import pytest

from helpers import run_cli
from cncwear_gui.data.dataset import load_dataset

NUMBER = 4  # 532 rows, LF line endings
CR_ONLY = 12  # experiment_12.csv ends its lines with CR only


def _text(bundled_dir, number=NUMBER) -> str:
    return (bundled_dir / f"experiment_{number:02d}.csv").read_bytes().decode()


def semicolon_decimal_comma(text):
    return text.replace(",", ";").replace(".", ",")


def _write(folder, name, content):
    path = folder / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    return path


@pytest.fixture(scope="module")
def original(bundled_dir):
    return load_dataset([bundled_dir / f"experiment_{NUMBER:02d}.csv", bundled_dir / f"experiment_{CR_ONLY:02d}.csv"])


def _same_samples(dataset, original, number=NUMBER, columns=slice(None)):
    assert dataset.ok, [r.to_json() for r in dataset.reports]
    got, want = dataset.experiments[number].samples.loc[:, columns], original.experiments[number].samples.loc[:, columns]
    pd.testing.assert_frame_equal(got.reset_index(drop=True), want.reset_index(drop=True))
    return dataset.reports[0]


@pytest.fixture
def floor(tmp_path, bundled_dir):
    folder = tmp_path / "floor"
    folder.mkdir()
    shutil.copyfile(bundled_dir / "train.csv", folder / "train.csv")
    return folder


@pytest.mark.parametrize("name, convert", [
    ("semicolon_decimal_comma.csv", semicolon_decimal_comma),
    ("semicolon_decimal_point.csv", lambda t: t.replace(",", ";")),
    ("tab.tsv", lambda t: t.replace(",", "\t")),
    ("tab_decimal_comma.tsv", lambda t: t.replace(",", "\t").replace(".", ",")),
    ("semicolon_crlf.csv", lambda t: semicolon_decimal_comma(t).replace("\n", "\r\n")),
    ("semicolon_upper_case.csv", lambda t: semicolon_decimal_comma(t.split("\n", 1)[0].upper() + "\n" + t.split("\n", 1)[1])),
])
def test_delimited_text_reads_to_the_original_samples(floor, original, bundled_dir, name, convert):
    path = _write(floor, f"experiment_{NUMBER:02d}{name[name.rindex('.'):]}", convert(_text(bundled_dir)))
    dataset = load_dataset([path, floor / "train.csv"])
    report = _same_samples(dataset, original)
    assert report.flags == original.reports[0].flags and report.experiment == NUMBER


@pytest.mark.parametrize("chunk_bytes", [900, 4096, 65_536])
def test_chunks_of_any_size_give_the_same_samples_and_report(floor, original, bundled_dir, chunk_bytes):
    for number in (NUMBER, CR_ONLY):  # LF, and CR-only: a CR at a block's end may be half a CRLF
        dataset = load_dataset([bundled_dir / f"experiment_{number:02d}.csv", floor / "train.csv"], chunk_bytes=chunk_bytes)
        _same_samples(dataset, original, number)
        want = next(r for r in original.reports if r.experiment == number)
        assert dataset.reports[0].to_json() == want.to_json()
    crlf = _write(floor, "experiment_04.csv", _text(bundled_dir).replace("\n", "\r\n"))
    _same_samples(load_dataset([crlf], chunk_bytes=chunk_bytes), original)


def test_a_problem_deep_in_a_chunked_file_keeps_its_line_and_column(floor, bundled_dir):
    lines = _text(bundled_dir).splitlines()
    cells = lines[400].split(",")
    cells[8] = "3.2O7E+02"
    lines[400] = ",".join(cells)
    lines.append(",".join(lines[10].split(",")[:20]))  # and it stops mid-row
    path = _write(floor, "experiment_04.csv", "\n".join(lines))
    [report] = load_dataset([path], chunk_bytes=2048).reports
    assert (report.errors[0].line, report.errors[0].column) == (401, 9)
    lines[400] = ",".join(lines[401].split(","))
    path = _write(floor, "experiment_04.csv", "\n".join(lines))
    [report] = load_dataset([path], chunk_bytes=2048).reports
    error = report.errors[0]
    assert (error.line, error.column) == (len(lines), 20) and "truncated" in error.message


def test_gzip_and_a_zip_holding_one_csv(floor, original, bundled_dir):
    raw = (bundled_dir / f"experiment_{NUMBER:02d}.csv").read_bytes()
    gz = _write(floor, f"experiment_{NUMBER:02d}.csv.gz", gzip.compress(raw))
    _same_samples(load_dataset([gz, floor / "train.csv"], chunk_bytes=5000), original)
    zipped = floor / f"experiment_{NUMBER:02d}.zip"
    with zipfile.ZipFile(zipped, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("export/data.csv", semicolon_decimal_comma(raw.decode()))
    dataset = load_dataset([zipped, floor / "train.csv"])
    _same_samples(dataset, original)
    assert dataset.reports[0].sha256 and dataset.reports[0].experiment == NUMBER
    both = load_dataset([floor])  # a folder lists .csv.gz and .zip too
    assert [r.path.rsplit("/", 1)[1] for r in both.reports if r.kind == "experiment"] == [
        "experiment_04.csv.gz", "experiment_04.zip"]


def test_parquet_with_an_index_column_and_lower_case_names(floor, original, bundled_dir):
    frame = pd.read_csv(bundled_dir / f"experiment_{NUMBER:02d}.csv")
    frame.columns = [c.lower() for c in frame.columns]
    path = floor / f"experiment_{NUMBER:02d}.parquet"
    frame.to_parquet(path, index=True)  # pandas writes the RangeIndex as metadata; make it a column
    frame.reset_index().rename(columns={"index": "idx"}).to_parquet(path, index=False)
    dataset = load_dataset([path, floor / "train.csv"], chunk_bytes=50_000)  # ~100-row batches
    everything_but_line = [c for c in original.experiments[NUMBER].samples.columns if c != "line"]
    report = _same_samples(dataset, original, columns=everything_but_line)
    assert any("index column" in w.message for w in report.warnings)
    assert dataset.experiments[NUMBER].samples["line"].tolist()[:2] == [1, 2]  # Parquet: the row number


def _validate_refuses(tmp_path, path, *fragments):
    done = run_cli("validate", "--json", str(path))
    assert done.returncode == 2, done.stdout
    [report] = [f for f in json.loads(done.stdout)["files"] if f["status"] == "rejected"]
    error = report["errors"][0]
    for fragment in fragments:
        assert fragment in json.dumps(error), error
    return error


def test_an_ambiguous_decimal_separator_is_refused(floor, bundled_dir, tmp_path):
    lines = semicolon_decimal_comma(_text(bundled_dir)).splitlines()
    cells = lines[300].split(";")
    cells[2] = cells[2].replace(",", ".")  # one cell exported with a decimal point
    lines[300] = ";".join(cells)
    path = _write(floor, "experiment_04.csv", "\n".join(lines))
    error = _validate_refuses(tmp_path, path, "ambiguous decimal separator", "semicolon")
    assert (error["line"], error["column"]) == (301, 3)


def test_a_truncated_gzip_is_refused(floor, bundled_dir, tmp_path):
    packed = gzip.compress((bundled_dir / "experiment_04.csv").read_bytes())
    path = _write(floor, "experiment_04.csv.gz", packed[: len(packed) // 2])
    error = _validate_refuses(tmp_path, path, "gzip file is truncated")
    assert error["line"] > 1


def test_a_parquet_column_of_the_wrong_type_is_refused(floor, bundled_dir, tmp_path):
    frame = pd.read_csv(bundled_dir / "experiment_04.csv")
    frame["X1_OutputCurrent"] = frame["X1_OutputCurrent"].astype(str)
    path = floor / "experiment_04.parquet"
    frame.to_parquet(path, index=False)
    error = _validate_refuses(tmp_path, path, "X1_OutputCurrent", "expected numbers")
    assert error["column"] == 9


def test_a_zip_holding_several_csvs_is_refused_naming_them(floor, bundled_dir, tmp_path):
    path = floor / "shift.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for number in (1, 2):
            archive.write(bundled_dir / f"experiment_{number:02d}.csv", f"experiment_{number:02d}.csv")
    _validate_refuses(tmp_path, path, "holds 2 CSV files", "experiment_01.csv, experiment_02.csv", "none was read")


def test_progress_runs_through_a_file_and_cancel_stops_it_between_chunks(bundled_dir):
    from cncwear_gui.tasks import Cancelled, Task

    seen = []
    load_dataset([bundled_dir / "experiment_04.csv"], task=Task(lambda f, m: seen.append((f, m))), chunk_bytes=20_000)
    reading = [f for f, m in seen if m.startswith("reading")]
    assert len(reading) > 5 and reading == sorted(reading) and 0 < reading[0] < reading[-1] <= 1

    def cancel_after_a_chunk(fraction, message):
        if message.startswith("reading") and fraction > reading[2]:
            task.cancel()

    task = Task(cancel_after_a_chunk)
    with pytest.raises(Cancelled):
        load_dataset([bundled_dir / "experiment_04.csv"], task=task, chunk_bytes=20_000)
