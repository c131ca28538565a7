"""All-or-nothing file writes: the one home for "write beside the target, then rename over it".

A reader (another process, the next start after a crash) sees either the old file or the whole
new one, never half of it, and a write that fails leaves the old file as it was and no temporary
file behind.

* :func:`write_atomic` writes a ``str`` (encoded first, so an unencodable text fails before any
  file exists) or ``bytes``.
* :func:`atomic_path` is for writers that need a file name (Qt's PDF printer, ``pickle.dump`` on
  an open file, a library's ``save(path)``): it yields a temporary path in the target's folder,
  renamed over the target when the ``with`` body ends normally and removed on any error.

The temporary file is ``.NAME.RANDOM.part`` in the target's folder (a rename is atomic only
within one file system), hidden and with a suffix that folder watchers ignore. It is created by
the writer with the usual permissions (the umask), as a plain ``open`` would.

``fsync=True`` (the default) flushes the data and then the folder entry to the disk before the
function returns, so a power cut right after a save keeps it: use it for what cannot be made
again (settings, models, reference profiles). Exports a user can repeat may pass ``fsync=False``.

Standard library only; imports nothing from cncwear_gui (the bottom layer).
"""

from __future__ import annotations

import os
import secrets
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

PART_SUFFIX = ".part"


def write_atomic(path: str | Path, data: str | bytes, encoding: str = "utf-8", *, fsync: bool = True) -> Path:
    """Replace ``path`` with ``data`` all at once; returns the path."""
    payload = data.encode(encoding) if isinstance(data, str) else bytes(data)
    with atomic_path(path, fsync=fsync) as temporary:
        with open(temporary, "xb") as handle:
            handle.write(payload)
    return Path(path)


@contextmanager
def atomic_path(path: str | Path, *, fsync: bool = True) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success it replaces ``path``, on error it is removed.

    The body must create the file at the yielded path (it does not exist yet).
    """
    path = Path(path)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}{PART_SUFFIX}")
    try:
        yield temporary
        if fsync:
            _fsync_file(temporary)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    if fsync:
        _fsync_folder(path.parent)


def _fsync_file(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _fsync_folder(folder: Path) -> None:
    """Make the rename itself durable (POSIX; Windows cannot open a folder for this)."""
    if os.name != "posix":
        return
    try:
        descriptor = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:  # some file systems (network shares) refuse it: the data itself is synced
        pass
    finally:
        os.close(descriptor)
