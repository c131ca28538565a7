"""``cncwear gui``: the desktop app."""

from __future__ import annotations

from .base import BadInput


def cmd_gui(args) -> int:
    from ..ui.app import run_gui

    size = None
    if args.size:
        try:
            width, height = (int(v) for v in args.size.lower().split("x"))
        except ValueError:
            raise BadInput(f"--size: expected WIDTHxHEIGHT such as 1600x1000, got '{args.size}'") from None
        size = (width, height)
    from ..live.sources import MachineSpec, SourceSpecError

    try:
        for text in args.machine:
            MachineSpec.parse(text)
    except SourceSpecError as error:
        raise BadInput(str(error)) from None
    return run_gui(screenshot_dir=args.screenshot, size=size, machines=args.machine or None, kiosk=args.kiosk)


def register(commands) -> None:
    gui = commands.add_parser("gui", help="open the desktop app")
    gui.add_argument("--screenshot", metavar="DIR", help="render every view to DIR/<view>.png and exit")
    gui.add_argument("--size", metavar="WxH", help="window size, e.g. 1600x1000")
    gui.add_argument("--machine", action="append", default=[], metavar="ID=SOURCE",
                     help="watch this machine in the Operator view instead of the configured ones (repeatable), "
                          "e.g. mill-1=opc.tcp://127.0.0.1:4840")
    gui.add_argument("--kiosk", action="store_true",
                     help="operator kiosk mode: full screen on the Operator view and its alarms, the operator's actions "
                          "only; leaving needs the maintenance PIN (the setting kiosk does the same); with --screenshot: "
                          "render kiosk.png and kiosk_alarms.png")
    gui.set_defaults(func=cmd_gui)
