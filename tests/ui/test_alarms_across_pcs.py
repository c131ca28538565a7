"""Several PCs, one PostgreSQL store: two real ``cncwear serve`` nodes and a window.

Node A replays experiment 6 and node B experiment 8 (worn tools: the champion raises their alarms
within seconds at 20×). The window shows node A's alarm in its Alarms view, the operator
acknowledges it there through the real dialog, and node A stops alarming (its /metrics and the
state it publishes). Node B's alarm is handled from the command line: ``cncwear alarms
list|ack|shelve|unshelve|false-alarm``, with exit 2 for what cannot be done. Every step is in the
audit trail with the acting user and host."""

from __future__ import annotations

import json
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request

import pytest
from helpers import BUNDLED, ROOT, free_port, run_cli, wait_for
from prometheus_client.parser import text_string_to_metric_families

pytestmark = [pytest.mark.ui, pytest.mark.slow]


def _serve(home, store: str, machine: str, experiment: int) -> tuple[subprocess.Popen, queue.Queue, int]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "cncwear_gui.cli", "serve", "--metrics-addr", f"127.0.0.1:{port}", "--store", store,
         "--champion-check", "0", "--drift-interval", "600",
         "--machine", f"{machine}=replay:{BUNDLED / f'experiment_{experiment:02d}.csv'}@20"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT, env={**os.environ, "CNCWEAR_HOME": str(home)})
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in process.stdout], daemon=True).start()
    return process, lines, port


def _alarm_state(port: int, machine: str) -> str | None:
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    for family in text_string_to_metric_families(text):
        if family.name == "cncwear_alarm_state":
            for sample in family.samples:
                if sample.labels["machine"] == machine and sample.value == 1:
                    return sample.labels["state"]
    return None


def _row_of(table, machine: str) -> dict | None:
    headers = [table.horizontalHeaderItem(c).text() for c in range(table.columnCount())]
    for row in range(table.rowCount()):
        values = {headers[c]: table.item(row, c).text() for c in range(table.columnCount())}
        if values["Machine"] == machine:
            return {**values, "row": row}
    return None


def _alarms(store: str, home, *args: str):
    done = run_cli("alarms", *args, "--store", store, env={"CNCWEAR_HOME": str(home)}, timeout=120)
    return done


def test_two_nodes_and_a_window_on_one_postgresql_share_and_acknowledge_alarms(qtbot, champion_home, postgres_url,
                                                                              monkeypatch):
    from test_live_gui import answer_next_dialog

    from cncwear_gui.settings import Settings
    from cncwear_gui.store.audit_trail import AuditTrail
    from cncwear_gui.store.database import os_user
    from cncwear_gui.store.shared_alarms import SharedAlarmStore
    from cncwear_gui.ui.main_window import MainWindow
    from cncwear_gui.ui.views.alarms_view import AcknowledgeDialog

    monkeypatch.setenv("CNCWEAR_HOME", str(champion_home))
    host, user = socket.gethostname(), os_user()
    node_a, lines_a, port_a = _serve(champion_home, postgres_url, "mill-a", 6)
    node_b, lines_b, port_b = _serve(champion_home, postgres_url, "mill-b", 8)
    store = SharedAlarmStore(postgres_url)
    window = None
    try:
        for lines, process in ((lines_a, node_a), (lines_b, node_b)):
            try:
                serving = json.loads(lines.get(timeout=240))
            except queue.Empty:
                raise AssertionError(f"a node did not start: {process.stderr.read()[-3000:]}") from None
            assert serving["event"] == "serving"
        wait_for(lambda: all((a := store.alarm(m)) is not None and a.state == "unacknowledged" for m in ("mill-a", "mill-b")),
                 120, "both nodes' alarms in the shared store", poll_s=0.5)

        # the window (its own machine: an unworn run, slowly) on the same store shows node A's alarm
        window = MainWindow(Settings(feature_store_url=postgres_url, metrics_port=free_port()),
                            machines=[f"mill-w=replay:{BUNDLED / 'experiment_01.csv'}@1"])
        qtbot.addWidget(window)
        window.show()
        view = window.alarms_view
        window.tabs.setCurrentWidget(view)
        qtbot.waitUntil(lambda: (_row_of(view.table, "mill-a") or {}).get("State") == "UNACKNOWLEDGED", timeout=60_000)
        shown = _row_of(view.table, "mill-a")
        assert shown["Node"] == f"{host} (pid {node_a.pid})" and float(shown["Peak P(worn)"]) > 0.5
        assert _row_of(view.table, "mill-b")["Node"] == f"{host} (pid {node_b.pid})"
        assert _alarm_state(port_a, "mill-a") == "unacknowledged"

        # the operator acknowledges it in the window, through the real dialog
        view.table.selectRow(shown["row"])
        assert view.ack_button.isEnabled() and view.shelve_button.isEnabled() and not view.unshelve_button.isEnabled()
        def fill(dialog):
            assert isinstance(dialog, AcknowledgeDialog)
            dialog.comment.setText("insert changed")

        answer_next_dialog(fill)
        clicked = time.monotonic()
        view.ack_button.click()
        qtbot.waitUntil(lambda: _alarm_state(port_a, "mill-a") == "acknowledged", timeout=30_000)
        print(f"\nnode A stopped alarming {time.monotonic() - clicked:.1f} s after the click")  # the bound: 5 s
        qtbot.waitUntil(lambda: "acknowledged by" in view.message.text(), timeout=30_000)
        qtbot.waitUntil(lambda: (_row_of(view.table, "mill-a") or {}).get("State") == "acknowledged", timeout=30_000)
        assert _row_of(view.table, "mill-a")["Acknowledged by"] == user
        assert _alarm_state(port_b, "mill-b") == "unacknowledged"  # node B's alarm is its own
        request = store.requests("mill-a")[0]
        assert (request.action, request.outcome, request.user, request.host) == ("acknowledge", "applied", user, host)
        assert request.handled_by.startswith(f"{host}:{node_a.pid}:")

        # node B's alarm from the command line (once the window's own engine runs: it publishes too)
        qtbot.waitUntil(lambda: window.live.node is not None and store.alarm("mill-w") is not None, timeout=120_000)
        listed = _alarms(postgres_url, champion_home, "list", "--json")
        assert listed.returncode == 0, listed.stderr
        states = {a["machine"]: (a["state"], a["pid"]) for a in json.loads(listed.stdout)["alarms"]}
        assert states["mill-a"] == ("acknowledged", node_a.pid) and states["mill-b"] == ("unacknowledged", node_b.pid)
        assert states["mill-w"][0] == "normal"  # the window's own engine publishes too

        bad = _alarms(postgres_url, champion_home, "ack", "mill-z")
        assert bad.returncode == 2 and "unknown machine 'mill-z'" in bad.stderr and "mill-a, mill-b, mill-w" in bad.stderr
        bad = _alarms(postgres_url, champion_home, "ack", "mill-a")
        assert bad.returncode == 2 and "nothing to acknowledge, the alarm is active, acknowledged" in bad.stderr
        bad = _alarms(postgres_url, champion_home, "shelve", "mill-b", "--for", "3 days")
        assert bad.returncode == 2 and "--for '3 days'" in bad.stderr
        bad = _alarms(postgres_url, champion_home, "unshelve", "mill-b")
        assert bad.returncode == 2 and "not shelved" in bad.stderr

        shelved = _alarms(postgres_url, champion_home, "shelve", "mill-b", "--for", "30m", "--comment", "waiting for a tool",
                          "--user", "ben", "--json")
        assert shelved.returncode == 0, shelved.stderr
        assert json.loads(shelved.stdout)["status"] == "applied" and _alarm_state(port_b, "mill-b") == "shelved"
        unshelved = _alarms(postgres_url, champion_home, "unshelve", "mill-b", "--user", "ben")
        assert unshelved.returncode == 0 and "mill-b: unshelved (request #" in unshelved.stdout, unshelved.stderr
        assert _alarm_state(port_b, "mill-b") == "unacknowledged"  # still worn: annunciated again
        marked = _alarms(postgres_url, champion_home, "false-alarm", "mill-b", "--user", "carl", "--comment", "tool fine")
        assert marked.returncode == 0 and "marked as a false alarm" in marked.stdout, marked.stderr
        assert _alarm_state(port_b, "mill-b") == "acknowledged"

        # every step in the audit trail, with who acted and on which PC; the false alarm also labels
        # the run, stored by the node's floor-run writer after the request is applied (not before)
        def steps(machine: str) -> list[tuple]:
            with AuditTrail(postgres_url) as trail:
                return [(e.action, e.os_user, e.host, e.comment) for e in reversed(trail.entries(machine=machine))]

        wait_for(lambda: any(s[:3] == ("run.labelled", "carl", host) for s in steps("mill-b")), 60,
                 "the false alarm's run.labelled entry", poll_s=0.5)
        a_steps, b_steps = steps("mill-a"), [s[:3] for s in steps("mill-b")]
        assert a_steps[0][:3] == ("alarm.raised", user, host)
        assert a_steps[-2:] == [("alarm.acknowledge_requested", user, host, "insert changed"),
                                ("alarm.acknowledged", user, host, "insert changed")]
        # the node's own transitions are the OS user's
        operators = [step for step in b_steps if step[1] != user and step[0].startswith("alarm.")]
        assert operators == [("alarm.shelve_requested", "ben", host), ("alarm.shelved", "ben", host),
                                ("alarm.unshelve_requested", "ben", host), ("alarm.unshelved", "ben", host),
                                ("alarm.false_alarm_requested", "carl", host), ("alarm.false_alarm", "carl", host)]

        # a node that stops: its alarms end with it, and nothing can be asked of it
        node_a.send_signal(signal.SIGTERM)
        assert node_a.wait(timeout=60) == 0, node_a.stderr.read()[-2000:]
        assert store.alarm("mill-a").stopped_at is not None
        gone = _alarms(postgres_url, champion_home, "shelve", "mill-a", "--for", "5m")
        assert gone.returncode == 2 and "no node serves it now" in gone.stderr
    finally:
        if window is not None:
            window.close()
        for process in (node_a, node_b):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
            for stream in (process.stdout, process.stderr):
                stream.close()
        store.close()
