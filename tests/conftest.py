"""Shared fixtures. Tests never touch the user's stores: CNCWEAR_HOME points into a temp dir."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# Several pytest-xdist workers share the cores: each (and the processes it starts) gets its share of
# threads. OpenMP (HistGradientBoosting, LightGBM) and OpenBLAS spin-wait when oversubscribed: two
# workers' benchmark runs took 94 s at the default and 36 s at one thread each on 2 cores.
if (workers := int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))) > 1:
    threads = str(max(1, (os.cpu_count() or 1) // workers))
    for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(variable, threads)
os.environ.pop("CNCWEAR_MLFLOW_URI", None)

from helpers import BUNDLED, ROOT  # noqa: F401  (re-exported for tests)

# -- the order modules run in -----------------------------------------------------------------------
# With --dist loadscope a module runs whole on one worker, and a worker takes the next module when it
# is done. xdist's own order (most tests first) can leave a heavy module with few tests (a whole
# window, a benchmark run) for last, one worker running on alone. So modules run heaviest first, by their seconds in
# the last recorded full run (tests/module_seconds.json; packaging/dev.sh passes
# --no-loadscope-reorder so that xdist keeps this order). A module not recorded yet runs last.
MODULE_SECONDS = Path(__file__).parent / "module_seconds.json"


def pytest_addoption(parser):
    parser.addoption("--record-module-seconds", metavar="PATH", default=None,
                     help="write each module's seconds (setup + call + teardown of its tests) to PATH as JSON, "
                          "e.g. tests/module_seconds.json after a full run")


def _module_of(nodeid: str) -> str:
    return nodeid.split("::", 1)[0]


def pytest_collection_modifyitems(config, items):
    if not MODULE_SECONDS.exists():
        return
    import json

    seconds = json.loads(MODULE_SECONDS.read_text())
    first_seen = {}
    for index, item in enumerate(items):
        first_seen.setdefault(_module_of(item.nodeid), index)
    items.sort(key=lambda item: (-seconds.get(_module_of(item.nodeid), 0.0), first_seen[_module_of(item.nodeid)]))


class _ModuleSeconds:
    """Sums each module's test seconds as reports reach the controller, and writes them at the end."""

    def __init__(self, path: Path):
        self.path, self.seconds = path, {}

    def pytest_runtest_logreport(self, report):
        module = _module_of(report.nodeid)
        self.seconds[module] = self.seconds.get(module, 0.0) + report.duration

    def pytest_sessionfinish(self, session):
        import json

        ordered = sorted(self.seconds.items(), key=lambda kv: -kv[1])
        self.path.write_text(json.dumps({module: round(s, 1) for module, s in ordered}, indent=1) + "\n")


def pytest_configure(config):
    path = config.getoption("--record-module-seconds")
    if path and not hasattr(config, "workerinput"):  # in the xdist controller (or a run without workers)
        config.pluginmanager.register(_ModuleSeconds(Path(path)), "cncwear-module-seconds")


@pytest.fixture(autouse=True, scope="session")
def _isolated_home(tmp_path_factory):
    """Never the user's stores or config: a session home and config dir in a temp dir."""
    home = tmp_path_factory.mktemp("cncwear-home")
    os.environ["CNCWEAR_HOME"] = str(home)
    os.environ["CNCWEAR_CONFIG_DIR"] = str(tmp_path_factory.mktemp("cncwear-config"))
    yield home


@pytest.fixture
def home(tmp_path, monkeypatch):
    """A fresh, empty user data directory for one test."""
    path = tmp_path / "home"
    monkeypatch.setenv("CNCWEAR_HOME", str(path))
    return path


@pytest.fixture(scope="session")
def bundled_dir() -> Path:
    return BUNDLED


@pytest.fixture(scope="session")
def bundled_dataset(bundled_dir):
    from cncwear_gui.data.dataset import load_dataset

    return load_dataset([bundled_dir])


@pytest.fixture(scope="session")
def champion_home(tmp_path_factory, bundled_dataset):
    """A user data dir whose registry already has a champion: a first-start Random Forest on the
    bundled data, trained once per test process, for real. Tests may add runs and challengers to
    it; none promotes another champion in it."""
    from cncwear_gui.models.champion import ensure_champion

    home = tmp_path_factory.mktemp("home-with-champion")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CNCWEAR_HOME", str(home))
        ensure_champion(bundled_dataset)
    return home


@pytest.fixture(scope="session")
def champion(champion_home, bundled_dataset):
    """That first-start champion, loaded (the model object the tests score with)."""
    from cncwear_gui.models.champion import ensure_champion

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CNCWEAR_HOME", str(champion_home))
        model = ensure_champion(bundled_dataset)
    assert model.version == "1", f"a test promoted another champion in the shared home (version {model.version})"
    return model


@pytest.fixture
def data_copy(tmp_path, bundled_dir) -> Path:
    """A writable copy of the bundled dataset folder."""
    target = tmp_path / "data"
    target.mkdir()
    for source in bundled_dir.glob("*.csv"):
        shutil.copyfile(source, target / source.name)
    return target


@pytest.fixture(scope="session")
def small_table(bundled_dataset):
    """3,000 random rows of the bundled data (seed feature set): enough for a 30 s run."""
    import numpy as np

    from cncwear_gui.features.sets import get_feature_set, training_matrix

    feature_set = get_feature_set("seed_slides")
    X, y, groups = training_matrix(bundled_dataset.samples(), feature_set)
    rows = np.random.default_rng(0).choice(len(y), 3_000, replace=False)
    return X[rows], y[rows], groups[rows], list(feature_set.columns)


# -- the stores on both engines -------------------------------------------------------------------
@pytest.fixture(scope="session")
def postgres_server():
    """A throwaway PostgreSQL cluster for the session (tests/postgres_server.py); skipped without
    PostgreSQL, a failure when CNCWEAR_REQUIRE_POSTGRES=1."""
    from postgres_server import start_server

    server = start_server()
    yield server
    server.stop()


@pytest.fixture
def postgres_url(postgres_server):
    """A fresh, empty database on the session's cluster for one test."""
    name = postgres_server.create_database()
    yield postgres_server.url(name)
    postgres_server.drop_database(name)


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request, tmp_path):
    """The store test runs once on a new SQLite file and once on a new PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'features.db'}"
    return request.getfixturevalue("postgres_url")
