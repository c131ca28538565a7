"""The one atomic write: all or nothing, and nothing left behind when it fails."""

from __future__ import annotations

import os
import pickle

import pytest

from cncwear_gui.atomic_files import atomic_path, write_atomic


@pytest.fixture
def folder(tmp_path):
    """A folder with the target and a neighbour that no write may touch."""
    (tmp_path / "target.json").write_text('{"old": true}', encoding="utf-8")
    (tmp_path / "neighbour.txt").write_bytes(b"keep me")
    return tmp_path


def _assert_untouched_but(folder, target_text):
    assert sorted(p.name for p in folder.iterdir()) == ["neighbour.txt", "target.json"]  # no temporary file
    assert (folder / "neighbour.txt").read_bytes() == b"keep me"
    assert (folder / "target.json").read_text(encoding="utf-8") == target_text


@pytest.mark.parametrize("fsync", [True, False])
def test_a_successful_write_replaces_the_file(folder, fsync):
    assert write_atomic(folder / "target.json", '{"new": "é"}', fsync=fsync) == folder / "target.json"
    _assert_untouched_but(folder, '{"new": "é"}')
    write_atomic(str(folder / "target.json"), b"\x00bytes")
    assert (folder / "target.json").read_bytes() == b"\x00bytes"


def test_a_new_file_is_created_with_the_usual_permissions(folder):
    write_atomic(folder / "fresh.txt", "x")
    plain = folder / "plain.txt"
    plain.write_text("x")
    assert (folder / "fresh.txt").stat().st_mode == plain.stat().st_mode  # not mkstemp's 0600


def test_text_that_cannot_be_encoded_keeps_the_old_file(folder):
    with pytest.raises(UnicodeEncodeError):
        write_atomic(folder / "target.json", "a lone surrogate \udc80")
    with pytest.raises(UnicodeEncodeError):
        write_atomic(folder / "target.json", "ä", encoding="ascii")
    _assert_untouched_but(folder, '{"old": true}')


def test_a_writer_that_fails_midway_keeps_the_old_file_and_leaves_no_temporary_file(folder):
    class Unpicklable:
        def __reduce__(self):
            raise TypeError("cannot pickle this")

    with pytest.raises(TypeError, match="cannot pickle"):
        with atomic_path(folder / "target.json") as temporary:
            assert temporary.parent == folder and not temporary.exists()
            with open(temporary, "wb") as handle:
                handle.write(b"half a file")
                handle.flush()
                pickle.dump(["a", Unpicklable()], handle)
    _assert_untouched_but(folder, '{"old": true}')

    with pytest.raises(KeyboardInterrupt):  # not only Exception: a Ctrl+C midway cleans up too
        with atomic_path(folder / "target.json") as temporary:
            temporary.write_bytes(b"half")
            raise KeyboardInterrupt
    _assert_untouched_but(folder, '{"old": true}')


def test_a_failed_rename_keeps_the_old_file_and_leaves_no_temporary_file(folder, monkeypatch):
    def refuse(*args):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(OSError, match="disk full"):
        write_atomic(folder / "target.json", "new")
    _assert_untouched_but(folder, '{"old": true}')


def test_a_writer_that_writes_nothing_fails_and_keeps_the_old_file(folder):
    with pytest.raises(FileNotFoundError):
        with atomic_path(folder / "target.json"):
            pass
    _assert_untouched_but(folder, '{"old": true}')


def test_atomic_path_renames_into_place_for_writers_that_need_a_name(folder):
    with atomic_path(folder / "model.pkl") as temporary:
        assert temporary.name.startswith(".model.pkl.") and temporary.name.endswith(".part")
        with open(temporary, "wb") as handle:
            pickle.dump({"weights": [1, 2, 3]}, handle)
        assert not (folder / "model.pkl").exists()  # nothing under the real name until it is complete
    assert pickle.loads((folder / "model.pkl").read_bytes()) == {"weights": [1, 2, 3]}
    assert sorted(p.name for p in folder.iterdir()) == ["model.pkl", "neighbour.txt", "target.json"]


def test_a_missing_folder_is_an_error_not_a_created_folder(tmp_path):
    with pytest.raises(FileNotFoundError):
        write_atomic(tmp_path / "no" / "such" / "file.txt", "x")
    assert list(tmp_path.iterdir()) == []
