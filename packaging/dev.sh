#!/usr/bin/env bash
# Sets up both Python runtimes from the pinned lock files, then runs what you ask for.
#
#   bash packaging/dev.sh gui          set up, then open the app on the bundled dataset
#   bash packaging/dev.sh test [ARGS]  set up, then run the whole test suite (ARGS go to pytest)
#   bash packaging/dev.sh setup        set up only
#
# Main runtime:  .venv         Python 3.11, packaging/requirements/main.lock.txt
# AutoML runtime: .venv-automl  Python 3.9,  packaging/requirements/automl.lock.txt (auto-sklearn)
# Re-running is cheap: a runtime is rebuilt only when its lock file changed.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
REQ=packaging/requirements
say() { printf '[cncwear setup] %s\n' "$*" >&2; }

# A working interpreter for X.Y: on PATH (and really runnable: pyenv shims may not be), in pyenv.
find_python() {
    local version=$1 candidate
    for candidate in "python$version" "${PYENV_ROOT:-$HOME/.pyenv}"/versions/"$version".*/bin/"python$version" \
                     /usr/bin/"python$version" /usr/local/bin/"python$version"; do
        if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c 'import venv' >/dev/null 2>&1; then
            command -v "$candidate"
            return 0
        fi
    done
    return 1
}

# pip, minus the noise of index locations this machine's global pip config names but lacks.
pip_in() {
    local venv=$1
    shift
    "$venv/bin/python" -m pip "$@" 2> >(grep -v "is ignored: it is neither a file nor a directory" >&2)
}

stamp_of() { cat "$@" | sha256sum | cut -c1-16; }

# Qt needs a few system libraries even offscreen; install them when missing and we may.
# Extra packages can be asked for (the test suite also renders under a real X server, Xvfb).
system_libraries() {
    local needed=(libegl1 libgl1 libxkbcommon0 libxkbcommon-x11-0 libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libfontconfig1 libdbus-1-3 libglib2.0-0 "$@")
    local missing=()
    command -v dpkg-query >/dev/null 2>&1 || return 0
    for package in "${needed[@]}"; do
        dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' || missing+=("$package")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        say "installing system libraries for Qt: ${missing[*]}"
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    else
        say "warning: missing system libraries for Qt (${missing[*]}); install them with your package manager"
    fi
}

main_runtime() {
    local python stamp
    python=$(find_python 3.11) || { say "Python 3.11 is required for the main runtime and was not found"; exit 1; }
    stamp=$(stamp_of "$REQ/main.lock.txt" pyproject.toml)
    if [ -f .venv/.cncwear-stamp ] && [ "$(cat .venv/.cncwear-stamp)" = "$stamp" ]; then
        return 0
    fi
    say "creating the main runtime (.venv, $("$python" -V)) from $REQ/main.lock.txt"
    rm -rf .venv
    "$python" -m venv .venv
    pip_in .venv install -q --upgrade "pip==25.3"
    pip_in .venv install -q -r "$REQ/main.lock.txt"
    pip_in .venv install -q --no-deps --no-build-isolation -e .
    echo "$stamp" > .venv/.cncwear-stamp
}

automl_runtime() {
    local python stamp
    if [ "$(uname -s)" != Linux ]; then
        say "auto-sklearn runs on Linux only: no AutoML runtime here; the app trains with FLAML instead"
        return 0
    fi
    if ! python=$(find_python 3.9); then
        say "no Python 3.9 found: the AutoML runtime (auto-sklearn) is not installed; the app trains with FLAML instead"
        return 0
    fi
    stamp=$(stamp_of "$REQ/automl.lock.txt")
    if [ -f .venv-automl/.cncwear-stamp ] && [ "$(cat .venv-automl/.cncwear-stamp)" = "$stamp" ]; then
        return 0
    fi
    say "creating the AutoML runtime (.venv-automl, $("$python" -V)) from $REQ/automl.lock.txt"
    rm -rf .venv-automl
    "$python" -m venv .venv-automl
    pip_in .venv-automl install -q --upgrade "pip==25.3"
    pip_in .venv-automl install -q -r "$REQ/automl.lock.txt"
    echo "$stamp" > .venv-automl/.cncwear-stamp
}

setup() {
    system_libraries "$@"
    main_runtime
    automl_runtime
}

command=${1:-gui}
shift || true
case "$command" in
    setup) setup ;;
    gui) setup; exec .venv/bin/cncwear gui "$@" ;;
    test)
        setup xvfb xauth prometheus desktop-file-utils postgresql   # Xvfb for real-X UI tests; Prometheus for the scrape test; the desktop entry check; PostgreSQL for the store tests on both engines
        export QT_QPA_PLATFORM=${QT_QPA_PLATFORM:-offscreen}
        # one worker per core (CNCWEAR_TEST_WORKERS=N to choose, or pass -n 0); a module's tests stay
        # together, so its module-scoped fixtures (a trained model, a benchmark run) are built once;
        # the heaviest modules first (tests/conftest.py orders them), which xdist keeps as it is
        exec .venv/bin/python -m pytest -n "${CNCWEAR_TEST_WORKERS:-auto}" --dist loadscope --no-loadscope-reorder "$@"
        ;;
    *) echo "usage: bash packaging/dev.sh gui|test|setup [args]" >&2; exit 2 ;;
esac
