"""``cncwear serve`` (the headless node, see ``live.node``) and ``cncwear simulate`` (demo sources)."""

from __future__ import annotations

import logging
import signal

from .base import EXIT_OK, BadInput
from .common import NO_MANUAL_META, loaded_or_bad_input


def cmd_serve(args) -> int:
    """Headless node: live sources → scoring → alarms, logs, drift → the Prometheus endpoint, until SIGTERM."""
    from ..live.engine import LiveConfig
    from ..live.node import HeadlessNode, NodeInputError, machine_specs, metrics_address
    from ..live.teach_state import taught_limits
    from ..store.retention import retention_from
    from ..settings import load_settings
    from .common import audit_url

    logging.getLogger("asyncua").setLevel(logging.ERROR)  # outages are reported by the source's own log and health
    settings = load_settings()
    try:
        address = metrics_address(args.metrics_addr or f"{settings.metrics_bind_address}:{settings.metrics_port}")
        specs = machine_specs(args.machine)
    except NodeInputError as error:
        raise BadInput(str(error)) from None
    if args.drift_interval <= 0:
        raise BadInput("--drift-interval must be above 0 seconds")
    if args.champion_check < 0:
        raise BadInput("--champion-check must be 0 (never) or a positive number of seconds")
    threshold = settings.worn_threshold if args.threshold is None else args.threshold
    if not 0 < threshold < 1:
        raise BadInput("--threshold must be between 0 and 1")
    config = LiveConfig(threshold=threshold, window=settings.smoothing_window,
                        alarm_delay=settings.alarm_delay_samples, drift_interval_s=args.drift_interval,
                        teach_runs=settings.teach_runs, relearn_after_tool_change=settings.relearn_after_tool_change,
                        limits=taught_limits(settings), retention=retention_from(settings))
    node = HeadlessNode(specs, config, address, model=args.model, training_data=lambda: loaded_or_bad_input(args),
                        audit_url=audit_url() if args.model == "champion" else None,
                        tls_cert=args.tls_cert or "", tls_key=args.tls_key or "", store_url=args.store or None,
                        keep_log=not args.no_log, champion_check_s=args.champion_check)
    try:
        try:
            node.start()
        except NodeInputError as error:
            raise BadInput(str(error)) from None
        signal.signal(signal.SIGTERM, lambda *_: node.stop())
        node.run(args.duration)
    finally:
        node.close()
    return EXIT_OK


def cmd_simulate(args) -> int:
    """An OPC UA server replaying an experiment file on loopback, for demos and tests."""
    from pathlib import Path

    from ..live.opcua_mapping import write_mapping
    from ..live.opcua_simulator import SimulatorError, run_simulator

    if args.write_mapping:
        print(write_mapping(args.write_mapping))
        return EXIT_OK
    if not args.file:
        raise BadInput("--file is required (the experiment file to serve)")
    if not Path(args.file).is_file():
        raise BadInput(f"--file: no such file {args.file}")
    if not 0 < args.speed <= 1000:
        raise BadInput("--speed must be above 0 and at most 1000")
    if bool(args.cert) != bool(args.key):
        raise BadInput("--cert and --key go together")
    logging.getLogger("asyncua").setLevel(logging.ERROR)  # a client dropping out is not the server's error
    try:
        return run_simulator(args.file, host=args.host, port=args.port, speed=args.speed, cert=args.cert, key=args.key)
    except (SimulatorError, ValueError) as error:
        raise BadInput(str(error)) from None


def register(commands) -> None:
    server = commands.add_parser("serve", help="headless node: score machines, monitor drift, serve Prometheus metrics")
    server.add_argument("--metrics-addr", metavar="HOST:PORT",
                        help="where /metrics listens (default: the settings, 127.0.0.1:9464); 0.0.0.0:PORT opens it to the LAN")
    server.add_argument("--machine", action="append", default=[], metavar="ID=SOURCE",
                        help="a machine and its source: replay:PATH[@SPEED], tail:PATH or opc.tcp://HOST:PORT[/PATH], "
                             "options after ?: feedrate=, clamp_pressure=, mapping=FILE, security=POLICY,MODE, cert=, key= "
                             "(repeatable; default: four bundled replays)")
    server.add_argument("--model", default="champion", help="champion (default) or an MLflow run id")
    server.add_argument("--champion-check", type=float, default=60.0, metavar="SECONDS",
                        help="with --model champion: how often to look for a newly promoted champion and switch to it "
                             "(default 60; 0: never)")
    server.add_argument("--data", nargs="+", metavar="PATH", help="training data for a first-start champion (default: bundled)")
    server.add_argument("--threshold", type=float, help="worn threshold (default: the settings)")
    server.add_argument("--drift-interval", type=float, default=10.0, metavar="SECONDS", help="drift check period (default 10)")
    server.add_argument("--duration", type=float, metavar="SECONDS", help="stop after this long (default: until SIGTERM)")
    server.add_argument("--tls-cert", metavar="FILE", help="serve HTTPS with this certificate (needs --tls-key)")
    server.add_argument("--tls-key", metavar="FILE")
    server.add_argument("--store", metavar="URL", help="the audit trail and prediction log's database (default: the feature store's)")
    server.add_argument("--no-log", action="store_true", help="keep no prediction log or audit trail")
    server.set_defaults(func=cmd_serve, **NO_MANUAL_META)

    simulator = commands.add_parser("simulate", help="demo sources: serve a recorded experiment as a live machine")
    simulate_kinds = simulator.add_subparsers(dest="kind", required=True)
    opcua = simulate_kinds.add_parser("opcua", help="an OPC UA server publishing one sample every 100 ms (per --speed)")
    opcua.add_argument("--file", metavar="CSV", help="the experiment file to replay, e.g. experiment_06.csv")
    opcua.add_argument("--port", type=int, default=4840)
    opcua.add_argument("--host", default="127.0.0.1", help="bind address (default: loopback only)")
    opcua.add_argument("--speed", type=float, default=1.0, help="replay speed (1 = real time, 10 Hz)")
    opcua.add_argument("--cert", metavar="FILE", help="server certificate (DER): offer Basic256Sha256 SignAndEncrypt")
    opcua.add_argument("--key", metavar="FILE", help="the certificate's private key (PEM)")
    opcua.add_argument("--write-mapping", metavar="FILE",
                       help="write the node-id mapping template (column,node_id) for a real machine's server and exit")
    opcua.set_defaults(func=cmd_simulate)
