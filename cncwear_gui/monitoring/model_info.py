"""The active model's identity in the metrics, shared by ``cncwear serve`` and the desktop app.

(The headless node's loop itself is the live engine, ``live.engine.LiveNode``.)
"""

from __future__ import annotations

import logging
from datetime import datetime

from .metrics import AppMetrics

log = logging.getLogger(__name__)


def describe_model(metrics: AppMetrics, model, evaluation: dict) -> None:
    """Publish the active model's identity, age and recorded figures."""
    trained = None
    if model.trained_at:
        try:
            trained = datetime.fromisoformat(model.trained_at).timestamp()
        except ValueError:
            log.warning("model %s has an unreadable trained_at %r", model.label, model.trained_at)
    metrics.set_model(model.name, model.version, model.engine, model.feature_set.key, model.trained_at,
                      trained, evaluation)
