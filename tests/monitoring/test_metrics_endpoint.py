"""The Prometheus endpoint: naming rules, a busy port, TLS, and ``cncwear serve`` over real sockets."""

from __future__ import annotations

import datetime
import json
import math
import os
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.request

import pytest
from prometheus_client.parser import text_string_to_metric_families

from helpers import ROOT, free_port, run_cli

FORBIDDEN_LABELS = {"experiment", "sample", "row", "serial", "tool_serial", "file"}


def _families(text: str) -> dict:
    return {family.name: family for family in text_string_to_metric_families(text)}



def test_metric_names_follow_prometheus_practice():
    from cncwear_gui.monitoring.metrics import AppMetrics

    metrics = AppMetrics()
    metrics.add_machine("mill-1", "replay")
    metrics.prediction_latency.labels("mill-1").observe(0.004)
    metrics.predictions.labels("mill-1", "worn").inc(3)
    metrics.count_flags("mill-1", [0, 1 << 4, (1 << 4) | 1])
    families = _families(metrics.exposition().decode())
    ours = {name: f for name, f in families.items() if name.startswith("cncwear_")}
    assert {"process_resident_memory_bytes", "python_info"} <= set(families)  # process and runtime info
    for name, family in ours.items():
        assert family.documentation, name
        assert not name.endswith("_total"), f"{name}: the parser strips _total from counters"
        labels = {key for sample in family.samples for key in sample.labels}
        assert not labels & FORBIDDEN_LABELS, f"{name} has unbounded labels {labels & FORBIDDEN_LABELS}"
        if "latency" in name:
            assert family.type == "histogram" and name.endswith("_seconds")
    for counter in ("predictions", "training_runs", "pipeline_runs", "data_quality_flags", "scoring_errors"):
        assert ours[f"cncwear_{counter}"].type == "counter"
    app = ours["cncwear_app_info"].samples[0]  # Info metrics: a gauge of 1 carrying the labels
    assert app.value == 1 and app.labels["version"] and app.labels["python"]
    samples = {(s.name, tuple(sorted(s.labels.items()))): s.value for s in ours["cncwear_data_quality_flags"].samples}
    assert samples[("cncwear_data_quality_flags_total", (("flag", "non_finite"), ("machine", "mill-1")))] == 2
    assert samples[("cncwear_data_quality_flags_total", (("flag", "m1_feedrate_50"), ("machine", "mill-1")))] == 1
    assert not any(s.name.endswith("_created") for f in families.values() for s in f.samples)
    states = {s.labels["state"]: s.value for s in ours["cncwear_wear_state"].samples}
    assert states == {"unknown": 1.0, "ok": 0.0, "worn": 0.0}  # before the first sample


def test_a_busy_port_is_reported_and_another_port_works():
    from cncwear_gui.monitoring.endpoint import MetricsAddress, MetricsEndpoint, MetricsEndpointError
    from cncwear_gui.monitoring.metrics import AppMetrics

    metrics = AppMetrics(process_metrics=False)
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        busy = squatter.getsockname()[1]
        endpoint = MetricsEndpoint(metrics.registry, MetricsAddress("127.0.0.1", busy))
        with pytest.raises(MetricsEndpointError, match=f"port {busy} on 127.0.0.1 is already in use"):
            endpoint.start()
        assert not endpoint.running
        other = MetricsEndpoint(metrics.registry, MetricsAddress("127.0.0.1", 0))
        other.start()
        try:
            body = urllib.request.urlopen(other.url, timeout=5).read().decode()
            assert "cncwear_app_info" in body
        finally:
            other.stop()
    # stopping releases the port: the same port can be bound again at once
    again = MetricsEndpoint(metrics.registry, MetricsAddress("127.0.0.1", other.port))
    again.start()
    again.stop()


def test_bad_metrics_addresses_are_refused_with_the_reason():
    from cncwear_gui.monitoring.endpoint import MetricsAddress, MetricsEndpoint, MetricsEndpointError

    with pytest.raises(ValueError, match="not HOST:PORT"):
        MetricsAddress.parse("localhost")
    with pytest.raises(ValueError, match="outside 0-65535"):
        MetricsAddress.parse("127.0.0.1:70000")
    assert MetricsAddress.parse(":9464") == MetricsAddress("127.0.0.1", 9464)
    with pytest.raises(MetricsEndpointError, match="both a certificate file and a key file"):
        MetricsEndpoint(None, MetricsAddress("127.0.0.1", 0), certfile="cert.pem")


def _self_signed(tmp_path):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    import ipaddress

    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


def test_tls_serves_https_that_verifies_against_the_certificate(tmp_path):
    from cncwear_gui.monitoring.endpoint import MetricsAddress, MetricsEndpoint
    from cncwear_gui.monitoring.metrics import AppMetrics

    cert, key = _self_signed(tmp_path)
    endpoint = MetricsEndpoint(AppMetrics(process_metrics=False).registry, MetricsAddress("127.0.0.1", 0), str(cert), str(key))
    endpoint.start()
    try:
        assert endpoint.url.startswith("https://")
        context = ssl.create_default_context(cafile=str(cert))
        body = urllib.request.urlopen(endpoint.url, timeout=5, context=context).read().decode()
        assert "cncwear_app_info" in body
        with pytest.raises(OSError):  # plain HTTP gets no metrics (reset or refused)
            urllib.request.urlopen(endpoint.url.replace("https", "http"), timeout=5)
    finally:
        endpoint.stop()


def test_serve_refuses_bad_machines_and_a_busy_port_with_exit_2(home, bundled_dir):
    done = run_cli("serve", "--machine", "mill-1=modbus://127.0.0.1:502", env={"CNCWEAR_HOME": str(home)}, timeout=120)
    assert done.returncode == 2 and "SOURCE must be replay:PATH[@SPEED], tail:PATH or opc.tcp://" in done.stderr
    done = run_cli("serve", "--machine", "mill-1=opc.tcp://127.0.0.1:4840?mapping=/no/map.csv",
                   env={"CNCWEAR_HOME": str(home)}, timeout=120)
    assert done.returncode == 2 and "mapping file /no/map.csv does not exist" in done.stderr
    done = run_cli("serve", "--machine", "mill-1=replay:/no/such.csv", env={"CNCWEAR_HOME": str(home)})
    assert done.returncode == 2 and "no such file /no/such.csv" in done.stderr
    replay = f"replay:{bundled_dir / 'experiment_01.csv'}"
    done = run_cli("serve", "--machine", f"a={replay}", "--machine", f"a={replay}", env={"CNCWEAR_HOME": str(home)})
    assert done.returncode == 2 and "more than once" in done.stderr
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        done = run_cli("serve", "--metrics-addr", f"127.0.0.1:{port}", "--machine", f"a={replay}",
                       env={"CNCWEAR_HOME": str(home)})
    assert done.returncode == 2 and f"port {port} on 127.0.0.1 is already in use" in done.stderr
    assert not (home / "mlflow.db").exists()  # refused before any model was touched


@pytest.mark.slow
def test_serve_scores_eight_machines_checks_drift_per_setup_and_stops_cleanly_on_sigterm(home, bundled_dir):
    port = free_port()
    worn, unworn = (6, 8, 9, 10), (1, 2, 3, 4)  # tool_condition in train.csv
    machines = [f"mill-{n}=replay:{bundled_dir / f'experiment_{n:02d}.csv'}@50" for n in worn + unworn]
    # and a ninth on a job the champion never trained on: its drift is not judged, it is unfamiliar
    machines.append(f"new-job=replay:{bundled_dir / 'experiment_03.csv'}@50?feedrate=20&clamp_pressure=2.5")
    arguments = [sys.executable, "-m", "cncwear_gui.cli", "serve", "--metrics-addr", f"127.0.0.1:{port}",
                 "--drift-interval", "1"]
    for machine in machines:
        arguments += ["--machine", machine]
    process = subprocess.Popen(arguments, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
                               env={**os.environ, "CNCWEAR_HOME": str(home)})
    try:
        ready = json.loads(process.stdout.readline())
        assert ready["event"] == "serving" and ready["url"] == f"http://127.0.0.1:{port}/metrics"
        time.sleep(6)  # 30 s of each machine at 50x: the wear state has settled
        families = _families(urllib.request.urlopen(ready["url"], timeout=5).read().decode())
        state = {(s.labels["machine"], s.labels["state"]): s.value for s in families["cncwear_wear_state"].samples}
        for n in worn:
            assert state[(f"mill-{n}", "worn")] == 1.0, n
        for n in unworn:
            assert state[(f"mill-{n}", "ok")] == 1.0, n
        scored = {}
        for sample in families["cncwear_predictions"].samples:
            scored[sample.labels["machine"]] = scored.get(sample.labels["machine"], 0) + sample.value
        assert len(scored) == 9 and all(v > 0 for v in scored.values())
        checks = {s.labels["machine"]: s.value for s in families["cncwear_drift_checks"].samples}
        assert all(v >= 1 for v in checks.values())
        # the node checks each machine against the training runs of its own setup (the same check as the window's)
        unfamiliar = {s.labels["machine"]: s.value for s in families["cncwear_drift_unfamiliar_setup"].samples}
        assert unfamiliar == {**{f"mill-{n}": 0.0 for n in worn + unworn}, "new-job": 1.0}
        psi = {(s.labels["machine"], s.labels["group"]): s.value for s in families["cncwear_drift_psi"].samples}
        assert math.isnan(psi[("new-job", "S1")]) and psi[("mill-1", "S1")] < 0.25
        up = {s.labels["machine"]: s.value for s in families["cncwear_source_up"].samples}
        assert set(up.values()) == {1.0}
        info = families["cncwear_model_info"].samples[0].labels
        assert info["version"] == "1" and info["feature_set"] == "signals@v1"
        evaluation = {(s.labels["protocol"], s.labels["metric"]): s.value for s in families["cncwear_model_evaluation_ratio"].samples}
        assert 0.9 < evaluation[("seed", "accuracy")] <= 1.0
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=30)
        assert process.returncode == 0, err[-2000:]
        stopped = json.loads(out.strip().splitlines()[-1])
        assert stopped["event"] == "stopped" and min(stopped["scored"].values()) > 100
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
