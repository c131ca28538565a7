"""cncwear: milling-tool wear prediction for CNC shop floors.

Everything in this package except ``cncwear_gui.ui`` is Qt-free and usable headless.
"""

__version__ = "0.9.0"  # the one place; docs/CHANGELOG.md lists what each version changed
