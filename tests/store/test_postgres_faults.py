"""PostgreSQL faults a site meets (issue 24, scope 6), on a real cluster of this module's own (it is
stopped and started, so no other test shares it), a real champion and real processes:

* the server restarts while eight machines log: the node keeps scoring, says the store is down
  (``cncwear_store_up`` 0, rows pending), reconnects by itself and writes every buffered row; an
  acknowledgement committed before stays, one tried while the server was away is refused and the
  alarm stays unacknowledged (nothing is shown as acknowledged that is not stored);
* ``cncwear serve`` killed with SIGKILL: every row that was committed is still there, and the
  store opens and takes rows again;
* a wrong password or a server that is not there: ``cncwear serve`` exits 2 at once with a message
  naming the URL with its password hidden.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import pytest
from helpers import ROOT, free_port, replay_node, run_cli, wait_for
from sqlalchemy import create_engine, text

from cncwear_gui.live.alarms import AlarmError

pytestmark = pytest.mark.slow

#: Eight machines: worn (6, 8, 9, 10) and unworn (1, 2, 3, 11) tools.
EXPERIMENTS = {"mill-1": 1, "mill-2": 2, "mill-3": 3, "mill-6": 6, "mill-8": 8, "mill-9": 9, "mill-10": 10,
               "mill-11": 11}


@pytest.fixture(scope="module")
def own_server():
    """A cluster only this module uses: restarting it disturbs no other test."""
    from postgres_server import start_server

    server = start_server()
    yield server
    server.stop()


@pytest.fixture
def own_url(own_server):
    name = own_server.create_database()
    yield own_server.url(name)
    own_server.drop_database(name)


def _stored(url: str) -> dict[str, int]:
    """Per machine: rows in the prediction log, read by another connection."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT machine, count(*) FROM prediction_log GROUP BY machine")).all()
    finally:
        engine.dispose()
    return {machine: int(count) for machine, count in rows}


def _metric(metrics, name: str, **labels) -> float | None:
    return metrics.registry.get_sample_value(name, labels)


def test_a_restart_while_eight_machines_log_loses_nothing_committed_or_acknowledged(own_server, own_url, champion,
                                                                                     bundled_dataset):
    samples = bundled_dataset.samples()
    frames = {machine: samples[samples["experiment"] == number].reset_index(drop=True)
              for machine, number in EXPERIMENTS.items()}
    node, run_samples, stores, metrics = replay_node(frames, champion, own_url)
    log, audit = stores["predictions"], stores["audit"]
    try:
        run_samples(300)
        assert node.alarm_of("mill-6")["state"] == "unacknowledged"
        node.acknowledge("mill-6", "olga", "seen before the restart")
        assert log.flush(20)
        before = _stored(own_url)
        assert sum(before.values()) == 8 * 300

        own_server.pause()
        try:
            run_samples(150)  # the machines keep being scored while the server is away
            assert not log.flush(timeout=1.0)
            wait_for(lambda: log.outage is not None, 20, "the prediction log to notice the outage")
            run_samples(10)
            assert _metric(metrics, "cncwear_store_up") == 0
            assert _metric(metrics, "cncwear_prediction_log_pending_rows") >= 8 * 150
            assert "OperationalError" in log.outage[1]
            waiting = [m for m in ("mill-8", "mill-9", "mill-10") if node.alarm_of(m)["state"] == "unacknowledged"]
            assert waiting, {m: node.alarm_of(m)["state"] for m in EXPERIMENTS}
            with pytest.raises(Exception, match="OperationalError|connect|server"):
                node.acknowledge(waiting[0], "olga", "tried while the server was away")
            assert node.alarm_of(waiting[0])["state"] == "unacknowledged"  # not shown as acknowledged
        finally:
            own_server.resume()

        run_samples(150)
        assert log.flush(timeout=60), log.last_error  # reconnected by itself; every buffered row written
        assert log.outage is None and log.pending == 0
        node.step()
        assert _metric(metrics, "cncwear_store_up") == 1
        after = _stored(own_url)
        scored = {m.name: m.monitor.scored for m in node.machines}
        assert all(n >= 600 for n in scored.values()), scored
        assert after == scored  # every scored sample once: none lost, none written twice
        assert log.dropped == 0 and log.rejected == 0

        acknowledged = audit.entries(action_prefix="alarm.acknowledged")
        assert [(e.machine, e.comment) for e in acknowledged] == [("mill-6", "seen before the restart")]
        node.acknowledge(waiting[0], "olga", "after the restart")  # the audit trail's engine reconnects too
        assert node.alarm_of(waiting[0])["state"] == "acknowledged"
        assert {e.machine for e in audit.entries(action_prefix="alarm.acknowledged")} == {"mill-6", waiting[0]}
    finally:
        for store in stores.values():
            store.close()


def _serve(home, url: str, *machines: str) -> subprocess.Popen:
    """``cncwear serve`` in its own process group; stderr (MLflow's chatter) to a file, not a pipe nobody reads."""
    arguments = [sys.executable, "-m", "cncwear_gui.cli", "serve", "--metrics-addr", f"127.0.0.1:{free_port()}",
                 "--champion-check", "0", "--store", url, *[a for m in machines for a in ("--machine", m)]]
    home.mkdir(parents=True, exist_ok=True)
    with open(home / "serve.err", "w") as errors:
        return subprocess.Popen(arguments, stdout=subprocess.PIPE, stderr=errors, text=True, cwd=ROOT,
                                env={**os.environ, "CNCWEAR_HOME": str(home)}, start_new_session=True)


def test_a_node_killed_with_sigkill_keeps_every_committed_row(own_url, home, bundled_dir):
    from cncwear_gui.store.prediction_log import PredictionLog

    machines = [f"mill-{n}=replay:{bundled_dir / f'experiment_{n:02d}.csv'}@5" for n in (1, 6)]
    process = _serve(home, own_url, *machines)
    try:
        line = process.stdout.readline()  # after a first-start champion is trained
        assert line, (home / "serve.err").read_text()[-3000:]
        serving = json.loads(line)
        assert serving["event"] == "serving", serving
        seen = wait_for(lambda: sum(_stored(own_url).values()) >= 300, 120,
                        "rows committed by the node", poll_s=0.5)
        committed = _stored(own_url)  # every row here was committed
        os.killpg(process.pid, signal.SIGKILL)
        assert process.wait(timeout=30) == -signal.SIGKILL
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    assert seen
    after = _stored(own_url)
    assert set(after) == set(committed) == {"mill-1", "mill-6"}
    assert all(after[machine] >= count for machine, count in committed.items())  # none lost
    with PredictionLog(own_url) as log:  # the store opens cleanly and takes rows again
        log.append({"machine": "mill-1", "probability": 0.25, "sample_time": 1.0})
        assert log.flush(10)
        assert log.count("mill-1") == after["mill-1"] + 1


@pytest.mark.parametrize("fault", ["wrong password", "no server"])
def test_a_store_that_refuses_the_login_or_is_not_there_is_named_without_its_password(fault, own_server, own_url, home):
    database = own_url.rsplit("/", 1)[1]
    if fault == "wrong password":
        if not getattr(own_server, "_login_added", False):
            own_server.add_login("floor_app", "right-secret")
            own_server._login_added = True
        url = own_server.url(database, "floor_app", "wrong-secret")
        said = "password authentication failed"
    else:
        url = f"postgresql+psycopg://floor_app:wrong-secret@127.0.0.1:{free_port()}/{database}"
        said = "Connection refused"
    done = run_cli("serve", "--store", url, "--duration", "1", "--metrics-addr", f"127.0.0.1:{free_port()}",
                   env={"CNCWEAR_HOME": str(home)}, timeout=120)
    assert done.returncode == 2, done.stderr[-2000:]
    message = done.stderr.strip().splitlines()[-1]
    assert "wrong-secret" not in done.stderr + done.stdout
    assert f"postgresql+psycopg://floor_app:***@127.0.0.1:{url.split(':')[3].split('/')[0]}/{database}" in message
    assert said in message and message.startswith("cncwear serve: --store: cannot connect to the store at")
    assert not (home / "mlflow.db").exists()  # said before minutes of model loading


def test_the_window_shows_a_store_it_cannot_reach_in_words(own_server, own_url, home, champion, qtbot):
    """The desktop app's live engine on a store that refuses the login: a readable message, no password."""
    from cncwear_gui.settings import Settings
    from cncwear_gui.ui.live_service import LiveService

    if not getattr(own_server, "_login_added", False):
        own_server.add_login("floor_app", "right-secret")
        own_server._login_added = True
    url = own_server.url(own_url.rsplit("/", 1)[1], "floor_app", "wrong-secret")
    service = LiveService()
    with qtbot.waitSignal(service.failed, timeout=60_000) as failed:
        service.start(Settings(feature_store_url=url), champion, machines=[])
    message = failed.args[0]
    assert message.startswith("The live machines could not start: cannot connect to the store at "
                              "postgresql+psycopg://floor_app:***@")
    assert "password authentication failed" in message and "wrong-secret" not in message
    service.stop()
