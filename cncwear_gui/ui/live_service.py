"""The desktop app's live engine: machines scored on their own thread, views fed by signals.

The engine (``live.engine.LiveNode``) runs on a plain Python thread: opening the sources (a
replay loads its file), scoring, the prediction log and the audit trail never touch the GUI
thread. After every scoring pass it emits ``updated`` with a copy of each machine's state; Qt
queues the signal to the GUI thread. Operators' actions (acknowledge, shelve) write the audit
trail first, so they also run off the GUI thread and report back with ``action_done`` or
``action_failed``.

Machines come from Settings (``ID=SOURCE`` specs, or ``cncwear gui --machine``); with none
configured, the demo: eight machines replaying recorded runs of the loaded dataset.

Drift is checked by the engine, as in ``cncwear serve`` (every ``DRIFT_CHECK_S``, the drift
gauges of /metrics): the model's per-setup drift reference (``monitoring.setup_drift``, the kind
``cncwear serve`` loads) comes from the Monitoring view's snapshot (a ``cncwear monitor`` child
reads it from MLflow) and is handed over with :meth:`set_reference`;
the service keeps it for the next start. The checks reach the views with the passes
(``MachineView.drift``); **Check now** is :meth:`check_drift_now`, a request to the engine thread.
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor

from PySide6.QtCore import QObject, Signal

from ..settings import Settings

log = logging.getLogger(__name__)
#: The demo's machines and the recorded runs they replay: unworn and worn tools, alternating.
DEMO_MACHINES = {"Mill 1": 1, "Mill 2": 6, "Mill 3": 11, "Mill 4": 18, "Mill 5": 3, "Mill 6": 8,
                 "Mill 7": 12, "Mill 8": 15}
DRIFT_CHECK_S = 10  # the engine checks every machine's window this often


def live_config(settings: Settings, drift_interval_s: float = DRIFT_CHECK_S):
    from ..live.engine import LiveConfig
    from ..live.teach_state import taught_limits
    from ..store.retention import retention_from

    return LiveConfig(threshold=settings.worn_threshold, window=settings.smoothing_window,
                      alarm_delay=settings.alarm_delay_samples, drift_interval_s=drift_interval_s,
                      teach_runs=settings.teach_runs, relearn_after_tool_change=settings.relearn_after_tool_change,
                      limits=taught_limits(settings), retention=retention_from(settings))


def demo_machines(dataset, speed: float, model, metrics, config) -> list:
    """The demo: each machine replays one experiment of the loaded dataset (in memory)."""
    from ..live.engine import open_machine
    from ..live.replay import ReplaySource
    from ..live.sources import MachineSpec

    samples = dataset.samples()
    available = [n for n in DEMO_MACHINES.values() if n in dataset.experiments]
    if len(available) < len(DEMO_MACHINES):  # another dataset: its first experiments
        available = sorted(dataset.experiments)[:len(DEMO_MACHINES)]
    machines = []
    for index, experiment in enumerate(available):
        name = list(DEMO_MACHINES)[index]
        rows = samples[samples["experiment"].to_numpy() == experiment]
        source = ReplaySource(rows, speed, label=f"experiment {experiment}")
        spec = MachineSpec(name, "replay", str(dataset.experiments[experiment].path), speed)
        machines.append(open_machine(spec, model, metrics, config, source=source))
    return machines


def configured_machines(texts: list[str], model, metrics, config) -> list:
    """Machines from ``ID=SOURCE`` specs; one whose source cannot be opened is shown with its error."""
    from ..live.engine import open_machine
    from ..live.sources import MachineSpec, SourceSpecError, UnavailableSource

    machines = []
    for text in texts:
        try:
            spec = MachineSpec.parse(text)
            machines.append(open_machine(spec, model, metrics, config))
        except (SourceSpecError, ValueError, OSError) as error:
            name = text.partition("=")[0] or text
            spec = MachineSpec(name, "unavailable", text)
            machine = open_machine(spec, model, metrics, config, source=UnavailableSource(str(error)))
            machine.error = str(error)
            machines.append(machine)
    return machines


class LiveService(QObject):
    updated = Signal(object, float)  # list[live.engine.MachineView], time.monotonic() of the pass
    _pass_ready = Signal()  # engine thread → GUI thread: a newer pass is waiting
    _node_ready = Signal(object, int)  # engine thread → GUI thread: the node of start number N is open
    started = Signal(object)  # the LiveNode, once its machines are open
    failed = Signal(str)
    action_done = Signal(str, object)  # what was done, the alarm transitions
    action_failed = Signal(str)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.node = None
        self._thread: threading.Thread | None = None
        self._actions = ThreadPoolExecutor(max_workers=1, thread_name_prefix="operator-action")
        self._stores: list = []
        self._generation = 0
        self._reference = None  # (SetupDriftReference, model version) once known: handed to every node
        self._latest = None  # the newest pass not yet shown; older ones are dropped, never queued
        self._latest_lock = threading.Lock()
        self._pass_ready.connect(self._deliver)
        self._node_ready.connect(self._announce)

    # -- lifecycle -------------------------------------------------------------------------------
    def start(self, settings: Settings, model, dataset=None, machines: list[str] | None = None,
              store_url: str | None = None) -> None:
        """(Re)start the engine for these settings; the sources open on the engine's thread."""
        self.stop()
        self._generation += 1
        generation = self._generation
        texts = machines if machines is not None else list(settings.machines)
        self._thread = threading.Thread(
            target=self._serve, args=(generation, settings, model, dataset, texts, store_url),
            name="live-engine", daemon=True)
        self._thread.start()

    def _serve(self, generation, settings, model, dataset, texts, store_url) -> None:
        from ..live.engine import LiveNode
        from ..live.node import open_stores
        from ..monitoring.metrics import app_metrics

        try:
            metrics = app_metrics()
            config = live_config(settings)
            if texts:
                machines = configured_machines(texts, model, metrics, config)
            elif dataset is not None:
                machines = demo_machines(dataset, settings.demo_replay_speed, model, metrics, config)
            else:
                machines = []
            url = store_url or settings.feature_store_url or None
            stores = open_stores(url, config.limits, config.retention)
        except Exception as error:
            log.exception("the live engine could not start")
            self.failed.emit(f"The live machines could not start: {error}")
            return
        node = LiveNode(machines, model, metrics, config, **stores)
        node.listeners.append(self._on_pass)
        if generation != self._generation:  # stopped while opening
            node.close()
            for store in stores.values():
                store.close()
            return
        self.node, self._stores = node, list(stores.values())
        if self._reference is not None:  # known before this start (read after self.node: none is missed)
            node.set_reference(*self._reference)
        self._node_ready.emit(node, generation)
        try:
            node.run()
        except Exception as error:
            log.exception("the live engine stopped")
            self.failed.emit(f"The live engine stopped: {error}")
        finally:
            for store in stores.values():
                store.close()

    def _announce(self, node, generation: int) -> None:
        """On the GUI thread: only the current start's node is announced (not one stopped meanwhile)."""
        if generation == self._generation:
            self.started.emit(node)

    def _on_pass(self, views: list, at: float) -> None:
        """On the engine thread: keep only the newest pass; wake the GUI thread once for it.

        A pass without trends does not overwrite the trends of an undelivered one."""
        with self._latest_lock:
            waiting = self._latest is not None
            if waiting and views and self._latest[0] and views[0].trend_values is None and self._latest[0][0].trend_values is not None:
                trends = {v.machine: (v.trend_values, v.taught_loads) for v in self._latest[0]}
                for view in views:
                    view.trend_values, view.taught_loads = trends.get(view.machine, (None, None))
            self._latest = (views, at)
        if not waiting:
            self._pass_ready.emit()

    def _deliver(self) -> None:
        with self._latest_lock:
            latest, self._latest = self._latest, None
        if latest is not None:
            self.updated.emit(*latest)

    def stop(self, timeout_s: float = 5.0) -> None:
        self._generation += 1
        node, thread = self.node, self._thread
        self.node, self._thread = None, None
        if node is not None:
            node.stop_event.set()
            node.wake.set()
        if thread is not None and thread.is_alive():
            thread.join(timeout_s)

    def set_model(self, model, reference=None) -> None:
        if reference is None and self._reference is not None and self._reference[1] == str(model.version):
            reference = self._reference[0]
        if self.node is not None:
            self.node.set_model(model, reference)

    def set_reference(self, reference, version: str) -> None:
        """The per-setup drift reference of model ``version``: the engine checks drift against it
        (the engine ignores it while it scores with another version)."""
        self._reference = (reference, str(version))
        node = self.node
        if node is not None:
            node.set_reference(reference, str(version))

    def check_drift_now(self) -> None:
        """Ask the engine to check every machine's window in its next pass (no work here)."""
        node = self.node
        if node is not None:
            node.request_drift_check()

    # -- operator actions --------------------------------------------------------------------------
    def acknowledge(self, machine: str, user: str, comment: str = "", false_alarm: bool = False) -> None:
        what = "false alarm recorded" if false_alarm else "acknowledged"
        self._act(what, machine, lambda node: node.acknowledge(machine, user, comment, false_alarm))

    def shelve(self, machine: str, minutes: float, user: str, comment: str = "") -> None:
        self._act(f"shelved for {minutes:g} min", machine, lambda node: node.shelve(machine, minutes, user, comment))

    def unshelve(self, machine: str, user: str) -> None:
        self._act("unshelved", machine, lambda node: node.unshelve(machine, user))

    def tool_change(self, machine: str, reason: str, user: str, comment: str = "") -> None:
        self._act(f"tool change ({reason}) recorded", machine, lambda node: node.tool_change(machine, reason, user, comment))

    def start_teach_in(self, machine: str, user: str, relearn: bool = False) -> None:
        what = "relearn started: the next run becomes the reference" if relearn else "teach-in started"
        self._act(what, machine, lambda node: node.start_teach_in(machine, user, forget=relearn))

    def teach_last_run(self, machine: str, user: str) -> None:
        self._act("last run marked good: it becomes the reference", machine,
                  lambda node: node.teach_last_run(machine, user))

    def _act(self, what: str, machine: str, action) -> None:
        node = self.node
        if node is None:
            self.action_failed.emit("The live machines are not running.")
            return

        def run():
            try:
                transitions = action(node)
            except Exception as error:
                log.warning("operator action on %s failed: %s", machine, error)
                self.action_failed.emit(f"{machine}: {error}")
                return
            self.action_done.emit(f"{machine}: {what}", transitions)
            node.wake.set()  # the views show the new state at once

        self._actions.submit(run)

    def shutdown(self) -> None:
        self.stop()
        self._actions.shutdown(wait=True)
