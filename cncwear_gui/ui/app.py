"""Starting the Qt application (the screenshot mode that renders every view to PNG: screenshots.py)."""

from __future__ import annotations

import logging
import os
import sys
from logging.handlers import RotatingFileHandler
from pathlib import Path

from ..paths import log_dir
from .screenshots import SCREENSHOT_REPLAY_SPEED, render_kiosk_screenshots, render_screenshots

log = logging.getLogger(__name__)


def setup_logging() -> Path:
    path = log_dir() / "cncwear.log"
    handler = RotatingFileHandler(path, maxBytes=2_000_000, backupCount=5, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(threadName)s %(name)s: %(message)s"))
    root = logging.getLogger()
    for existing in root.handlers:  # the console keeps its level; the file gets INFO and up
        existing.setLevel(max(existing.level, root.level))
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    logging.getLogger("asyncua").setLevel(logging.ERROR)  # outages show as source health, not tracebacks
    return path


def run_gui(screenshot_dir: str | None = None, size: tuple[int, int] | None = None,
            machines: list[str] | None = None, kiosk: bool = False) -> int:
    if screenshot_dir is not None:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # no screen needed to render PNGs
    elif sys.platform.startswith("linux") and not (
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY") or os.environ.get("QT_QPA_PLATFORM")
    ):
        print(
            "cncwear gui: no display found (DISPLAY/WAYLAND_DISPLAY unset). Run it on a desktop, "
            "under xvfb-run, or use --screenshot DIR.",
            file=sys.stderr,
        )
        return 1
    from PySide6.QtWidgets import QApplication
    from superqt.utils import QMessageHandler

    from ..settings import load_settings_report
    from .main_window import MainWindow
    from .theme import apply_theme

    log_file = setup_logging()
    settings, notices = load_settings_report()
    if screenshot_dir is not None and not machines and not settings.machines:
        settings.demo_replay_speed = SCREENSHOT_REPLAY_SPEED  # minutes of machining in seconds; not saved
    if settings.mlflow_tracking_uri:
        os.environ["CNCWEAR_MLFLOW_URI"] = settings.mlflow_tracking_uri
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("cncwear")
    app.setDesktopFileName("cncwear")  # matches packaging/linux/cncwear.desktop
    app.setWindowIcon(_app_icon())
    apply_theme(app, settings.theme)
    with QMessageHandler(logging.getLogger("qt")):
        kiosk = kiosk or settings.kiosk
        window = MainWindow(settings, persist_settings=screenshot_dir is None, machines=machines, kiosk=kiosk)
        if size:
            window.resize(*size)
            window.screenshot_size = size  # the screenshot mode names what does not fit it
        if kiosk and screenshot_dir is None:
            window.guard_kiosk_close = True  # closing kiosk mode needs the PIN, as leaving it does
            window.showFullScreen()
        else:
            window.show()
        window.show_settings_notices(notices, message_box=screenshot_dir is None)
        log.info("window shown; log file %s", log_file)
        if screenshot_dir is None:
            return app.exec()
        if kiosk:
            return render_kiosk_screenshots(app, window, Path(screenshot_dir))
        return render_screenshots(app, window, Path(screenshot_dir))


def _app_icon():
    """The renders of resources/icons/cncwear.svg; an empty icon (no icon, no error) when they are missing."""
    from PySide6.QtGui import QIcon

    from ..paths import resources_dir

    icon = QIcon()
    for path in sorted((resources_dir() / "icons").glob("cncwear-*.png")):
        icon.addFile(str(path))
    return icon
