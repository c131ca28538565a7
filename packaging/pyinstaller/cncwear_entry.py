"""The bundle's executable: the ``cncwear`` command line, the GUI when started without arguments.

The app starts parts of itself as child processes with ``sys.executable -m MODULE`` or
``sys.executable -c CODE`` (the pipeline watcher, the MLflow UI, short-lived store jobs). In a
PyInstaller bundle ``sys.executable`` is this program, not a Python interpreter, so it accepts
those two forms itself.
"""

import multiprocessing
import runpy
import sys


def main() -> int:
    multiprocessing.freeze_support()
    arguments = sys.argv[1:]
    if len(arguments) >= 2 and arguments[0] == "-m":
        sys.argv = [arguments[1], *arguments[2:]]
        runpy.run_module(arguments[1], run_name="__main__", alter_sys=True)
        return 0
    if len(arguments) >= 2 and arguments[0] == "-c":
        sys.argv = ["-c", *arguments[2:]]
        exec(compile(arguments[1], "<string>", "exec"), {"__name__": "__main__"})
        return 0
    from cncwear_gui.cli import main as cli_main

    return cli_main(arguments or ["gui"])


if __name__ == "__main__":
    sys.exit(main())
