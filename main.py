"""Thin launcher: ``python main.py`` is ``cncwear gui`` (extra arguments are passed on)."""

import sys

from cncwear_gui.cli import main

if __name__ == "__main__":
    sys.exit(main(["gui", *sys.argv[1:]]))
