"""OPC UA: the simulator, the source and the mapping file, over real asyncua on loopback."""

from __future__ import annotations

import asyncio
import json
import math
import signal
import socket
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta, timezone

import numpy as np
import pandas as pd
import pytest
from asyncua import Server, ua
from helpers import BUNDLED, ROOT, free_port, wait_for

from cncwear_gui.data.dataset import load_dataset
from cncwear_gui.data.schema import PROCESS_COLUMN, SIGNAL_COLUMNS
from cncwear_gui.live.opcua_mapping import (
    NAMESPACE_URI,
    SAMPLE_COLUMNS,
    Mapping,
    MappingError,
    default_mapping,
    load_mapping,
    resolve,
    write_mapping,
)
from cncwear_gui.live.opcua_simulator import OpcUaSimulator, SimulatorError, make_certificate, simulator_for_file
from cncwear_gui.live.opcua_source import OpcUaSource, SampleAssembler
from cncwear_gui.live.sources import SourceSpecError, SourceState

EXPERIMENT = BUNDLED / "experiment_06.csv"  # feedrate 6, clamp_pressure 4 in train.csv


@pytest.fixture(scope="module")
def rows() -> pd.DataFrame:
    return load_dataset([EXPERIMENT]).samples()


class Collector:
    """Drains a source into one frame, for polling with :func:`wait_for`."""

    def __init__(self, source: OpcUaSource):
        self.source, self.frames = source, []

    def count(self) -> int:
        frame = self.source.read()
        if len(frame):
            self.frames.append(frame)
        return sum(len(f) for f in self.frames)

    def at_least(self, n: int):
        return lambda: self.count() >= n

    @property
    def frame(self) -> pd.DataFrame:
        return pd.concat(self.frames, ignore_index=True)


def assert_consecutive_file_rows(received: pd.DataFrame, rows: pd.DataFrame) -> None:
    """``received`` is a run of consecutive rows of the file (wrapping at its end), values and process."""
    file_values = rows[list(SIGNAL_COLUMNS)].to_numpy()
    got = received[list(SIGNAL_COLUMNS)].to_numpy()
    starts = np.flatnonzero((file_values == got[0]).all(axis=1))
    assert len(starts), "the first received sample is no row of the file"
    for start in starts:
        index = (start + np.arange(len(got))) % len(file_values)
        if (file_values[index] == got).all():
            assert received[PROCESS_COLUMN].tolist() == rows[PROCESS_COLUMN].to_numpy()[index].tolist()
            return
    raise AssertionError("the received samples are not consecutive rows of the file")


def test_simulator_and_source_deliver_the_file_rows_in_order(rows):
    with simulator_for_file(EXPERIMENT, port=free_port(), speed=5) as simulator:
        assert simulator.job == {"feedrate": 6.0, "clamp_pressure": 4.0}
        source = OpcUaSource(simulator.url)
        source.wake = threading.Event()
        source.start()
        try:
            received = Collector(source)
            wait_for(received.at_least(40), 20, "40 samples")
            health = source.health()
        finally:
            source.close()
    frame = received.frame
    assert_consecutive_file_rows(frame, rows)
    assert (frame["feedrate"] == 6.0).all() and (frame["clamp_pressure"] == 4.0).all()
    assert (frame["phase"] >= 0).all()
    spacing = np.diff(frame["sample_time"].to_numpy())
    # paced at the replay speed, never faster (a busy machine may publish slower: no upper bound)
    assert (spacing > 0).all() and np.median(spacing) >= 0.9 * 0.1 / 5
    assert source.wake.is_set()
    assert health.state is SourceState.CONNECTED and health.detail == simulator.url
    assert health.received >= 40 and health.rejected == {} and health.reconnects == 0
    assert 0 <= health.lag_s < 1.0
    assert source.health().state is SourceState.STOPPED


class ScriptedServer:
    """A machine whose samples the test writes one at a time.

    Nodes as the simulator's, but ``X1_OutputPower`` is a String node, so a sample can carry text
    where a number belongs (good samples write the number as text, which is still a number).
    """

    TEXT_COLUMN = "X1_OutputPower"

    def __init__(self, port: int):
        self.url = f"opc.tcp://127.0.0.1:{port}"
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.nodes: dict[str, tuple[ua.NodeId, ua.VariantType]] = {}

    def _run(self, coroutine):
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(30)

    def start(self) -> None:
        self.thread.start()
        self._run(self._start())

    async def _start(self) -> None:
        self.server = Server()
        await self.server.init()
        self.server.set_endpoint(self.url)
        index = await self.server.register_namespace(NAMESPACE_URI)
        machine = await self.server.nodes.objects.add_object(ua.NodeId("Machine", index), "Machine")
        for column in SAMPLE_COLUMNS:
            text = column in (PROCESS_COLUMN, self.TEXT_COLUMN)
            kind, initial = (ua.VariantType.String, "") if text else (ua.VariantType.Double, 0.0)
            node = await machine.add_variable(ua.NodeId(column, index), column, ua.Variant(initial, kind))
            self.nodes[column] = (node.nodeid, kind)
        await self.server.start()

    def publish(self, record: dict, skip: tuple[str, ...] = ()) -> None:
        """One sample: every node but ``skip`` gets its value, all with the same SourceTimestamp."""
        self._run(self._write(record, skip))

    async def _write(self, record: dict, skip: tuple[str, ...]) -> None:
        stamp = datetime.now(timezone.utc)
        for column, (node_id, kind) in self.nodes.items():
            if column not in skip:
                value = str(record[column]) if kind is ua.VariantType.String else float(record[column])
                await self.server.write_attribute_value(
                    node_id, ua.DataValue(ua.Variant(value, kind), SourceTimestamp=stamp, ServerTimestamp=stamp))

    def stop(self) -> None:
        self._run(self.server.stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


@pytest.mark.slow
def test_malformed_samples_are_rejected_by_reason_and_the_stream_goes_on(rows):
    records = rows[list(SAMPLE_COLUMNS)].to_dict("records")
    server = ScriptedServer(free_port())
    server.start()
    mapping = Mapping({c: default_mapping().nodes[c] for c in SAMPLE_COLUMNS}, "signals only")  # no job nodes
    source = OpcUaSource(server.url, job={"feedrate": 20.0}, mapping=mapping)
    source.start()
    wrong = Mapping({**mapping.nodes, "Z1_DCBusVoltage": f"nsu={NAMESPACE_URI};s=Z1_Voltage"}, "wrong.csv")
    misconfigured = OpcUaSource(server.url, mapping=wrong)
    misconfigured.start()
    received = Collector(source)

    def rejected(reason: str, count: int):
        return lambda: source.health().rejected.get(reason, 0) >= count

    try:
        wait_for(lambda: source.health().state is SourceState.CONNECTED, 15, "the connection")
        wait_for(lambda: "Z1_Voltage" in misconfigured.health().detail, 5, "the unknown node to be named")
        problem = misconfigured.health()
        assert problem.state is SourceState.CONNECTING and "BadNodeIdUnknown" in problem.detail
        assert "wrong.csv" in problem.detail
        server.publish(records[0])
        wait_for(received.at_least(1), 5, "the first good sample")

        server.publish({**records[1], "X1_ActualPosition": math.nan})
        wait_for(rejected("non_finite", 1), 5, "the NaN sample's rejection")
        assert "X1_ActualPosition" in source.health().last_rejection

        server.publish({**records[2], ScriptedServer.TEXT_COLUMN: "n/a"})
        wait_for(rejected("not_a_number", 1), 5, "the text sample's rejection")
        assert "X1_OutputPower = 'n/a'" in source.health().last_rejection

        server.publish(records[3], skip=("Y1_ActualVelocity",))
        server.publish(records[4])  # completes after the incomplete one: that one is given up at once
        wait_for(received.at_least(2), 5, "the good sample after the incomplete one")
        health = source.health()
        assert health.rejected == {"non_finite": 1, "not_a_number": 1, "missing": 1}
        assert "Y1_ActualVelocity (nsu=urn:cncwear:simulator;s=Y1_ActualVelocity)" in health.last_rejection

        server.publish(records[5], skip=("S1_OutputPower",))  # nothing newer: given up after ~1 s
        wait_for(rejected("missing", 2), 5, "the timed-out incomplete sample")
        assert "S1_OutputPower" in source.health().last_rejection

        server.publish(records[6])
        wait_for(received.at_least(3), 5, "the last good sample")
        health = source.health()
    finally:
        source.close()
        misconfigured.close()
        server.stop()
    frame = received.frame
    expected = pd.DataFrame([records[0], records[4], records[6]])
    np.testing.assert_array_equal(frame[list(SIGNAL_COLUMNS)].to_numpy(), expected[list(SIGNAL_COLUMNS)].to_numpy())
    assert frame[PROCESS_COLUMN].tolist() == expected[PROCESS_COLUMN].tolist()
    assert (frame["feedrate"] == 20.0).all() and "clamp_pressure" not in frame
    assert health.received == 3 and health.rejected == {"non_finite": 1, "not_a_number": 1, "missing": 2}


@pytest.mark.slow
def test_a_restarted_server_is_reconnected_and_samples_resume(rows):
    port = free_port()
    simulator = simulator_for_file(EXPERIMENT, port=port, speed=4)
    simulator.start()
    source = OpcUaSource(simulator.url)
    source.start()
    received = Collector(source)
    states = []
    try:
        wait_for(received.at_least(5), 15, "samples before the restart")
        simulator.stop()
        wait_for(lambda: source.health().state is SourceState.RECONNECTING, 5, "the loss to be noticed")
        states.append(source.health())
        before = received.count()
        simulator = simulator_for_file(EXPERIMENT, port=port, speed=4)
        simulator.start()
        wait_for(lambda: source.health().state is SourceState.CONNECTED, 15, "the reconnection")
        wait_for(received.at_least(before + 10), 10, "samples after the restart")
        health = source.health()
    finally:
        source.close()
        simulator.stop()
    assert states[0].detail and states[0].reconnects == 0
    assert health.reconnects == 1 and health.rejected == {}
    assert_consecutive_file_rows(received.frame.iloc[before:], rows)


def test_a_busy_port_is_a_clear_simulator_error(rows):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        simulator = OpcUaSimulator(rows, port=port)
        with pytest.raises(SimulatorError, match=f"127.0.0.1:{port}: the port is already in use"):
            simulator.start()
    assert not simulator.running


@pytest.mark.slow
def test_run_simulator_prints_where_it_serves_and_stops_on_sigint():
    port = free_port()
    code = f"from cncwear_gui.live.opcua_simulator import run_simulator; run_simulator({str(EXPERIMENT)!r}, port={port})"
    process = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
    try:
        serving = json.loads(process.stdout.readline())
        assert serving["event"] == "serving" and serving["url"] == f"opc.tcp://127.0.0.1:{port}"
        assert serving["samples"] == 1296 and serving["job"] == {"feedrate": 6.0, "clamp_pressure": 4.0}
        time.sleep(2.0)  # at 10 Hz a loaded machine has published some samples by then
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=15)
    finally:
        process.kill()
    assert process.returncode == 0, err
    stopped = json.loads(out.splitlines()[-1])
    assert stopped["event"] == "stopped" and stopped["published"] >= 1
    assert "Traceback" not in err


def test_security_sign_and_encrypt(tmp_path):
    server_cert, server_key = make_certificate(tmp_path / "server.der", tmp_path / "server.pem")
    client_cert, client_key = make_certificate(tmp_path / "client.der", tmp_path / "client.pem", "urn:cncwear:client")
    with simulator_for_file(EXPERIMENT, port=free_port(), speed=5, cert=server_cert, key=server_key) as simulator:
        secure = OpcUaSource(simulator.url, security="Basic256Sha256,SignAndEncrypt", cert=str(client_cert),
                             key=str(client_key))
        plain = OpcUaSource(simulator.url)
        secure.start()
        plain.start()
        try:
            wait_for(Collector(secure).at_least(5), 15, "samples over the encrypted channel")
            assert plain.health().state is SourceState.CONNECTING and plain.read().empty
        finally:
            secure.close()
            plain.close()
    with pytest.raises(SourceSpecError, match="needs the client certificate"):
        OpcUaSource("opc.tcp://127.0.0.1:4840", security="Basic256Sha256,SignAndEncrypt")
    with pytest.raises(SourceSpecError, match="POLICY,MODE"):
        OpcUaSource("opc.tcp://127.0.0.1:4840", security="Basic128,Encrypt", cert=str(client_cert), key=str(client_key))


@pytest.mark.parametrize("body, line, problem", [
    ("column,node_id\nX1_ActualPosition,ns=2;s=A\nSpindle_Temp,ns=2;s=B\n", 3, "unknown column 'Spindle_Temp'"),
    ("# comment\ncolumn,node_id\nX1_ActualPosition,ns=2;s=A\nX1_ActualPosition,ns=2;s=B\n", 4,
     "mapped twice (first on line 3)"),
    ("column,node_id\n\nX1_ActualPosition,ns=two;s=A\n", 3, "'ns=two;s=A' is not a node id"),
    ("column,node_id\nX1_ActualPosition\n", 2, "expected COLUMN,NODE_ID"),
    ("X1_ActualPosition,ns=2;s=A\n", 1, "expected the header 'column,node_id'"),
    ("column,node_id\nX1_ActualPosition,ns=2;s=A\n", 3, "no node for signal column(s) X1_ActualVelocity"),
])
def test_a_bad_mapping_file_names_file_line_and_problem(tmp_path, body, line, problem):
    path = tmp_path / "mapping.csv"
    path.write_text(body)
    with pytest.raises(MappingError) as caught:
        load_mapping(path)
    assert str(caught.value).startswith(f"{path}, line {line}: ")
    assert problem in str(caught.value)
    assert caught.value.line == line
    with pytest.raises(MappingError, match=f"{path}, line {line}"):
        OpcUaSource("opc.tcp://127.0.0.1:4840", mapping=str(path))


def test_the_mapping_template_round_trips_and_resolves_namespace_uris(tmp_path):
    path = write_mapping(tmp_path / "mapping.csv")
    mapping = load_mapping(path)
    assert mapping.nodes == default_mapping().nodes and mapping.source == str(path)
    assert mapping.job_columns == ["feedrate", "clamp_pressure"] and len(mapping.sample_columns) == 48
    edited = tmp_path / "edited.csv"
    edited.write_text(path.read_text().replace(f"nsu={NAMESPACE_URI};s=X1_ActualPosition", "ns=4;i=1001"))
    nodes = resolve(load_mapping(edited), ["http://opcfoundation.org/UA/", "urn:server", NAMESPACE_URI])
    assert nodes["X1_ActualPosition"] == ua.NodeId(1001, 4)
    assert nodes["Y1_ActualPosition"] == ua.NodeId("Y1_ActualPosition", 2)
    with pytest.raises(ValueError, match=f"the server has no namespace {NAMESPACE_URI}"):
        resolve(mapping, ["http://opcfoundation.org/UA/"])


def test_samples_are_assembled_whatever_order_the_nodes_report_in():
    assembler = SampleAssembler(["a", "b", "c"], ["a (n1)", "b (n2)", "c (n3)"])
    t0 = datetime(2024, 1, 1, tzinfo=timezone.utc)
    t1, t2 = t0 + timedelta(seconds=0.1), t0 + timedelta(seconds=0.2)
    assert assembler.add(0, t0, 1.0, 0.0) + assembler.add(1, t0, 2.0, 0.0) == []
    assert assembler.add(2, t0, 3.0, 0.0) == [(t0, {"a": 1.0, "b": 2.0, "c": 3.0})]
    # a publish grouped by node: every value of a, then of b, then of c; c never reports t1
    out = []
    for slot, stamp in ((0, t1), (0, t2), (1, t1), (1, t2), (2, t2)):
        out += assembler.add(slot, stamp, float(slot), 0.0)
    assert [stamp for stamp, _ in out] == [t1, t2]
    assert out[0][1].reason == "missing" and "c (n3)" in out[0][1].detail
    assert out[1][1] == {"a": 0.0, "b": 1.0, "c": 2.0}
    assert assembler.add(2, t1, 9.0, 0.0) == []  # late: t1 was already given up
    assembler.reset()  # reconnected: the current sample is sent again and must not count twice
    assert [assembler.add(slot, t2, 0.0, 1.0) for slot in range(3)] == [[], [], []]
    t3 = t2 + timedelta(seconds=0.1)
    assert [assembler.add(slot, t3, 0.0, 1.0) for slot in range(3)][-1] == [(t3, {"a": 0.0, "b": 0.0, "c": 0.0})]
    assembler.add(0, t3 + timedelta(seconds=0.1), 0.0, 1.0)
    assert assembler.expire(1.5) == [] and len(assembler.expire(2.5)) == 1  # given up after GIVE_UP_S
