"""Muted, ISA-101-style looks: neutral greys, colour reserved for abnormal states.

Every colour of the window is named here: the style sheets, the status backgrounds of text and
table cells (always beside words and a symbol, never colour alone), the operator tiles, and the
plot colours. Views import the names; none writes a colour of its own.
"""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtWidgets import QApplication

# -- status backgrounds: text labels and table cells -----------------------------------------
FAILED_BACKGROUND = "#efc0c0"  # a task that failed, a rejected file, a wrong call
WARNING_BACKGROUND = "#f3d9a0"  # a warning level: drift at warn, a restarted watcher, metrics off
ALARM_BACKGROUND = "#e7a5a0"  # drift at alarm level
CAUTION_BACKGROUND = "#f3e6b3"  # a caveat to read: the leakage warning, a file with warnings
CAUTION_INK = "#202020"  # its text: readable in the dark theme too
WORN_BACKGROUND = "#f3d9c4"  # beside the word WORN in the explanation's summary
ANCHOR_WARNING_BACKGROUND = "#f3e2b8"  # an anchor rule whose precision threshold was not met

FAILED_STYLE = f"background: {FAILED_BACKGROUND};"
WARN_STYLE = f"background: {WARNING_BACKGROUND};"
CAUTION_STYLE = f"background: {CAUTION_BACKGROUND}; color: {CAUTION_INK};"

# The operator tiles: (background, text) per tool state
TILE_COLOURS = {
    "ok": ("#d9d9d9", "#1f1f1f"),
    "worn": ("#e8a33d", "#000000"),
    "unknown": ("#d9d9d9", "#555555"),
}
#: The taught monitor's line on a tile: (symbol, text, colour). ISA-101: colour only when abnormal;
#: an untaught setup is its own state (blue, a hollow diamond), never the OK look.
TAUGHT_LOOK = {
    "ok": ("●", "{load} of taught", "#1f1f1f"),
    "warning": ("◆", "{load} of taught — WARNING", "#8a5a00"),
    "alarm": ("▲", "{load} of taught — OVER THE LIMIT", "#b00000"),
    "not_taught": ("◇", "SETUP NOT TAUGHT", "#1f4e99"),
    "no_setup": ("◇", "SETUP UNKNOWN — not taught", "#1f4e99"),
    "teaching": ("◌", "TEACHING — learning this setup", "#1f4e99"),
    "not_cutting": ("○", "NOT IN A CUTTING WINDOW — not judged", "#555555"),  # an explained sample
}
TAUGHT_BAND = (31, 78, 153, 45)  # the taught band in a tile's trend (RGBA)

# -- plot colours (RGB, RGBA) ----------------------------------------------------------------
GREY = (70, 70, 70)  # lines and text of the monitoring plots
LIGHT_GREY = (185, 185, 185)  # reference bars, the ROC diagonal
DARK_BARS = (60, 60, 60)  # the live window's bars against the reference
TREND_INK = (40, 40, 40)  # the operator tile's P(worn) trend
MARKER_INK = (0, 0, 0)  # the selected sample's marker line
PROBABILITY_LINE = (40, 90, 160)  # P(worn) over a run
SECOND_LINE = (90, 140, 190)  # a second series beside a grey one (recall)
THRESHOLD_LINE = (190, 90, 0)  # the worn threshold, dashed
THRESHOLD_TEXT = (150, 70, 0)  # its label
WARN_LINE = (205, 140, 40)  # the PSI warn level
ALARM_LINE = (170, 40, 35)  # the PSI alarm level, the darkest red of the heatmap
PSI_MAP = [(246, 246, 246), (200, 200, 200), (246, 222, 160), (226, 160, 60), (222, 120, 95), ALARM_LINE]
# Drift trend lines: one muted colour per feature group (each has its own symbol and dash too)
GROUP_COLOURS = {"X1": (40, 80, 140), "Y1": SECOND_LINE, "Z1": (60, 120, 80), "S1": (120, 90, 150),
                 "M1": (110, 110, 110), "process": (20, 20, 20)}
CANDIDATE_DOTS = (140, 140, 140, 170)  # every candidate of an AutoML search
# Explanations: a contribution towards WORN or towards UNWORN
TOWARDS_WORN = (214, 110, 30)
TOWARDS_UNWORN = (40, 100, 170)
REFERENCE_LINE = (110, 110, 110)  # base value, the sample's own value
REFERENCE_TEXT = (80, 80, 80)
ZERO_LINE = (120, 120, 120)
ICE_LINES = (150, 150, 150, 60)  # one faint curve per sample
# Data view: the machining phases behind the signals (grey outside the cut, blue in it)
PHASE_IDLE = (200, 200, 200, 40)
PHASE_CUT = (90, 140, 200, 45)
PHASE_CUT_LIGHT = (90, 140, 200, 25)
PHASE_UNKNOWN = (255, 0, 0, 30)
# Surrogate tree: light cards on either theme
TREE_CLASS_COLOURS = ("#4a7fb5", "#e08a2e")  # unworn blue-ish, worn orange-ish (muted)
TREE_LEAF_FILLS = ("#e6eef7", "#fbeadb")  # faint tints of the same, behind the bold class name
TREE_OTHER_CLASS = "#9a9a9a"
TREE_BOX_FILL = "#fbfbfb"
TREE_BOX_BORDER = "#8c8c8c"
TREE_BOX_INK = "#202020"  # boxes are light cards on either theme, so their text is always dark
TREE_SELECTED_BORDER = "#1a56b8"
TREE_BAR_FRAME = "#e4e4e4"
TREE_HINT_STYLE = "QLabel { background: rgba(250, 250, 250, 215); color: #303030; padding: 2px 6px; }"


def signal_colour(index: int):
    """The pen colour of the ``index``-th plotted signal (eight hues, then round again)."""
    return pg.intColor(index, hues=8)


def feature_value_colour(scaled: float) -> tuple[int, int, int, int]:
    """A beeswarm point's colour for a feature value scaled to 0 (low, blue) … 1 (high, red)."""
    return int(40 + 200 * scaled), 90, int(200 - 160 * scaled), 160


# -- the application's style sheets ----------------------------------------------------------
LIGHT_BACKGROUND = "#e6e6e6"
DARK_BACKGROUND = "#2b2b2b"
DARK_TEXT = "#e0e0e0"
PLOT_BACKGROUND = {"light": "#f4f4f4", "dark": DARK_BACKGROUND}
PLOT_FOREGROUND = {"light": "#202020", "dark": DARK_TEXT}

_COMMON = """
QLabel#viewTitle { font-size: 15pt; }
QLabel#machineName { font-size: 20pt; font-weight: bold; }
QLabel#stateSymbol { font-size: 40pt; min-width: 64px; }
QLabel#stateText { font-size: 30pt; font-weight: bold; }
QLabel#probability { font-size: 22pt; }
QPushButton { min-height: 40px; padding: 0 14px; }
QTabBar::tab { min-height: 40px; min-width: 130px; font-size: 12pt; }
"""
_LIGHT = f"""
QMainWindow, QWidget#operatorView {{ background: {LIGHT_BACKGROUND}; }}
QFrame#machineTile {{ border: 2px solid #9a9a9a; border-radius: 6px; }}
"""
_DARK = f"""
QWidget {{ background: {DARK_BACKGROUND}; color: {DARK_TEXT}; }}
QTableView {{ background: #333333; alternate-background-color: #3a3a3a; }}
QFrame#machineTile {{ border: 2px solid #777777; border-radius: 6px; }}
"""


def apply_theme(app: QApplication, theme: str) -> None:
    look = "dark" if theme == "dark" else "light"
    app.setStyleSheet(_COMMON + (_DARK if look == "dark" else _LIGHT))
    pg.setConfigOptions(
        background=PLOT_BACKGROUND[look],
        foreground=PLOT_FOREGROUND[look],
        antialias=False,
        useOpenGL=False,
    )
