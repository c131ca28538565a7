"""Everything the Monitoring view shows that lives in MLflow or the history database, in one JSON.

The GUI gets it from a ``cncwear monitor --json`` child process, so importing mlflow never
stalls the GUI thread.
"""

from __future__ import annotations

from ..settings import Settings
from ..tasks import Task, ensure_task


def monitoring_snapshot(settings: Settings, dataset_loader, task: Task | None = None, history_limit: int = 50) -> dict:
    from ..models.champion import load_active_model, resolve_champion
    from ..monitoring.evaluation_data import run_statistics
    from ..monitoring.reference import model_evaluation, reference_for, setup_reference_for
    from ..store.pipeline_history import PipelineHistory
    from . import triggers

    task = ensure_task(task)
    champion = resolve_champion(dataset_loader, task.child(0.0, 0.4, "model: "), settings.feature_store_url or None)
    model = load_active_model(champion)
    reference = reference_for(model, dataset_loader, task.child(0.4, 0.6, "reference: "))
    setup_reference = setup_reference_for(model, dataset_loader, task.child(0.6, 0.8, "per-setup reference: "))
    task.progress(0.8, "model statistics")
    statistics, statistics_source = run_statistics(champion.run_id, settings.worn_threshold)
    evaluation = {}
    for (protocol, metric), value in model_evaluation(champion.run_id).items():
        evaluation.setdefault(protocol, {})[metric] = value
    task.progress(0.9, "pipeline history")
    history = PipelineHistory(settings.feature_store_url or None)
    try:
        checks = [triggers.schedule(history, settings.pipeline_schedule_hours),
                  triggers.new_data(history, settings.pipeline_watch_dir),
                  triggers.degradation(history, champion.version, settings.degradation_accuracy,
                                       settings.degradation_min_labels)]
        firings = [f.to_json() for f in history.firings(limit=history_limit)]
    finally:
        history.close()
    task.progress(1.0, "monitoring snapshot ready")
    return {
        "model": {**champion.to_json(), "label": model.label, "evaluation": evaluation},
        "statistics": statistics and statistics.to_json(),
        "statistics_source": statistics_source,
        "reference": reference.to_json(),  # the pooled training profile: its P(worn) distribution, its size
        "setup_reference": setup_reference.to_json(),  # what the live drift checks compare with
        "triggers": [{"trigger": c.trigger, "fires": c.fires, "reason": c.reason} for c in checks],
        "history": firings,
        "pipeline": {"engine": settings.pipeline_engine, "budget_s": settings.pipeline_budget_s,
                     "schedule_hours": settings.pipeline_schedule_hours, "watch_dir": settings.pipeline_watch_dir},
    }
