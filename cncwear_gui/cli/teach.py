"""``cncwear teach`` (a reference per machine and setup from good runs, its limits, Relearn) and
``cncwear tool-change`` (the operator's record of a tool change)."""

from __future__ import annotations

from .base import EXIT_OK, BadInput, emit
from .common import audit_url, redact


def store_url(args) -> str | None:
    """``--store``, else the settings' feature store (None: the default SQLite file)."""
    return args.store or audit_url()


def user_of(args) -> str:
    from ..store.database import os_user

    return args.user or os_user()


def configured_machines() -> list[str]:
    """The machine ids of the settings' ``ID=SOURCE`` lines (the demo replays' when there are none).
    Only the id counts: a machine whose source is unreachable right now is still configured."""
    from ..live.node import DEMO_REPLAYS
    from ..settings import load_settings

    lines = load_settings().machines
    if not lines:
        return list(DEMO_REPLAYS)
    return [machine for machine in (line.partition("=")[0].strip() for line in lines) if machine]


def known_machine(machine: str | None) -> str:
    if not machine:
        raise BadInput("--machine is required")
    machines = configured_machines()
    if machine not in machines:
        raise BadInput(f"unknown machine {machine!r}; the configured machines are {', '.join(machines)} "
                       "(Settings → Machines)")
    return machine


def setup_text(text: str | None) -> str:
    """The ``--setup`` text in its canonical form (``feed 6 · clamp 4``)."""
    from ..data.setup import SetupKey

    if not text:
        raise BadInput("--setup is required, e.g. --setup \"feed 6 · clamp 4\"")
    try:
        return SetupKey.parse(text).text
    except ValueError as error:
        raise BadInput(f"--setup: {error}") from None


# -- teach ------------------------------------------------------------------------------------

def taught_files(paths: list[str]):
    """The experiments to teach on, their one setup, and the windows cut from them."""
    from ..data.dataset import load_dataset
    from ..data.setup import setup_of_meta
    from ..monitoring.teach_in import Windows, windows_of_samples

    dataset = load_dataset(paths)
    if not dataset.ok:
        rejected = next(r for r in dataset.reports if not r.usable)
        raise BadInput(rejected.errors[0].located(rejected.path))
    experiments = [dataset.experiments[n] for n in sorted(dataset.experiments)]
    if not experiments:
        raise BadInput(f"no experiment file among {', '.join(paths)}")
    without = [e.path.name for e in experiments if e.meta is None]
    if without:
        raise BadInput(f"{', '.join(without)}: no metadata (no train.csv beside it), so the setup (feed rate, "
                       "clamp pressure) is unknown; teaching needs it")
    setups = {e.path.name: setup_of_meta(e.meta) for e in experiments}
    if len(set(setups.values())) > 1:
        raise BadInput("the files are of different setups, teach each setup on its own: "
                       + "; ".join(f"{name}: {setup}" for name, setup in setups.items()))
    windows = Windows.concat([windows_of_samples(e.samples) for e in experiments])
    return experiments, next(iter(setups.values())), windows


def flagged_share(experiments, mask: int) -> float:
    """The share of the cutting samples (what the windows are cut from) with any flag of ``mask``."""
    import numpy as np

    from ..data.schema import CUTTING_CODES

    flags = np.concatenate([e.samples["quality_flags"].to_numpy()[np.isin(e.samples["phase"].to_numpy(), CUTTING_CODES)]
                            for e in experiments])
    return float(((flags & mask) != 0).mean()) if len(flags) else 0.0


def cmd_teach_files(args) -> int:
    from ..data.schema import DOCUMENTED_UNRELIABLE, FLAG_BITS
    from ..monitoring.teach_in import TeachError, teach
    from ..store.taught_references import TaughtReferenceStore

    machine = known_machine(args.machine)
    experiments, setup, windows = taught_files(args.files)
    runs = [e.path.name for e in experiments]
    # Teaching refuses runs made mostly of samples whose values are broken. The dataset's
    # documented-unreliable conditions (M1 feed rate 50, X1 at 198) are not counted: they mark
    # auxiliary readings and cover 59-80 % of the cutting samples of experiments 2, 4, 5 and 10.
    defective = flagged_share(experiments, FLAG_BITS["out_of_range"] | FLAG_BITS["non_finite"])
    try:
        reference = teach(windows, machine, setup, runs=runs, rejected_share=defective)
    except TeachError as error:
        raise BadInput(f"cannot teach {machine} · {setup} on {', '.join(runs)}: {error}") from None
    with TaughtReferenceStore(store_url(args)) as store:
        reference.version = store.save(machine, setup.text, reference.to_json(), user_of(args), args.comment)
        url = redact(store.url)
    unreliable = flagged_share(experiments, DOCUMENTED_UNRELIABLE)
    result = {"machine": machine, "setup": setup.text, "version": reference.version, "phases": reference.phases,
              "windows": reference.windows, "cutting_s": reference.cutting_s, "runs": runs,
              "defective_share": round(defective, 4), "documented_unreliable_share": round(unreliable, 4),
              "store": url}

    def text() -> None:
        print(f"taught {machine} · {setup.text} · v{reference.version} on {', '.join(runs)}")
        print(f"  {len(reference.phases)} phase(s), {reference.cutting_s:g} s of cutting: "
              + ", ".join(f"{phase} {reference.windows[phase]} windows" for phase in reference.phases))
        if unreliable:
            print(f"  {unreliable:.0%} of the cutting samples have the dataset's documented-unreliable flags "
                  "(M1 feed rate 50, X1 at 198); taught on anyway")
        print(f"  store: {url}")

    emit(args, {"taught": result}, text)
    return EXIT_OK


def cmd_teach_list(args) -> int:
    from ..monitoring.teach_in import Limits, TaughtReference
    from ..store.taught_references import TaughtReferenceStore

    entries = []
    with TaughtReferenceStore(store_url(args)) as store:
        newest = {}
        for stored in store.history(args.machine):
            newest[(stored.machine, stored.setup)] = stored  # history is by version: the last one stays
        for (machine, setup), stored in newest.items():
            entry = {**stored.to_json(), "versions": stored.version, "limits": store.limits(machine, setup),
                     "state": "forgotten" if stored.forgotten_at else "active"}
            if stored.forgotten_at is None:
                try:
                    reference = TaughtReference.from_json(stored.data if stored.data is not None else {},
                                                          stored.version)
                    entry.update(phases=reference.phases, cutting_s=reference.cutting_s)
                except ValueError as error:
                    entry.update(state="unreadable", problem=stored.problem or str(error))
            entries.append(entry)

    def text() -> None:
        if not entries:
            print("nothing taught" + (f" on {args.machine}" if args.machine else ""))
        for entry in entries:
            limits = Limits.from_json(entry["limits"])
            state = {"active": f"v{entry['version']}", "forgotten": f"NOT TAUGHT (v{entry['version']} forgotten)",
                     "unreadable": f"NOT TAUGHT (v{entry['version']}: {entry.get('problem')})"}[entry["state"]]
            line = f"{entry['machine']:12} {entry['setup']:28} {state}"
            if entry["state"] == "active":
                line += (f"  {len(entry['phases'])} phase(s), {entry['cutting_s']:g} s"
                         f"  taught {entry['taught_at']} by {entry['user']}")
            print(line)
            print(f"{'':12} {'':28} limits: warning {limits.warn_pct:g} %, alarm {limits.alarm_pct:g} % "
                  f"after {limits.delay_windows} window(s){'' if entry['limits'] else ' (defaults)'}")

    emit(args, {"references": entries}, text)
    return EXIT_OK


def cmd_teach_forget(args) -> int:
    from ..store.taught_references import TaughtReferenceStore

    if not args.machine:
        raise BadInput("--forget needs --machine and --setup")
    setup = setup_text(args.setup)
    with TaughtReferenceStore(store_url(args)) as store:
        version = store.forget(args.machine, setup, user_of(args), args.comment)
        if version is None:
            taught = [s for s in store.setups(args.machine) if store.active(args.machine, s) is not None]
            raise BadInput(f"nothing taught for {args.machine} · {setup}; taught there: "
                           f"{', '.join(taught) if taught else 'none'}")
    emit(args, {"forgotten": {"machine": args.machine, "setup": setup, "version": version}},
         f"forgot {args.machine} · {setup} v{version}: NOT TAUGHT until it is taught again")
    return EXIT_OK


def cmd_teach_limits(args) -> int:
    from ..monitoring.teach_in import Limits
    from ..store.taught_references import TaughtReferenceStore

    machine = known_machine(args.machine)
    setup = setup_text(args.setup)
    given = {"warn_pct": args.warn, "alarm_pct": args.alarm, "delay_windows": args.delay}
    given = {key: value for key, value in given.items() if value is not None}
    with TaughtReferenceStore(store_url(args)) as store:
        stored = store.limits(machine, setup)
        try:
            old = Limits.from_json(stored)
            new = Limits.from_json({**old.to_json(), **given})
        except (TypeError, ValueError) as error:
            raise BadInput(str(error)) from None
        if given:
            store.set_limits(machine, setup, new.to_json(), user_of(args), args.comment)
    result = {"machine": machine, "setup": setup, "old": stored, "limits": new.to_json(), "changed": bool(given)}
    text = (f"{'limits of' if not given else 'new limits for'} {machine} · {setup}: warning {new.warn_pct:g} %, "
            f"alarm {new.alarm_pct:g} % after {new.delay_windows} window(s) ({new.delay_s:g} s)"
            + ("" if given or stored else " (defaults)"))
    emit(args, {"limits": result}, text)
    return EXIT_OK


def cmd_teach(args) -> int:
    if args.files and (args.list or args.forget or args.limits):
        raise BadInput("files are taught on; --list, --forget and --limits take none")
    if not args.limits and any(v is not None for v in (args.warn, args.alarm, args.delay)):
        raise BadInput("--warn, --alarm and --delay go with --limits")
    if args.setup and not (args.forget or args.limits):
        raise BadInput("--setup goes with --forget or --limits; teaching takes the setup from the files' metadata")
    if args.list:
        return cmd_teach_list(args)
    if args.files:
        return cmd_teach_files(args)
    if args.forget:
        return cmd_teach_forget(args)
    if args.limits:
        return cmd_teach_limits(args)
    raise BadInput("give the experiment file(s) to teach on, or --list, --forget or --limits")


# -- tool changes -----------------------------------------------------------------------------

def cmd_tool_change(args) -> int:
    from ..store.tool_changes import ToolChangeLog, label_for

    machine = known_machine(args.machine)
    setup = setup_text(args.setup) if args.setup else ""
    try:
        label_for(args.reason)
    except ValueError as error:
        raise BadInput(f"--reason: {error}") from None
    with ToolChangeLog(store_url(args)) as log:
        change = log.record(machine, args.reason, user_of(args), args.comment, setup=setup)
    label = change.label or "no label (the tool's state was not seen)"
    emit(args, {"tool_change": change.to_json()},
         f"tool change #{change.id} on {machine} recorded ({change.reason}; the run it ended: {label})")
    return EXIT_OK


def register(commands) -> None:
    teacher = commands.add_parser(
        "teach", help="teach a machine's reference for a setup from good runs; list, forget (Relearn), set limits")
    teacher.add_argument("files", nargs="*", metavar="FILE",
                         help="experiment files of one setup, with train.csv beside them (the first good runs)")
    mode = teacher.add_mutually_exclusive_group()
    mode.add_argument("--list", action="store_true", help="the taught setups, their versions and limits")
    mode.add_argument("--forget", action="store_true", help="Relearn: the setup is NOT TAUGHT until taught again")
    mode.add_argument("--limits", action="store_true", help="show or set the setup's warning and alarm limits")
    teacher.add_argument("--machine", metavar="ID", help="one of the configured machines")
    teacher.add_argument("--setup", metavar="TEXT", help='with --forget or --limits, e.g. "feed 6 · clamp 4"')
    teacher.add_argument("--warn", type=float, metavar="PCT", help="warning at this %% over taught (default 15)")
    teacher.add_argument("--alarm", type=float, metavar="PCT", help="alarm limit at this %% over taught (default 30)")
    teacher.add_argument("--delay", type=int, metavar="WINDOWS",
                         help="windows of 2 s over the alarm limit before the alarm (default 3)")
    teacher.add_argument("--comment", default="", help="kept with the version and in the audit trail")
    teacher.add_argument("--user", help="who (default: the logged-in user)")
    teacher.add_argument("--store", metavar="URL", help="the database (default: the settings' feature store)")
    teacher.add_argument("--json", action="store_true")
    teacher.set_defaults(func=cmd_teach)

    changer = commands.add_parser("tool-change", help="record a tool change on a machine (audited)")
    changer.add_argument("--machine", required=True, metavar="ID", help="one of the configured machines")
    changer.add_argument("--reason", required=True, metavar="REASON",
                         help="worn or broken (the run it ended is labelled worn), scheduled or precaution (no label)")
    changer.add_argument("--setup", metavar="TEXT", help='the setup being cut, e.g. "feed 6 · clamp 4"')
    changer.add_argument("--comment", default="")
    changer.add_argument("--user", help="who (default: the logged-in user)")
    changer.add_argument("--store", metavar="URL", help="the database (default: the settings' feature store)")
    changer.add_argument("--json", action="store_true")
    changer.set_defaults(func=cmd_tool_change)
