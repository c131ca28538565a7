"""The Qt binding itself: PySide6 6.12.0 dropped a reference to None on every void call, which
aborts the app ("deallocating None") after a few minutes of redraws. Guard the pinned version."""

import sys

from PySide6.QtCore import QTimer


def test_void_qt_calls_keep_none_and_true_alive(qapp):
    timer = QTimer()
    none_before, true_before = sys.getrefcount(None), sys.getrefcount(True)
    for _ in range(10_000):
        timer.setInterval(5)
        timer.isActive()
    assert abs(sys.getrefcount(None) - none_before) < 100
    assert abs(sys.getrefcount(True) - true_before) < 100
