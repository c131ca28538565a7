"""Bad input: a clear message naming file, line and column; exit 2; nothing stored."""

import json
import shutil

import pytest

from helpers import run_cli
from cncwear_gui.store.feature_store import FeatureStore


def _experiment_lines(bundled_dir, number=4):
    return (bundled_dir / f"experiment_{number:02d}.csv").read_text().splitlines()


def _folder(tmp_path, bundled_dir, name, content):
    """A dataset folder: train.csv plus one (bad) experiment file."""
    folder = tmp_path / "bad"
    folder.mkdir(exist_ok=True)
    shutil.copyfile(bundled_dir / "train.csv", folder / "train.csv")
    path = folder / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    return folder, path


def _validate(*paths):
    done = run_cli("validate", "--json", *map(str, paths))
    assert done.returncode == 2, done.stdout + done.stderr
    report = json.loads(done.stdout)
    rejected = [f for f in report["files"] if f["status"] == "rejected"]
    assert rejected, report
    return rejected[0]


def _the_error(file_report):
    assert file_report["errors"], file_report
    return file_report["errors"][0]


def test_empty_file(tmp_path, bundled_dir):
    _, path = _folder(tmp_path, bundled_dir, "experiment_04.csv", b"")
    error = _the_error(_validate(path))
    assert "empty" in error["message"]


def test_header_only(tmp_path, bundled_dir):
    _, path = _folder(tmp_path, bundled_dir, "experiment_04.csv", _experiment_lines(bundled_dir)[0] + "\n")
    error = _the_error(_validate(path))
    assert "no data rows" in error["message"] and error["line"] == 1


def test_truncated_last_line(tmp_path, bundled_dir):
    lines = _experiment_lines(bundled_dir)
    lines[-1] = ",".join(lines[-1].split(",")[:20])
    _, path = _folder(tmp_path, bundled_dir, "experiment_04.csv", "\n".join(lines))
    error = _the_error(_validate(path))
    assert error["line"] == len(lines)
    assert "20 fields" in error["message"] and "truncated" in error["message"]
    assert error["column"] == 20


def test_wrong_delimiter(tmp_path, bundled_dir):
    text = "\n".join(line.replace(",", "|") for line in _experiment_lines(bundled_dir))
    _, path = _folder(tmp_path, bundled_dir, "experiment_04.csv", text)
    error = _the_error(_validate(path))
    assert "delimiter" in error["message"] and "pipes" in error["message"] and error["line"] == 1


def test_mixed_delimiters_in_the_header(tmp_path, bundled_dir):
    lines = _experiment_lines(bundled_dir)
    lines[0] = lines[0].replace(",", ";", 3)
    _, path = _folder(tmp_path, bundled_dir, "experiment_04.csv", "\n".join(lines))
    error = _the_error(_validate(path))
    assert "mixes delimiters" in error["message"] and "3 semicolon" in error["message"] and error["line"] == 1


def test_non_numeric_cell_is_located(tmp_path, bundled_dir):
    lines = _experiment_lines(bundled_dir)
    cells = lines[100].split(",")
    cells[8] = "3.2O7E+02"  # a letter O typed for a zero, X1_OutputCurrent
    lines[100] = ",".join(cells)
    _, path = _folder(tmp_path, bundled_dir, "experiment_04.csv", "\n".join(lines))
    error = _the_error(_validate(path))
    assert (error["line"], error["column"]) == (101, 9)
    assert "3.2O7E+02" in error["message"] and "X1_OutputCurrent" in error["message"]


def test_binary_file(tmp_path, bundled_dir):
    png = (bundled_dir / "test_artifact.jpg").read_bytes()
    _, path = _folder(tmp_path, bundled_dir, "experiment_04.csv", png)
    error = _the_error(_validate(path))
    assert "not a CSV text file" in error["message"]


def test_an_explicit_size_limit_refuses_a_file_without_reading_it(tmp_path, bundled_dir):
    from cncwear_gui.data.csvtext import CsvReader
    from cncwear_gui.data.report import DataError

    _, path = _folder(tmp_path, bundled_dir, "experiment_04.csv", (bundled_dir / "experiment_04.csv").read_bytes())
    with pytest.raises(DataError, match=r"file is 0\.\d MB, more than the size limit of 0 MB; it was not read"):
        CsvReader(path, max_bytes=100_000)
    assert CsvReader(path).header[0] == "X1_ActualPosition"  # no limit by default


def test_experiment_without_metadata_row(tmp_path, bundled_dir):
    folder, path = _folder(tmp_path, bundled_dir, "experiment_19.csv", (bundled_dir / "experiment_04.csv").read_bytes())
    rejected = _validate(folder)
    assert rejected["path"].endswith("experiment_19.csv")
    assert "experiment 19 has no row in" in _the_error(rejected)["message"]


def test_duplicate_experiment_number_in_train_csv(tmp_path, bundled_dir):
    lines = (bundled_dir / "train.csv").read_text().splitlines()
    lines.append(lines[3])  # experiment 3 again
    folder = tmp_path / "dup"
    folder.mkdir()
    (folder / "train.csv").write_text("\n".join(lines) + "\n")
    shutil.copyfile(bundled_dir / "experiment_03.csv", folder / "experiment_03.csv")
    rejected = _validate(folder)
    error = _the_error(rejected)
    assert rejected["path"].endswith("train.csv")
    assert "duplicate experiment number 3" in error["message"] and error["line"] == len(lines) and error["column"] == 1


def test_duplicate_experiment_number_across_files(tmp_path, bundled_dir):
    other = tmp_path / "copy"
    other.mkdir()
    shutil.copyfile(bundled_dir / "experiment_05.csv", other / "experiment_5.csv")
    rejected = _validate(bundled_dir / "experiment_05.csv", other / "experiment_5.csv")
    assert "experiment 5 is already given by" in _the_error(rejected)["message"]


def test_unrecognisable_file_names_the_missing_columns(tmp_path, bundled_dir):
    _, path = _folder(tmp_path, bundled_dir, "experiment_04.csv", "a,b,c\n1,2,3\n")
    error = _the_error(_validate(path))
    assert "not a UMich experiment file" in error["message"] and "X1_ActualPosition" in error["message"]


def test_human_readable_output_names_file_line_and_column(tmp_path, bundled_dir):
    lines = _experiment_lines(bundled_dir)
    lines[7] = lines[7].replace("E+", "E+x", 1)
    _, path = _folder(tmp_path, bundled_dir, "experiment_04.csv", "\n".join(lines))
    done = run_cli("validate", str(path))
    assert done.returncode == 2
    assert f"{path}, line 8, column 1: non-numeric value" in done.stdout


@pytest.mark.parametrize("case", ["truncated", "binary", "no_metadata"])
def test_rejected_import_leaves_the_store_exactly_as_it_was(tmp_path, bundled_dir, case):
    url = f"sqlite:///{tmp_path / 'store.db'}"
    good = run_cli("import", "--store", url, str(bundled_dir / "experiment_01.csv"), str(bundled_dir / "experiment_02.csv"))
    assert good.returncode == 0, good.stderr
    store = FeatureStore(url)
    before = store.counts()
    files_before = store.files()
    store.close()

    folder = tmp_path / "incoming"
    folder.mkdir()
    shutil.copyfile(bundled_dir / "train.csv", folder / "train.csv")
    shutil.copyfile(bundled_dir / "experiment_03.csv", folder / "experiment_03.csv")  # a good file too
    if case == "truncated":
        lines = _experiment_lines(bundled_dir, 6)
        (folder / "experiment_06.csv").write_text("\n".join(lines[:-1] + [lines[-1][:40]]))
    elif case == "binary":
        (folder / "experiment_06.csv").write_bytes(b"\x00\x01\x02" * 1000)
    else:
        shutil.copyfile(bundled_dir / "experiment_06.csv", folder / "experiment_77.csv")
    done = run_cli("import", "--store", url, str(folder))
    assert done.returncode == 2
    assert "nothing imported" in done.stderr

    store = FeatureStore(url)
    assert store.counts() == before
    assert store.files().equals(files_before)
    store.close()
