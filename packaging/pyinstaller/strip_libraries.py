"""Strip the symbol tables of the shared libraries under a folder of the built bundle.

    .venv/bin/python packaging/pyinstaller/strip_libraries.py FOLDER

Run by packaging/build.sh on ``_internal`` and ``automl-runtime``. ``strip --strip-unneeded`` keeps
``.dynsym``, all the dynamic linker reads (distributions strip their libraries the same way). Each
library is stripped into a copy, and the copy replaces it only when its loadable segments are
still aligned (``p_offset % p_align == p_vaddr % p_align``, what ld.so checks). Libraries that
patchelf rewrote (auditwheel's repairs) can lose that when stripped: scipy.libs' OpenBLAS and
libgfortran and numba's omppool/tbbpool did here ("ELF load command address/offset not
page-aligned" when loaded). PyInstaller's own ``strip=True`` strips without that check, so packaging/cncwear.spec
does not use it. Those libraries keep their symbol tables. packaging/smoke_test.py loads every
library of the bundle.
"""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import sys
import tempfile
from pathlib import Path

PT_LOAD = 1


def segments_aligned(path: Path) -> bool:
    """Whether every PT_LOAD segment of an ELF file has p_offset congruent to p_vaddr modulo p_align."""
    with open(path, "rb") as elf:
        header = elf.read(64)
        if len(header) < 52 or header[:4] != b"\x7fELF" or header[4] not in (1, 2) or header[5] not in (1, 2):
            return False
        wide, order = header[4] == 2, "<" if header[5] == 1 else ">"
        if wide:
            phoff, = struct.unpack_from(order + "Q", header, 32)
            entry_size, count = struct.unpack_from(order + "HH", header, 54)
            layout, fields = order + "IIQQQQQQ", (0, 2, 3, 7)  # type, flags, offset, vaddr, paddr, filesz, memsz, align
        else:
            phoff, = struct.unpack_from(order + "I", header, 28)
            entry_size, count = struct.unpack_from(order + "HH", header, 42)
            layout, fields = order + "IIIIIIII", (0, 1, 2, 7)  # type, offset, vaddr, paddr, filesz, memsz, flags, align
        elf.seek(phoff)
        table = elf.read(entry_size * count)
    if len(table) < entry_size * count or entry_size < struct.calcsize(layout):
        return False
    for index in range(count):
        values = struct.unpack_from(layout, table, index * entry_size)
        kind, offset, vaddr, align = (values[i] for i in fields)
        if kind == PT_LOAD and align > 1 and offset % align != vaddr % align:
            return False
    return True


def libraries(folder: Path):
    for path in sorted(folder.rglob("*")):
        if (path.name.endswith(".so") or ".so." in path.name) and path.is_file() and not path.is_symlink():
            yield path


def main() -> int:
    folder = Path(sys.argv[1])
    if shutil.which("strip") is None:
        print(f"no strip (binutils) on this machine: the libraries in {folder} keep their symbol tables")
        return 0
    stripped = saved = 0
    kept: list[str] = []
    found = list(libraries(folder))
    with tempfile.TemporaryDirectory(dir=folder) as scratch:  # on the same file system, for os.replace
        copy = Path(scratch) / "stripped"
        for path in found:
            if not segments_aligned(path):  # not a (loadable) ELF file: leave it as it is
                continue
            done = subprocess.run(["strip", "--strip-unneeded", "-o", str(copy), str(path)], capture_output=True, text=True)
            if done.returncode != 0 or not segments_aligned(copy):
                kept.append(str(path.relative_to(folder)))
                continue
            before, after = path.stat().st_size, copy.stat().st_size
            if after < before:
                shutil.copymode(path, copy)
                os.replace(copy, path)
                stripped, saved = stripped + 1, saved + before - after
    print(f"stripped {stripped} libraries in {folder} ({saved / 2**20:,.0f} MiB less)"
          + (f"; kept {len(kept)} as they are (stripped, their load segments would be misaligned): {', '.join(kept)}"
             if kept else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
