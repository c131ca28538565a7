"""The screenshot mode (``cncwear gui --screenshot DIR [--size WxH] [--kiosk]``): every view of a real window
gets its content (real data, a real training run, real drift checks, an acknowledged alarm), is
grabbed to ``DIR/<view>.png``, and the window closes."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from PySide6.QtWidgets import QScrollArea

SCREENSHOT_TIMEOUT_S = 600  # first start trains a model; the bundled data takes ~20 s here
SCREENSHOT_REPLAY_SPEED = 20  # the demo machines in screenshot mode: 4 minutes of machining in 12 s
SCREENSHOT_MACHINING_S = 240  # how much machining the Operator view shows (its trend covers 5 minutes)
SCREENSHOT_TRAINING_BUDGET_S = 10  # a real, short FLAML run, so the Training view shows results
SCREENSHOT_DRIFT_CHECKS = 12  # real drift checks, the replays advanced between them: the heatmap's history
SCREENSHOT_DRIFT_STEP_S = 1.0  # wall-clock seconds between two of them (20 s of machining)


def render_screenshots(app, window, target: Path) -> int:
    """Wait until each view has its content, grab it to ``<view>.png``, exit 0 (1 on timeout).

    The Training view gets its content from a real training run (FLAML, 10 s, registered as the
    challenger, not promoted), started once the data is loaded, and the paired protocol run after it;
    the Explanations view explains the
    most confidently worn sample of a worn experiment; the Monitoring view loads its snapshot (a
    ``cncwear monitor`` child) when its tab is shown, then checks drift a few times."""
    target.mkdir(parents=True, exist_ok=True)
    if problem := window.state.settings.data_dir_problem():  # nothing to score: show the Data view saying so
        window.tabs.setCurrentWidget(window.data_view)
        app.processEvents()
        _grab(window, target / "data.png")
        print(f"cncwear gui --screenshot: the other views cannot load: the settings' {problem}", file=sys.stderr)
        window.close()
        return 1
    deadline = time.monotonic() + SCREENSHOT_TIMEOUT_S
    training = window.training_view
    later = (training, window.explanations_view, window.monitoring_view)  # these get their content below
    views = [window.tabs.widget(i) for i in range(window.tabs.count())]
    if not _wait_for(window, lambda: all(_loaded(v) for v in views if v not in later), deadline):
        return 1
    taught = _teach_demo(window)
    training.set_choices(engine="flaml", budget_s=SCREENSHOT_TRAINING_BUDGET_S, register=True)
    training.start_training()
    if not _wait_for(window, lambda: training.loaded, deadline):
        return 1
    training.paired_panel.run()
    if not _wait_for(window, lambda: training.paired_panel.loaded, deadline):
        return 1
    if not _show_alarms(window, deadline):
        return 1
    window.state.select_sample(*worn_sample(window.state.scores, window.state.dataset, taught))
    for index in range(window.tabs.count()):
        window.tabs.setCurrentIndex(index)
        name = window.tabs.tabText(index).lower().replace(" ", "_")
        if window.tabs.widget(index) is window.explanations_view:
            if not _grab_explanations(app, window, target, deadline):
                return 1
            continue
        if window.tabs.widget(index) is window.monitoring_view:
            if not _grab_monitoring(app, window, target, deadline):
                return 1
            continue
        if window.tabs.widget(index) is window.alarms_view:  # showing it reads the audit trail: wait for that
            reads = window.alarms_view.audit_reads
            if not _wait_for(window, lambda: window.alarms_view.audit_reads > reads, deadline):
                return 1
        if window.tabs.widget(index) is training:
            if not _wait_for(window, lambda: training.leakage_shown, deadline):
                return 1
            _grab_training(app, window, target)
            continue
        app.processEvents()  # lay the tab out before grabbing (screenshot mode only)
        _grab(window, target / f"{name}.png")
    window.close()
    return 0


def render_kiosk_screenshots(app, window, target: Path) -> int:
    """Kiosk mode (``--screenshot DIR --kiosk``): ``kiosk.png`` (the Operator view, its alarms raised,
    one acknowledged) and ``kiosk_alarms.png`` (the Alarms list, one touch away), exit 0 (1 on timeout)."""
    target.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + SCREENSHOT_TIMEOUT_S
    if not _wait_for(window, lambda: window.operator_view.loaded and window.alarms_view.loaded, deadline):
        return 1
    _teach_demo(window)
    if not _show_alarms(window, deadline):
        return 1
    window.tabs.setCurrentWidget(window.operator_view)
    app.processEvents()
    _grab(window, target / "kiosk.png")
    window.tabs.setCurrentWidget(window.alarms_view)
    rows = window.alarms_view.table
    if rows.rowCount():
        rows.selectRow(0)  # the operator touched the first alarm: its actions are enabled
    app.processEvents()
    _grab(window, target / "kiosk_alarms.png")
    window.close()
    return 0


def _teach_demo(window) -> set:
    """Teach the demo machines as `cncwear teach` would, so the Operator view shows taught tiles:
    each machine's setup from the unworn run of that setup (the paired protocol's teach-in), the
    last machine left NOT TAUGHT. Written to the store; the running node takes them up on its next
    poll. Demo machines only: configured machines keep what their site taught. Returns the setups
    that have a reference now."""
    from ..data.setup import setup_of_meta
    from ..monitoring.teach_in import TeachError, teach, windows_of_samples
    from ..store.taught_references import TaughtReferenceStore
    from .live_service import DEMO_MACHINES

    dataset, settings = window.state.dataset, window.state.settings
    if dataset is None or window.machine_specs():  # configured machines keep what their site taught
        return set()
    unworn = {setup_of_meta(e.meta): e for e in dataset.experiments.values()
              if e.meta is not None and e.meta.tool_condition == "unworn"}
    taught = set()
    with TaughtReferenceStore(settings.feature_store_url or None) as store:
        for machine, number in list(DEMO_MACHINES.items())[:-1]:
            experiment = dataset.experiments.get(number)
            setup = setup_of_meta(experiment.meta) if experiment and experiment.meta else None
            taught_on = unworn.get(setup)
            if taught_on is None:
                continue
            if store.active(machine, setup.text) is not None:
                taught.add(setup)
                continue
            try:
                reference = teach(windows_of_samples(taught_on.samples), machine, setup, runs=[taught_on.path.name])
            except TeachError as error:
                print(f"cncwear gui --screenshot: {machine} not taught: {error}", file=sys.stderr)
                continue
            store.save(machine, reference.setup.text, reference.to_json(), "screenshot", "screenshot mode demo")
            taught.add(setup)
    return taught


def _grab(window, path: Path) -> None:
    """The PNG, and on stderr what does not fit the window's screen size (fit_check: cut texts)."""
    from .fit_check import fit_problems, settle_layouts

    settle_layouts()  # the texts the machines set a moment ago at their heights, not mid-layout
    window.grab().save(str(path))
    print(path)
    width, height = getattr(window, "screenshot_size", None) or (window.width(), window.height())
    for problem in fit_problems(window, width, height):
        print(f"cncwear gui --screenshot: {path.name}: {problem}", file=sys.stderr)


def _grab_training(app, window, target: Path) -> None:
    """training.png with the comparison with the baselines, training_paired.png with the paired protocol."""
    tabs = window.training_view.results_tabs
    for tab in range(tabs.count()):
        tabs.setCurrentIndex(tab)
        app.processEvents()
        _grab(window, target / ("training.png" if tab == 0 else "training_paired.png"))
    tabs.setCurrentIndex(0)


def _grab_explanations(app, window, target: Path, deadline: float) -> bool:
    """explanations.png with the first global tab, then one more PNG per other global tab, the view
    scrolled down to it when the screen is too short to show it under LIME, SHAP and the anchor."""
    view = window.explanations_view
    area = view.parentWidget()
    while area is not None and not isinstance(area, QScrollArea):
        area = area.parentWidget()
    for tab in range(view.global_tabs.count()):
        view.global_tabs.setCurrentIndex(tab)
        if not _wait_for(window, lambda: view.loaded, deadline):
            return False
        app.processEvents()
        if tab and area is not None:
            area.ensureWidgetVisible(view.global_tabs, 0, 0)
        suffix = "" if tab == 0 else "_" + view.global_tabs.tabText(tab).lower().replace(" ", "_").replace("/", "")
        _grab(window, target / f"explanations{suffix}.png")
    if area is not None:
        area.verticalScrollBar().setValue(0)
    return True


def _grab_monitoring(app, window, target: Path, deadline: float) -> bool:
    """monitoring.png once the snapshot is loaded (showing the tab starts it) and after a series
    of real drift checks, the replays advanced between them, so the heatmap has a history."""
    view = window.monitoring_view
    if not _wait_for(window, lambda: view.loaded, deadline):
        return False
    for _ in range(SCREENSHOT_DRIFT_CHECKS - 1):
        _wait_for(window, lambda until=time.monotonic() + SCREENSHOT_DRIFT_STEP_S: time.monotonic() > until, deadline)
        view.check_drift_now()
        if not _wait_for(window, lambda: view.loaded, deadline):
            return False
    app.processEvents()
    _grab(window, target / "monitoring.png")
    return True


def _show_alarms(window, deadline: float) -> bool:
    """Let the demo machines run until alarms are raised and the trends are minutes long, then
    acknowledge one alarm (a real, audited acknowledgement) so the alarm list shows both states."""
    operator = window.operator_view
    speed = window.state.settings.demo_replay_speed

    def machined_s() -> float:
        return min((v.scored for v in operator.views), default=0) * 0.1

    def raised() -> list[str]:
        return [v.machine for v in operator.views if v.alarm.get("needs_action")]

    if not _wait_for(window, lambda: machined_s() >= min(SCREENSHOT_MACHINING_S, 60 * speed) and len(raised()) >= 2,
                     deadline):
        return False
    machine = raised()[-1]
    window.live.acknowledge(machine, "screenshot", "tool checked at the machine")
    return _wait_for(window, lambda: any(v.machine == machine and v.alarm.get("state") == "acknowledged"
                                         for v in operator.views), deadline)


def worn_sample(scores, dataset, taught: set = frozenset()) -> tuple[int, int]:
    """The most confidently worn cutting sample of a worn experiment, of a taught setup where one
    is (so the taught monitor judges it too): what a quality engineer would check."""
    import numpy as np

    from ..data.schema import CUTTING_CODES
    from ..data.setup import setup_of_meta

    def setup_taught(score) -> bool:
        experiment = dataset.experiments.get(score.experiment) if dataset is not None else None
        return bool(experiment and experiment.meta and setup_of_meta(experiment.meta) in taught)

    experiments = [s for s in scores.experiments.values() if s.true_worn == 1] or list(scores.experiments.values())
    experiments = [s for s in experiments if setup_taught(s)] or experiments
    chosen = max(experiments, key=lambda s: s.mean_probability)
    cutting = np.isin(chosen.phase, CUTTING_CODES)
    probability = np.where(cutting, chosen.probability, -1.0) if cutting.any() else chosen.probability
    return chosen.experiment, int(np.argmax(probability))


def _wait_for(window, condition, deadline: float) -> bool:
    """Run the event loop until ``condition()``; on an error or the deadline close the window."""
    from PySide6.QtCore import QEventLoop, QTimer

    while not condition():
        if time.monotonic() > deadline or (window.last_error and not window.busy):
            print(f"cncwear gui --screenshot: views did not load ({window.last_error or 'timeout'})", file=sys.stderr)
            window.close()
            return False
        loop = QEventLoop()
        QTimer.singleShot(100, loop.quit)
        loop.exec()
    return True


def _loaded(view) -> bool:
    return bool(getattr(view, "loaded", True))
