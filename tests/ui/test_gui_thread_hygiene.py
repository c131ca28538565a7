"""What keeps the GUI thread free during long work: long-lived objects frozen out of full garbage
collections (the stall figures themselves are in benchmarks/gui_training_stall.py)."""

import gc
import importlib
import sys

import pytest

from cncwear_gui.ui import gc_pauses


def test_objects_are_frozen_only_after_modules_were_imported(monkeypatch):
    monkeypatch.setattr(gc_pauses, "_modules_when_frozen", 0)
    try:
        assert gc_pauses.freeze_after_imports()  # everything imported so far
        frozen = gc.get_freeze_count()
        assert frozen > 10_000
        assert not gc_pauses.freeze_after_imports()  # nothing new: nothing to do
        for name in ("colorsys", "netrc", "pickletools", "tabnanny", "pyclbr", "filecmp", "sched", "fileinput",
                     "graphlib", "zipapp", "plistlib", "wave", "mailbox", "imaplib", "poplib", "ftplib"):
            importlib.import_module(name)
        if len(sys.modules) - gc_pauses._modules_when_frozen < gc_pauses.MIN_NEW_MODULES:
            pytest.skip("these modules were already imported by earlier tests")
        assert gc_pauses.freeze_after_imports() and gc.get_freeze_count() > frozen
    finally:
        gc.unfreeze()  # the rest of the test session collects as usual
