"""Muted, ISA-101-style looks: neutral greys, colour reserved for abnormal states."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtWidgets import QApplication

_COMMON = """
QLabel#viewTitle { font-size: 15pt; }
QLabel#machineName { font-size: 20pt; font-weight: bold; }
QLabel#stateSymbol { font-size: 40pt; min-width: 64px; }
QLabel#stateText { font-size: 30pt; font-weight: bold; }
QLabel#probability { font-size: 22pt; }
QPushButton { min-height: 40px; padding: 0 14px; }
QTabBar::tab { min-height: 40px; min-width: 130px; font-size: 12pt; }
"""
_LIGHT = """
QMainWindow, QWidget#operatorView { background: #e6e6e6; }
QFrame#machineTile { border: 2px solid #9a9a9a; border-radius: 6px; }
"""
_DARK = """
QWidget { background: #2b2b2b; color: #e0e0e0; }
QTableView { background: #333333; alternate-background-color: #3a3a3a; }
QFrame#machineTile { border: 2px solid #777777; border-radius: 6px; }
"""


def apply_theme(app: QApplication, theme: str) -> None:
    dark = theme == "dark"
    app.setStyleSheet(_COMMON + (_DARK if dark else _LIGHT))
    pg.setConfigOptions(
        background="#2b2b2b" if dark else "#f4f4f4",
        foreground="#e0e0e0" if dark else "#202020",
        antialias=False,
        useOpenGL=False,
    )
