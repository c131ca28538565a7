"""``cncwear serve`` follows the registry's champion: a promotion elsewhere reaches the scoring.

The automated pipeline, the desktop app and ``cncwear promote`` all move the ``champion`` alias.
A headless node started on the champion checks the alias every interval in this thread; when it
points at another version, the new model and its per-setup drift reference are loaded here (minutes of
work never stall scoring) and handed to the node, which swaps them in between two passes. A
champion that cannot be loaded is reported once and the node keeps scoring with the model it has.
"""

from __future__ import annotations

import logging
import threading
from typing import Callable

log = logging.getLogger(__name__)


class ChampionFollower(threading.Thread):
    def __init__(self, node, version: str, load: Callable[[object], tuple[object, object]],
                 on_change: Callable[[object], None], on_error: Callable[[str, str], None], interval_s: float):
        """``load(champion_ref)`` returns (model, its ``SetupDriftReference``); ``on_change(model)`` runs after the
        swap was requested; ``on_error(version, message)`` once per version that failed to load."""
        super().__init__(name="champion-follower", daemon=True)
        self.node, self.version, self.load = node, version, load
        self.on_change, self.on_error = on_change, on_error
        self.interval_s = interval_s
        self.stop_event = threading.Event()
        self._failed_version = None

    def run(self) -> None:
        while not self.stop_event.wait(self.interval_s):
            self.check()

    def check(self) -> None:
        from ..models.champion import find_champion

        try:
            champion = find_champion()
        except Exception as error:  # the registry is unreachable: try again next interval
            log.warning("champion check failed: %s", error)
            return
        if champion is None or champion.version in (self.version, self._failed_version):
            return
        try:
            model, reference = self.load(champion)
        except Exception as error:
            self._failed_version = champion.version
            log.warning("champion v%s could not be loaded: %s", champion.version, error)
            self.on_error(champion.version, str(error))
            return
        if self.stop_event.is_set():
            return
        previous, self.version = self.node.model, champion.version
        self.node.set_model(model, reference)
        self.on_change(model)
        close = getattr(previous.estimator, "close", None)
        if close is None:
            return
        while self.node.model is not model:  # the node swaps between two passes; until then it may use the old one
            if self.stop_event.wait(0.1):
                return
        close()  # an auto-sklearn sidecar

    def stop(self) -> None:
        self.stop_event.set()
