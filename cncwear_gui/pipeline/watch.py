"""Checking a trigger and running the pipeline when it fires; one round of the watch loop.

``cncwear pipeline run`` checks one trigger (:func:`check_trigger`) and fires it (:func:`fire`);
``cncwear pipeline watch`` calls :func:`watch_round` every interval with freshly loaded
settings. Both record in the pipeline history what they ran; a round runs at most one pipeline
(the next round sees the other triggers again). Input the caller must fix (no champion to judge
by hand, drift without data, a rejected file) raises :class:`TriggerInputError`.
"""

from __future__ import annotations

import getpass
from dataclasses import dataclass
from typing import Callable

from ..paths import bundled_dataset_dir
from ..settings import Settings
from ..store.pipeline_history import PipelineHistory
from ..tasks import Task
from . import triggers
from .run import PipelineConfig, PipelineResult, run_pipeline
from .triggers import TriggerCheck

WATCHED_TRIGGERS = ("schedule", "new-data", "degradation")  # drift needs data given by hand
STALE_AFTER_S = 24 * 3600  # a "running" firing this old belongs to a process that died


class TriggerInputError(ValueError):
    """A trigger that cannot be checked with what was given; the message says what to give."""


@dataclass
class Firing:
    """A pipeline a watch round ran: why, and how it ended."""

    trigger: str
    firing_id: int
    status: str
    reason: str
    error: str | None

    def to_json(self) -> dict:
        return {"fired": True, "trigger": self.trigger, "firing_id": self.firing_id, "status": self.status,
                "reason": self.reason, "error": self.error}


def pipeline_config(settings: Settings, data: list[str] | None = None, engine: str | None = None,
                    budget_s: int | None = None, margin: float = 0.0, store_url: str | None = None) -> PipelineConfig:
    """The pipeline's configuration: what was given, else the settings (data: their folder or the bundled dataset)."""
    data = list(data or ([settings.data_dir] if settings.data_dir else [str(bundled_dataset_dir())]))
    return PipelineConfig(data=data, engine=engine or settings.pipeline_engine,
                          budget_s=budget_s or settings.pipeline_budget_s, gate_margin=margin,
                          dask_address=settings.dask_scheduler or None,
                          audit_url=store_url or settings.feature_store_url or None,
                          store_url=store_url or settings.feature_store_url or None)


def usable_dataset(paths: list[str] | None):
    """The experiments at ``paths`` (None: the bundled dataset); a rejected file raises TriggerInputError."""
    from ..data.dataset import load_dataset

    dataset = load_dataset(paths or [bundled_dataset_dir()])
    if not dataset.ok:
        rejected = next(r for r in dataset.reports if not r.usable)
        raise TriggerInputError(rejected.errors[0].located(rejected.path))
    return dataset


def _files_dataset(paths: list[str], manual_meta=None):
    from ..data.dataset import load_dataset

    dataset = load_dataset(paths, manual_meta=manual_meta)
    rejected = [r for r in dataset.reports if not r.usable]
    if rejected:
        raise TriggerInputError(rejected[0].errors[0].located(rejected[0].path))
    if not dataset.experiments:
        raise TriggerInputError(f"no experiment files in {', '.join(paths)}")
    return dataset


def drift_of_files(paths: list[str], model, reference):
    """Drift of experiment files, pooled, against a model's training reference (monitoring.drift.DriftReport)."""
    from ..monitoring.reference import drift_of_samples

    return drift_of_samples(model, reference, _files_dataset(paths).samples())


def setup_drift_of_files(paths: list[str], model, setup_reference, manual_meta=None) -> list[tuple[str, object]]:
    """Drift of each experiment file against the training runs of its own setup (the setup from
    its train.csv row): ``(file, DriftReport)`` per file; a file of a setup the reference has no
    run of (or without metadata) has ``unfamiliar`` set, not ``drifted``. ``manual_meta``: the
    metadata typed in for a single file (``data.metadata.ExperimentMeta``)."""
    from ..monitoring.reference import setup_drift_of_samples

    dataset = _files_dataset(paths, manual_meta)
    reports = setup_drift_of_samples(model, setup_reference, dataset.samples())
    return [(str(dataset.experiments[number].path), reports[number]) for number in sorted(dataset.experiments)]


def champion_with_setup_reference(training_data: list[str] | None, audit_url: str | None):
    """The champion (trained on ``training_data`` on first start) and its per-setup drift reference."""
    from ..models.champion import load_active_model, resolve_champion
    from ..monitoring.reference import setup_reference_for
    from ..store.tracking import ModelTrustError

    def load():
        return usable_dataset(training_data)

    try:
        model = load_active_model(resolve_champion(load, audit_url=audit_url))
    except (LookupError, ModelTrustError) as error:
        raise TriggerInputError(f"--model champion: {error}") from None
    return model, setup_reference_for(model, load)


def check_trigger(trigger: str, settings: Settings, history: PipelineHistory, *, watch_dir: str | None = None,
                  new_data: list[str] | None = None, training_data: list[str] | None = None,
                  watching: bool = False, where: str = "the command line") -> TriggerCheck:
    """Whether ``trigger`` fires now, and why.

    Watching, a missing champion only means there is nothing to judge yet; asked for by hand, it is
    an error. ``new_data``: the drift trigger's files; ``training_data``: a first-start champion's.
    """
    if trigger == "manual":
        return triggers.manual(getpass.getuser(), where)
    if trigger == "schedule":
        return triggers.schedule(history, settings.pipeline_schedule_hours)
    if trigger == "new-data":
        return triggers.new_data(history, watch_dir or settings.pipeline_watch_dir)
    if trigger == "degradation":
        from ..models.champion import find_champion

        champion = find_champion()
        if champion is None and not watching:
            raise TriggerInputError("--trigger degradation: there is no champion whose feedback could be judged")
        return triggers.degradation(history, champion and champion.version, settings.degradation_accuracy,
                                    settings.degradation_min_labels)
    if trigger != "drift":
        raise ValueError(f"unknown trigger '{trigger}'")
    if not new_data:
        raise TriggerInputError("--trigger drift needs --new-data FILE... (the data to compare with the champion's training data)")
    model, reference = champion_with_setup_reference(training_data, settings.feature_store_url or None)
    return triggers.drift(setup_drift_of_files(new_data, model, reference), ", ".join(new_data))


def fire(check: TriggerCheck, config: PipelineConfig, history: PipelineHistory, task: Task | None = None,
         reason: str | None = None, on_firing: Callable[[int, str, str], None] | None = None) -> PipelineResult:
    """Run the pipeline for a check (that fired, or is forced); new data joins the training data and is marked seen."""
    if check.trigger == "new-data" and check.context.get("files"):  # forced without new files: the data as it is
        config.data.append(check.context["folder"])
        history.mark_seen(check.context["files"])
    return run_pipeline(check.trigger, reason or check.reason, config, history, task, context=check.context,
                        on_firing=on_firing)


def watch_round(settings: Settings, history: PipelineHistory, *, watch_dir: str | None = None,
                data: list[str] | None = None, engine: str | None = None, budget_s: int | None = None,
                margin: float = 0.0, store_url: str | None = None, task: Task | None = None,
                on_firing: Callable[[int, str, str], None] | None = None) -> list[Firing]:
    """Check the schedule, the watched folder and the labelled feedback; run the pipeline for the
    first that fires. Returns the firings run (none or one)."""
    history.abandon_stale(older_than_s=STALE_AFTER_S)
    for trigger in WATCHED_TRIGGERS:
        check = check_trigger(trigger, settings, history, watch_dir=watch_dir, watching=True)
        if not check.fires:
            continue
        config = pipeline_config(settings, data, engine, budget_s, margin, store_url)
        result = fire(check, config, history, task, on_firing=on_firing)
        return [Firing(trigger, result.firing_id, result.status, result.reason, result.error)]
    return []
