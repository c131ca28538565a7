"""The size check under a display scaling (QT_SCALE_FACTOR is read once, when Qt starts: so in a
process of its own). tests/ui/test_screen_sizes.py runs it:

    QT_SCALE_FACTOR=2 python tests/ui/fit_at_scale.py 683x384 960x540

The real window (the CNCWEAR_HOME's champion, the bundled data, the demo machines) at each logical
size, every view shown in turn; prints one JSON object: the scale Qt applied, the screen's DPI,
what does not fit (fit_check.fit_problems) and the operator tiles' state text in mm."""

from __future__ import annotations

import json
import sys
import time


def _wait(app, condition, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            return False
        app.processEvents()
        time.sleep(0.02)
    return True


def main(sizes: list[tuple[int, int]]) -> int:
    from PySide6.QtWidgets import QApplication

    app = QApplication(sys.argv[:1])
    from cncwear_gui.ui.fit_check import fit_problems
    from cncwear_gui.ui.main_window import MainWindow
    from cncwear_gui.ui.theme import apply_theme

    apply_theme(app, "light")
    window = MainWindow()
    window.show()
    ready = _wait(app, lambda: window.state.scores is not None and window.operator_view.loaded, 300)
    screen = window.screen()
    report = {"ready": ready, "device_pixel_ratio": window.devicePixelRatioF(),
              "physical_dpi": screen.physicalDotsPerInch(), "problems": [], "state_mm": []}
    for width, height in sizes:
        window.resize(width, height)
        for index in range(window.tabs.count()):
            window.tabs.setCurrentIndex(index)
            _wait(app, lambda until=time.monotonic() + 0.05: time.monotonic() > until, 1)
            found = fit_problems(window, width, height)
            if found:  # a text changed in this very pass: the next layout round gives it its height
                _wait(app, lambda until=time.monotonic() + 0.3: time.monotonic() > until, 1)
                found = fit_problems(window, width, height)
            report["problems"] += [f"{width} × {height}, {window.tabs.tabText(index)}: {p}" for p in found]
        report["state_mm"] += [tile.state_font_px() / screen.physicalDotsPerInch() * 25.4
                               for tile in window.operator_view.tiles.values()]
    window.close()
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main([tuple(int(v) for v in size.split("x")) for size in sys.argv[1:]]))
