"""The headless node behind ``cncwear serve``: sources → scoring → alarms, logs, drift → /metrics.

:class:`HeadlessNode` wires what the command only configures: the Prometheus endpoint (started
first, so a busy port is reported before minutes of model loading), the model and its training
per-setup drift reference, one live machine per source, the audit trail, prediction log and feedback store, and
the champion follower that swaps in a model promoted while serving. What happens is told as
JSON-line events (see ``cncwear_gui.events``: serving, model, model-error, stopped) through
``on_event``. Input the caller must fix raises :class:`NodeInputError`.
"""

from __future__ import annotations

import logging
from typing import Callable

from .. import events
from .engine import LiveConfig, LiveNode, open_machine
from .sources import MachineSpec, SourceSpecError

log = logging.getLogger(__name__)
DEMO_REPLAYS = {"mill-1": "experiment_01.csv", "mill-2": "experiment_06.csv", "mill-3": "experiment_11.csv",
                "mill-4": "experiment_18.csv"}


class NodeInputError(ValueError):
    """A machine, an address or a model the node cannot use; the message says which."""


def metrics_address(text: str):
    """``HOST:PORT`` where /metrics listens (monitoring.endpoint.MetricsAddress)."""
    from ..monitoring.endpoint import MetricsAddress

    try:
        return MetricsAddress.parse(text)
    except ValueError as error:
        raise NodeInputError(str(error)) from None


def machine_specs(texts: list[str]) -> list[MachineSpec]:
    """The machines ``ID=SOURCE`` (none given: four bundled replays); each id once."""
    from ..paths import bundled_dataset_dir

    try:
        specs = [MachineSpec.parse(text) for text in texts] or [
            MachineSpec.parse(f"{machine}=replay:{bundled_dataset_dir() / name}") for machine, name in DEMO_REPLAYS.items()]
    except (ValueError, SourceSpecError) as error:
        raise NodeInputError(str(error)) from None
    duplicates = {s.machine for s in specs if [t.machine for t in specs].count(s.machine) > 1}
    if duplicates:
        raise NodeInputError(f"--machine: machine id(s) {sorted(duplicates)} given more than once")
    return specs


def load_model(spec: str, training_data: Callable, audit_url: str | None = None):
    """The champion (trained on ``training_data()`` on first start) or the model an MLflow run logged."""
    from ..models.champion import find_run_model, load_active_model, resolve_champion
    from ..store.tracking import ModelTrustError

    try:
        reference = resolve_champion(training_data, audit_url=audit_url) if spec == "champion" else find_run_model(spec)
        return load_active_model(reference)
    except (LookupError, ModelTrustError) as error:
        raise NodeInputError(f"--model {spec}: {error}") from None


def open_stores(url: str | None, limits=None, retention=None) -> dict:
    """The live engine's stores at ``url`` (None: the default): audit trail, prediction log
    (``retention``: store.retention.Retention, pruned and floored by it; None: neither), feedback,
    taught references (``limits``: the default limits), tool changes, floor-labelled runs, and the
    shared alarm list with other PCs' requests on it."""
    from ..store.audit_trail import AuditTrail
    from ..store.database import default_store_url
    from ..store.feature_store import FeatureStore
    from ..store.pipeline_history import PipelineHistory
    from ..store.prediction_log import PredictionLog
    from ..store.shared_alarms import SharedAlarmStore
    from ..store.tool_changes import ToolChangeLog
    from .teach_state import TaughtLibrary

    return {"audit": AuditTrail(url), "predictions": PredictionLog(url, retention=retention), "feedback": PipelineHistory(url),
            "library": TaughtLibrary(url or default_store_url(), limits), "tool_changes": ToolChangeLog(url),
            "floor_runs": FeatureStore(url), "shared_alarms": SharedAlarmStore(url)}


def log_summary(predictions) -> dict:
    """The prediction log's counts and how long its batches took (ms), for the "stopped" event."""
    seconds = sorted(predictions.batch_seconds())

    def percentile(q: float) -> float | None:
        return round(1000 * seconds[min(len(seconds) - 1, int(q * len(seconds)))], 2) if seconds else None

    return {"written": predictions.written, "pending": predictions.pending, "dropped": predictions.dropped,
            "failed_batches": predictions.failed_batches, "batches": len(seconds), "batch_p50_ms": percentile(0.5),
            "batch_p99_ms": percentile(0.99), "batch_max_ms": percentile(1.0)}


class HeadlessNode:
    def __init__(self, specs: list[MachineSpec], config: LiveConfig, address, *,
                 model: str = "champion", training_data: Callable | None = None, audit_url: str | None = None,
                 tls_cert: str = "", tls_key: str = "", store_url: str | None = None, keep_log: bool = True,
                 champion_check_s: float = 60.0, on_event: Callable[[dict], None] = events.emit):
        """``address``: where /metrics listens (:func:`metrics_address`); ``training_data()``: the dataset a first-start champion
        trains on; ``champion_check_s``: with ``model`` "champion", how often to look for a newly
        promoted one (0: never); ``keep_log`` False: no audit trail or prediction log."""
        from ..monitoring.metrics import app_metrics

        self.address = address
        self.specs, self.config, self.model_spec = specs, config, model
        self.training_data, self.audit_url = training_data, audit_url
        self.tls_cert, self.tls_key = tls_cert, tls_key
        self.store_url, self.keep_log, self.champion_check_s = store_url, keep_log, champion_check_s
        self.on_event = on_event
        self.metrics = app_metrics()
        self.endpoint = None
        self.node: LiveNode | None = None
        self.follower = None
        self.stores: list = []
        self._raw_paused = False
        self._store_down = False

    def start(self) -> None:
        """Open the endpoint, load the model and its reference, open the machines and the stores."""
        from ..monitoring.endpoint import MetricsEndpoint, MetricsEndpointError
        from ..monitoring.model_info import describe_model
        from ..monitoring.reference import model_evaluation, setup_reference_for

        self.endpoint = MetricsEndpoint(self.metrics.registry, self.address, self.tls_cert, self.tls_key)
        try:
            self.endpoint.start()  # first, so a busy port is reported before minutes of model loading
        except MetricsEndpointError as error:
            raise NodeInputError(str(error)) from None
        # the stores next, also before the model: a store that is down or refuses the login is said at once
        stores = self._open_stores() if self.keep_log else {}
        model = load_model(self.model_spec, self.training_data, self.audit_url)
        describe_model(self.metrics, model, model_evaluation(model.run_id))
        try:
            reference = setup_reference_for(model, self.training_data)
        except ValueError as error:  # e.g. training rows without feed rate and clamp pressure
            log.warning("no drift checks: the per-setup drift reference cannot be built: %s", error)
            reference = None
        try:
            machines = [open_machine(spec, model, self.metrics, self.config, reference) for spec in self.specs]
        except ValueError as error:
            raise NodeInputError(str(error)) from None
        self.node = LiveNode(machines, model, self.metrics, self.config, **stores)
        if "predictions" in stores:
            self.node.listeners.append(self._watch_disk)
            self.node.listeners.append(self._watch_store)
        if self.model_spec == "champion" and self.champion_check_s > 0:
            self.follower = self._champion_follower()

    def _open_stores(self) -> dict:
        """The stores at ``store_url``; one that cannot be reached is :class:`NodeInputError` (the
        message names the URL, password hidden)."""
        from ..store.database import StoreUnreachable

        try:
            stores = open_stores(self.store_url or None, self.config.limits, self.config.retention)
        except StoreUnreachable as error:
            raise NodeInputError(f"--store: {error}") from None
        self.stores += list(stores.values())
        return stores

    def _champion_follower(self):
        """Serve the champion that is promoted while serving: load it in a thread, swap it in, say so."""
        from ..models.champion import load_active_model
        from ..monitoring.model_info import describe_model
        from ..monitoring.reference import model_evaluation, setup_reference_for
        from .champion_follower import ChampionFollower

        node = self.node

        def load(champion):
            model = load_active_model(champion)
            return model, setup_reference_for(model, self.training_data)

        def changed(model):
            describe_model(self.metrics, model, model_evaluation(model.run_id))
            self.on_event({"event": "model", "model": model.label, "run_id": model.run_id})

        def failed(version, message):
            self.on_event({"event": "model-error", "version": version, "error": message, "model": node.model.label})

        return ChampionFollower(node, node.model.version, load, changed, failed, self.champion_check_s)

    def _watch_disk(self, _views, _now) -> None:
        """Say "disk-low" when the prediction log stops writing raw rows, "disk-ok" when it writes again."""
        log_ = self.node.predictions
        status = log_.storage()
        if status.raw_paused != self._raw_paused:
            self._raw_paused = status.raw_paused
            from ..store.database import redacted

            self.on_event({"event": "disk-low" if status.raw_paused else "disk-ok", "free_bytes": status.free_bytes,
                           "floor_bytes": status.floor_bytes, "store": redacted(log_.url)})

    def _watch_store(self, _views, _now) -> None:
        """Say "store-down" when the prediction log cannot write to its database (the rows wait in
        memory), "store-up" when it writes again."""
        log_ = self.node.predictions
        outage = log_.outage
        if (outage is not None) != self._store_down:
            self._store_down = outage is not None
            from ..store.database import redacted

            event = {"event": "store-down" if outage else "store-up", "store": redacted(log_.url),
                     "pending": log_.pending}
            if outage:
                event["error"] = outage[1]
            self.on_event(event)

    @property
    def url(self) -> str:
        return self.endpoint.url

    def run(self, duration_s: float | None = None) -> dict:
        """Say "serving", score until :meth:`stop` or ``duration_s``, say "stopped"; returns that event."""
        node = self.node
        self.on_event({"event": "serving", "url": self.endpoint.url, "model": node.model.label,
                       "machines": [s.machine for s in self.specs]})
        if self.follower is not None:
            self.follower.start()
        try:
            node.run(duration_s)
        except KeyboardInterrupt:
            node.close()
        finally:
            if self.follower is not None:
                self.follower.stop()
        stopped = {"event": "stopped", "scored": {m.name: m.monitor.scored for m in node.machines},
                   "alarms": {m.name: node.alarm_of(m.name)["state"] for m in node.machines}}
        if node.predictions is not None:
            stopped["log"] = log_summary(node.predictions)
        self.on_event(stopped)
        return stopped

    def stop(self) -> None:
        """End :meth:`run` (from a signal handler or another thread)."""
        if self.node is not None:
            self.node.stop_event.set()

    def close(self) -> None:
        if self.endpoint is not None:
            self.endpoint.stop()
        for store in self.stores:
            store.close()
        self.stores = []
