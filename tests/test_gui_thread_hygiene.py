"""What keeps the GUI thread free during long work: frozen long-lived objects, and children that
yield the CPU (the stall figures themselves are in benchmarks/gui_training_stall.py)."""

import gc
import importlib
import os
import sys

import pytest

from cncwear_gui.models.cli_process import BACKGROUND_NICENESS, spawn_in_background
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


@pytest.mark.skipif(not hasattr(os, "getpriority"), reason="Unix niceness")
def test_children_for_the_gui_run_at_background_priority_and_their_children_inherit_it():
    own = os.getpriority(os.PRIO_PROCESS, 0)
    assert own < BACKGROUND_NICENESS  # else this test shows nothing
    child = spawn_in_background([sys.executable, "-c", "import os, sys, time; "
                                 "g = __import__('subprocess').run([sys.executable, '-c', 'import os; print(os.nice(0))'], "
                                 "capture_output=True, text=True); print(os.nice(0), g.stdout.strip(), flush=True)"])
    try:
        child_niceness, grandchild_niceness = map(int, child.stdout.readline().split())
    finally:
        child.wait(timeout=30)
    assert child_niceness == grandchild_niceness == BACKGROUND_NICENESS
