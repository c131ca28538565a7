"""Keeping Python's full garbage collections from stalling the GUI thread.

A full (generation 2) collection walks every object the collector tracks while holding the GIL,
in whichever thread happens to trigger it: a collection started by a worker stalls the GUI thread
just the same. Once the app's libraries are loaded that is over 250,000 objects, and 100–300 ms
on the 2-core reference machine (benchmarks/gui_training_stall.py saw 96–227 ms collections in
worker threads). Nearly all of them are modules, classes and functions that live as long as the
app. :func:`freeze_after_imports` moves everything tracked so far into the permanent generation,
which collections skip, each time a task finishes after importing modules. Reference counting
still frees frozen objects; only a reference cycle that becomes garbage after being frozen is
never collected, a small cost next to hundreds of milliseconds per collection.
"""

from __future__ import annotations

import gc
import sys

MIN_NEW_MODULES = 10  # a task that imported fewer modules did not add much long-lived state

_modules_when_frozen = 0


def freeze_after_imports() -> bool:
    """Freeze the tracked objects if modules were imported since the last freeze; whether it did."""
    global _modules_when_frozen
    if len(sys.modules) - _modules_when_frozen < MIN_NEW_MODULES:
        return False
    gc.collect(1)  # young garbage first (cheap): it would otherwise be frozen with the rest
    gc.freeze()
    _modules_when_frozen = len(sys.modules)
    return True
