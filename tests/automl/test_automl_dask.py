"""auto-sklearn on a real Dask cluster (a scheduler and a worker of the AutoML runtime on loopback),
as a site with a cluster trains: the candidates are fitted on the cluster's worker, not in the job."""

from __future__ import annotations

import os
import subprocess
import time

import pytest
from helpers import free_port, needs_automl_runtime, run_cli

from cncwear_gui.automl.config import SearchConfig
from cncwear_gui.automl.jobs import run_autosklearn_job
from cncwear_gui.automl.runtime import automl_env, automl_python
from cncwear_gui.process_groups import stop_group

pytestmark = [
    pytest.mark.automl,
    needs_automl_runtime,
]

TASKS_ON_SCHEDULER = """
import sys
from dask.distributed import Client
with Client(sys.argv[1], timeout=10) as client:
    workers = len(client.scheduler_info()["workers"])
    transitions = client.run_on_scheduler(lambda dask_scheduler: len(dask_scheduler.transition_log))
print(workers, transitions)
"""


def _cluster_counts(python: str, address: str) -> tuple[int, int]:
    done = subprocess.run([python, "-c", TASKS_ON_SCHEDULER, address], capture_output=True, text=True,
                          env=automl_env(), timeout=60)
    if done.returncode != 0:
        return 0, 0
    workers, transitions = done.stdout.split()
    return int(workers), int(transitions)


@pytest.fixture
def dask_cluster():
    """A Dask scheduler and one worker from the AutoML runtime, set up as auto-sklearn documents
    for workers started by hand: one thread, no Dask memory limit, a non-daemonic worker process
    (auto-sklearn forks inside it)."""
    python = str(automl_python())
    bin_dir = os.path.dirname(python)
    address = f"tcp://127.0.0.1:{free_port()}"
    env = {**automl_env(), "DASK_DISTRIBUTED__WORKER__DAEMON": "False"}
    scheduler = subprocess.Popen([os.path.join(bin_dir, "dask-scheduler"), "--host", "127.0.0.1",
                                  "--port", address.rsplit(":", 1)[1], "--dashboard-address", ":0"],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, start_new_session=True)
    worker = subprocess.Popen([os.path.join(bin_dir, "dask-worker"), address, "--nthreads", "1", "--nworkers", "1",
                               "--memory-limit", "0", "--dashboard-address", ":0"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while _cluster_counts(python, address)[0] < 1:
            assert time.monotonic() < deadline, "the Dask worker did not join the scheduler"
            time.sleep(1)
        yield python, address
    finally:
        for process in (worker, scheduler):
            stop_group(process, grace_s=5, reap_s=10)


@pytest.mark.slow
def test_auto_sklearn_fits_its_candidates_on_the_dask_cluster(small_table, home, dask_cluster):
    python, address = dask_cluster
    X, y, groups, names = small_table
    _, before = _cluster_counts(python, address)
    events = []  # tree ensembles, 25 s a candidate: on a busy machine the first candidates still finish in time
    config = SearchConfig(budget_s=30, seed=1, dask_address=address, search_space="tree-ensembles", per_run_s=25)
    result = run_autosklearn_job(X, y, groups, names, config, on_event=events.append)
    kinds = [e.kind for e in events]
    assert kinds[-1] == "done" and "best" in kinds, kinds  # at least one candidate fitted and scored
    assert result.model_path.is_file()
    _, after = _cluster_counts(python, address)
    assert after > before + 2, "the search ran no tasks on the Dask cluster"


def test_a_dask_scheduler_is_refused_before_anything_starts_when_it_cannot_be_used(home):
    malformed = run_cli("train", "--engine", "auto-sklearn", "--budget", "30", "--dask-scheduler", "127.0.0.1:8786")
    assert malformed.returncode == 2 and "tcp://host:8786" in malformed.stderr
    with_flaml = run_cli("train", "--engine", "flaml", "--budget", "5", "--dask-scheduler", "tcp://127.0.0.1:8786")
    assert with_flaml.returncode == 2 and "auto-sklearn only" in with_flaml.stderr
