"""``cncwear pipeline run|watch|history|feedback`` and ``cncwear monitor``: the automated pipeline.

The checks, the firing and the watch round are the core's (``pipeline.watch``); this module
parses, checks input, calls them and renders.
"""

from __future__ import annotations

import signal
import sys
from pathlib import Path

from .base import EXIT_FAILURE, EXIT_OK, BadInput, emit
from .common import NO_MANUAL_META, loaded_or_bad_input, progress_printer


def _history(args, settings):
    from ..store.pipeline_history import PipelineHistory

    return PipelineHistory(args.store or settings.feature_store_url or None)


def cmd_pipeline_run(args) -> int:
    """Check a trigger and, when it fires (or --force), run the automated pipeline once."""
    from .. import events
    from ..pipeline.watch import STALE_AFTER_S, TriggerInputError, check_trigger, fire, pipeline_config
    from ..settings import load_settings
    from ..tasks import Task

    settings = load_settings()
    if args.budget is not None and args.budget < 1:
        raise BadInput("--budget must be a positive number of seconds")
    history = _history(args, settings)
    try:
        history.abandon_stale(older_than_s=STALE_AFTER_S)
        try:
            check = check_trigger(args.trigger, settings, history, watch_dir=args.watch_dir, new_data=args.new_data,
                                  training_data=args.data)
        except TriggerInputError as error:
            raise BadInput(str(error)) from None
        if not check.fires and not args.force:
            if args.trigger in ("drift", "degradation"):  # an evaluated condition: keep the record
                history.record(check.trigger, check.reason, "skipped", {"context": check.context, "skipped_because": "condition not met"})
            emit(args, {"trigger": check.trigger, "fired": False, "reason": check.reason, "context": check.context},
                 f"not fired: {check.reason}")
            return EXIT_OK
        reason = check.reason + (" (forced)" if not check.fires else "")
        config = pipeline_config(settings, args.data, args.engine, args.budget, args.margin, args.store)
        task = Task(progress_printer(args))
        signal.signal(signal.SIGTERM, lambda *_: task.cancel())  # the GUI's Cancel: recorded, never half-written
        # --progress-json: the firing's id first, so the window knows which firing is its own
        on_firing = (lambda firing_id, trigger, status: events.emit_firing(firing_id, trigger, status)) \
            if args.progress_json else None
        result = fire(check, config, history, task, reason=reason, on_firing=on_firing)
    finally:
        history.close()

    def text() -> None:
        print(f"pipeline #{result.firing_id} ({result.trigger}): {result.status.upper()}")
        print(f"  why: {result.reason}")
        for step in result.steps:
            print(f"  {step.name:9} {step.status:6} {step.seconds:8.1f} s  "
                  + ", ".join(f"{k}={v}" for k, v in step.detail.items() if k not in ("traceback",))[:300])
        if result.error:
            print(f"  error: {result.error}")

    emit(args, {"fired": True, **result.to_json()}, text)
    return EXIT_FAILURE if result.status == "failed" else EXIT_OK


def cmd_pipeline_watch(args) -> int:
    """Check the automatic triggers (schedule, new data, degradation) every interval; run the pipeline when one fires."""
    import time as clock

    from .. import events
    from ..pipeline.watch import watch_round
    from ..settings import load_settings
    from ..tasks import Task

    if args.interval <= 0:
        raise BadInput("--interval must be above 0 seconds")
    stop = []
    task = Task(progress_printer(args))

    def on_sigterm(*_):
        stop.append(True)
        task.cancel()  # a pipeline in progress is recorded as cancelled; one being logged completes

    signal.signal(signal.SIGTERM, on_sigterm)
    started, missing_said = clock.monotonic(), None
    while not stop and (args.duration is None or clock.monotonic() - started < args.duration):
        settings = load_settings()  # edits in the app's Settings apply without a restart; never reset by a missing folder
        folder = args.watch_dir or settings.pipeline_watch_dir  # a missing one is said once, on stderr, until it is back
        if (missing := folder if folder and not Path(folder).expanduser().is_dir() else None) and missing != missing_said:
            print(f"watching: watched folder {missing} does not exist (not mounted?); the new-data trigger waits for it",
                  file=sys.stderr, flush=True)
        missing_said = missing
        history = _history(args, settings)
        try:
            for firing in watch_round(settings, history, watch_dir=args.watch_dir, data=args.data, engine=args.engine,
                                      budget_s=args.budget, margin=args.margin, store_url=args.store, task=task):
                events.emit(firing.to_json())
        finally:
            history.close()
        deadline = clock.monotonic() + args.interval
        while not stop and clock.monotonic() < deadline:
            clock.sleep(0.2)
    return EXIT_OK


def cmd_pipeline_history(args) -> int:
    from ..settings import load_settings
    from ..store.pipeline_history import PipelineHistory

    history = PipelineHistory(args.store or load_settings().feature_store_url or None)
    try:
        entries = history.firings(limit=args.limit)
    finally:
        history.close()

    def text() -> None:
        for firing in entries:
            print(f"#{firing.id:<4} {firing.fired_at:%Y-%m-%d %H:%M:%S} {firing.trigger:11} {firing.status:9} {firing.reason[:110]}")
        if not entries:
            print("no pipeline firings recorded yet")

    emit(args, [f.to_json() for f in entries], text)
    return EXIT_OK


def cmd_pipeline_feedback(args) -> int:
    """Record whether a prediction was right (an inspected tool, a false alarm) for the degradation trigger."""
    from ..models.champion import find_champion
    from ..settings import load_settings
    from ..store.pipeline_history import PipelineHistory

    version = args.model_version
    if version is None:
        champion = find_champion()
        if champion is None:
            raise BadInput("there is no champion; give --model-version")
        version = champion.version
    history = PipelineHistory(args.store or load_settings().feature_store_url or None)
    try:
        for _ in range(args.count):
            history.add_feedback(args.machine, version, args.predicted == "worn", args.actual == "worn", args.source)
        accuracy, labels = history.feedback_accuracy(version, last=50)
    finally:
        history.close()
    print(f"recorded {args.count} label(s) for model v{version}; right on {accuracy:.0%} of the last {labels}")
    return EXIT_OK


def cmd_monitor(args) -> int:
    """The Monitoring view's data: champion, model statistics, training reference, triggers, history."""
    from ..pipeline.snapshot import monitoring_snapshot
    from ..settings import load_settings
    from ..tasks import Task

    snapshot = monitoring_snapshot(load_settings(), lambda: loaded_or_bad_input(args), Task(progress_printer(args)))
    emit(args, {"snapshot": snapshot} if args.progress_json else snapshot, lambda: _print_snapshot(snapshot), indent=None)
    return EXIT_OK


def _print_snapshot(snapshot: dict) -> None:
    model, statistics = snapshot["model"], snapshot["statistics"]
    print(f"model: {model['label']} ({model['engine']}, trained {model['trained_at']})")
    for protocol, figures in model["evaluation"].items():
        print(f"  {protocol}: " + ", ".join(f"{k} {v:.4f}" for k, v in sorted(figures.items())))
    if statistics:
        print(f"statistics on {snapshot['statistics_source']}: accuracy {statistics['accuracy']:.4f}, "
              f"AUC {statistics['roc_auc'] if statistics['roc_auc'] is None else round(statistics['roc_auc'], 4)}, "
              f"TN {statistics['tn']} FP {statistics['fp']} FN {statistics['fn']} TP {statistics['tp']}")
    else:
        print(f"statistics: {snapshot['statistics_source']}")
    for check in snapshot["triggers"]:
        print(f"trigger {check['trigger']:11} {'FIRES' if check['fires'] else 'quiet'}: {check['reason']}")
    print(f"{len(snapshot['history'])} recorded pipeline firing(s); see 'cncwear pipeline history'")


def register(commands) -> None:
    monitor = commands.add_parser("monitor", help="model statistics, trigger states and pipeline history in one report")
    monitor.add_argument("--data", nargs="+", metavar="PATH", help="training data for a first-start champion (default: bundled)")
    monitor.add_argument("--json", action="store_true")
    monitor.add_argument("--progress-json", action="store_true", help="JSON lines: progress, then the snapshot")
    monitor.set_defaults(func=cmd_monitor, **NO_MANUAL_META)

    pipeline = commands.add_parser("pipeline", help="the automated pipeline: validate, train, evaluate, gate, promote")
    pipeline_commands = pipeline.add_subparsers(dest="pipeline_command", required=True, metavar="ACTION")
    runner = pipeline_commands.add_parser("run", help="check a trigger; run the pipeline when it fires")
    runner.add_argument("--trigger", choices=["manual", "schedule", "new-data", "degradation", "drift"], default="manual")
    runner.add_argument("--new-data", nargs="+", metavar="FILE", help="drift trigger: files to compare with the training data")
    runner.add_argument("--watch-dir", metavar="DIR", help="new-data trigger: the watched folder (default: the settings)")
    runner.add_argument("--data", nargs="+", metavar="PATH", help="training data (default: the settings' data folder or the bundled dataset)")
    runner.add_argument("--engine", choices=["flaml", "auto-sklearn"], help="default: the settings (flaml)")
    runner.add_argument("--budget", type=int, metavar="SECONDS", help="search budget (default: the settings, 60)")
    runner.add_argument("--margin", type=float, default=0.0, help="promote when challenger >= champion - margin")
    runner.add_argument("--force", action="store_true", help="run even when the trigger's condition does not hold")
    runner.add_argument("--store", metavar="URL", help="history and feature store (its floor-labelled runs join the training data); "
                        "default: the settings' feature store")
    runner.add_argument("--json", action="store_true")
    runner.add_argument("--progress-json", action="store_true", help="JSON lines: progress, then the result")
    runner.set_defaults(func=cmd_pipeline_run, **NO_MANUAL_META)
    watcher = pipeline_commands.add_parser("watch", help="check the schedule, the watched folder and feedback every interval; run when one fires")
    watcher.add_argument("--interval", type=float, default=60.0, metavar="SECONDS", help="how often to check (default 60)")
    watcher.add_argument("--duration", type=float, metavar="SECONDS", help="stop after this long (default: until SIGTERM)")
    watcher.add_argument("--watch-dir", metavar="DIR", help="the watched folder (default: the settings)")
    watcher.add_argument("--data", nargs="+", metavar="PATH", help="training data (default: the settings' data folder or the bundled dataset)")
    watcher.add_argument("--engine", choices=["flaml", "auto-sklearn"])
    watcher.add_argument("--budget", type=int, metavar="SECONDS")
    watcher.add_argument("--margin", type=float, default=0.0)
    watcher.add_argument("--store", metavar="URL")
    watcher.add_argument("--progress-json", action="store_true")
    watcher.set_defaults(func=cmd_pipeline_watch, **NO_MANUAL_META)
    shower = pipeline_commands.add_parser("history", help="the recorded firings: why, when, what ran, the result")
    shower.add_argument("--limit", type=int, default=20)
    shower.add_argument("--store", metavar="URL")
    shower.add_argument("--json", action="store_true")
    shower.set_defaults(func=cmd_pipeline_history)
    labeller = pipeline_commands.add_parser("feedback", help="record whether predictions were right (feeds the degradation trigger)")
    labeller.add_argument("--machine", required=True)
    labeller.add_argument("--predicted", choices=["worn", "ok"], required=True)
    labeller.add_argument("--actual", choices=["worn", "ok"], required=True)
    labeller.add_argument("--source", default="inspection", help="e.g. inspection, false alarm")
    labeller.add_argument("--count", type=int, default=1, help="record this many identical labels")
    labeller.add_argument("--model-version", help="default: the champion's")
    labeller.add_argument("--store", metavar="URL")
    labeller.set_defaults(func=cmd_pipeline_feedback)
