"""The taught monitor's judgement of the explained sample, beside LIME and SHAP.

The model says why it called a sample worn; the taught monitor says how far the run's load was
over what this machine and setup were taught (``monitoring.taught_lookup``). It needs no model:
the sample's experiment, its setup from the metadata, and the taught references at ``store_url``.
"""

from __future__ import annotations

from ..data.dataset import Dataset
from ..data.setup import setup_of_meta
from ..monitoring.taught_lookup import TaughtExplanation, judge_recorded
from ..monitoring.teach_in import Limits
from ..store.taught_references import TaughtReferenceStore
from .service import check_sample


def taught_explanation(dataset: Dataset, experiment: int, row: int, store_url: str | None = None,
                       machine: str | None = None, limits: Limits | None = None) -> TaughtExplanation:
    """The judgement of row ``row`` of ``experiment`` against ``machine``'s reference for its setup
    (None: a machine that taught it); ``limits``: the defaults where the setup has none stored.
    Read fresh every time: a teach-in may have happened since. SampleNotFound for a bad sample."""
    check_sample(dataset, experiment, row)
    found = dataset.experiments[experiment]
    with TaughtReferenceStore(store_url) as store:
        return judge_recorded(found.samples, row, setup_of_meta(found.meta), found.path.name, store, machine, limits)
