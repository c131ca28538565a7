"""One sample's explanation report: every panel, the model's name, version and run, as a
self-contained HTML file (charts inlined as PNG), the data as JSON, and optionally an MLflow run.

The HTML sticks to what Qt's rich-text engine renders too (tables, inline images, simple CSS),
so the GUI prints the same document to PDF with Qt's printing.
"""

from __future__ import annotations

import base64
import html
import json
import tempfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from ..atomic_files import write_atomic
from ..monitoring.teach_in import MONITORED_SIGNALS, SIGNAL_NAMES
from ..tasks import Task, ensure_task
from . import figures
from .engine import DEFAULT_SURROGATE_DEPTH
from .service import ExplanationService, SampleRef

if TYPE_CHECKING:
    from ..monitoring.taught_lookup import TaughtExplanation

EXPLANATIONS_EXPERIMENT = "cncwear-explanations"


@dataclass
class ExplanationReport:
    html: str
    data: dict  # every result as JSON, with the model and the sample
    sample: SampleRef

    def write_html(self, path: Path) -> None:
        """All or nothing: written beside the target, then renamed over it."""
        write_atomic(path, self.html, fsync=False)  # an export the user can repeat

    def log_to_mlflow(self) -> str:
        """A run in the explanations experiment with the report and its data; returns the run id."""
        from ..store.tracking import ensure_experiment, mlflow_client

        mlflow = mlflow_client()
        model = self.data["model"]
        name = f"exp{self.sample.experiment:02d}-row{self.sample.row}"
        with tempfile.TemporaryDirectory() as folder:
            (Path(folder) / f"{name}.html").write_text(self.html, encoding="utf-8")
            (Path(folder) / f"{name}.json").write_text(json.dumps(self.data, indent=1), encoding="utf-8")
            with mlflow.start_run(experiment_id=ensure_experiment(EXPLANATIONS_EXPERIMENT), run_name=name) as run:
                mlflow.set_tags({"cncwear.model_name": model["name"], "cncwear.model_version": model["version"],
                                 "cncwear.model_run_id": model["run_id"], "cncwear.experiment": str(self.sample.experiment),
                                 "cncwear.row": str(self.sample.row)})
                mlflow.log_artifacts(folder, artifact_path="explanation")
        return run.info.run_id


def build_report(service: ExplanationService, experiment: int, row: int, feature: str | None = None,
                 depth: int = DEFAULT_SURROGATE_DEPTH, task: Task | None = None,
                 taught: TaughtExplanation | None = None) -> ExplanationReport:
    """Compute (or take from the cache) every method for the sample and lay them out; ``taught``:
    the taught monitor's judgement of the sample (``explain.taught.taught_explanation``)."""
    task = ensure_task(task)
    feature = feature or service.feature_names[0]
    sample = service.sample(experiment, row)
    steps = (("shap", {}), ("lime", {}), ("anchor", {}), ("ice", {"feature": feature}), ("surrogate", {"depth": depth}),
             ("shap_global", {}))
    results = {}
    for index, (method, options) in enumerate(steps):
        share = (index / len(steps), (index + 1) / len(steps))
        local = {"experiment": experiment, "row": row} if method in ("shap", "lime", "anchor") else {}
        results[method] = service.explain(method, **local, **options, task=task.child(*share, f"{method}: "))
    summary = service.summary(experiment, row)  # from the cached shap and anchor results
    model = service.model
    model_json = {"name": model.name, "version": model.version, "engine": model.engine, "run_id": model.run_id,
                  "trained_at": model.trained_at, "feature_set": model.feature_set.key}
    data = {"model": model_json, "sample": sample.to_json(), "summary": summary,
            "taught": taught.to_json() if taught is not None else None,
            "generated_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            **{method: result.to_json() for method, result in results.items()}}
    task.progress(1.0, "report ready")
    return ExplanationReport(_render(data, results, summary, sample, model_json, taught), data, sample)


def _image(png: bytes, width: int = 640) -> str:
    return f'<p><img width="{width}" src="data:image/png;base64,{base64.b64encode(png).decode()}"></p>'


def _table(headers: list[str], rows: list[tuple]) -> str:
    def cell(value) -> str:
        return f"{value:.4g}" if isinstance(value, float) else html.escape(str(value))

    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{cell(v)}</td>" for v in row) + "</tr>" for row in rows)
    return f'<table border="1" cellspacing="0" cellpadding="3"><tr>{head}</tr>{body}</table>'


TAUGHT_STATE_TEXT = {"ok": "OK", "warning": "WARNING", "alarm": "OVER THE LIMIT (alarm)",
                     "not_taught": "SETUP NOT TAUGHT", "not_cutting": "NOT IN A CUTTING WINDOW",
                     "no_setup": "SETUP UNKNOWN"}


def _taught_section(taught: TaughtExplanation | None) -> str:
    """The taught monitor's judgement: the window's state and sentence, the run's, and the bars."""
    esc = html.escape
    head = '<h2 id="taught">Taught monitor</h2>'
    if taught is None:
        return head + "<p>The taught monitor was not consulted for this report.</p>"
    state = TAUGHT_STATE_TEXT.get(taught.state, taught.state.upper())
    limits = taught.limits
    parts = [head, f"<p><b>{esc(state)}</b>: {esc(taught.sentence)}</p>"]
    judgement = taught.judgement
    if judgement is not None:
        where = (f"rows {judgement.rows[0]} to {judgement.rows[1]}" if judgement.rows else "no window")
        parts.append(
            f"<p>Setup {esc(taught.setup)} · phase {esc(judgement.phase)} · window {where} · limits: warning "
            f"{100 + limits.warn_pct:.0f} %, alarm {100 + limits.alarm_pct:.0f} % after {limits.delay_windows} "
            f"window(s) ({limits.delay_s:g} s)</p>")
        run = judgement.run
        parts.append(f"<p>The run: <b>{esc(TAUGHT_STATE_TEXT.get(run.state, run.state.upper()))}</b>: "
                     f"{esc(run.sentence)} {judgement.windows_over} of {judgement.windows_judged} judged window(s) "
                     f"were over the alarm limit, at most {judgement.longest_over} in a row.</p>")
        if judgement.pcts:
            names = [SIGNAL_NAMES.get(s, s) for s in MONITORED_SIGNALS]
            parts.append(_image(figures.taught_bars(names, judgement.pcts, limits.warn_pct, limits.alarm_pct,
                                                    f"The window in {judgement.phase}: % of taught per signal")))
    return "\n".join(parts)


def _render(data: dict, results: dict, summary: str, sample: SampleRef, model: dict,
            taught: TaughtExplanation | None = None) -> str:
    lime, shap_local, anchor = results["lime"], results["shap"], results["anchor"]
    dependence, surrogate, overview = results["ice"], results["surrogate"], results["shap_global"]
    known = {1: "WORN", 0: "UNWORN"}.get(sample.worn, "unknown")
    esc = html.escape
    parts = [
        "<html><head><meta charset='utf-8'><title>cncwear explanation</title>",
        "<style>body{font-family:sans-serif;max-width:900px} h2{margin-top:18px} td,th{font-size:9pt}</style>",
        "</head><body>",
        f"<h1>Why experiment {sample.experiment}, sample {sample.row} was called "
        f"{esc(lime.predicted.upper())}</h1>",
        f"<p>Model <b>{esc(model['name'])} v{esc(model['version'])}</b> ({esc(model['engine'])}), MLflow run "
        f"{esc(model['run_id'] or '—')}, feature set {esc(model['feature_set'])}, trained {esc(model['trained_at'] or '—')}."
        f"<br>Sample: {esc(sample.label)}; known label: {known}. Generated {esc(data['generated_at'])}.</p>",
        f'<h2 id="summary">In plain words</h2><p><b>{esc(summary)}</b></p>',
        '<h2 id="lime">LIME</h2>',
        "<p>" + " · ".join(f"P({esc(n)}) = {p:.3f}" for n, p in lime.probabilities.items())
        + f" · local fit R² = {lime.local_fit_score:.3f}</p>",
        _image(figures.signed_bars([c for c, _ in lime.conditions], [w for _, w in lime.conditions],
                                   "LIME: the conditions that weigh most", "weight towards WORN")),
        _table(["feature", "value"], list(lime.feature_values)),
        '<h2 id="shap">SHAP</h2>',
        f"<p>{esc(shap_local.explainer_kind)} explainer: base value {shap_local.base_value:.4f} + contributions = "
        f"{shap_local.model_output:.4f} (additivity error {shap_local.additivity_error:.1e}).</p>",
        _image(figures.waterfall(shap_local)),
        '<h2 id="anchor">Anchor rule</h2>',
        f"<p>IF {' AND '.join(esc(c) for c in anchor.rule) or '(empty rule)'} THEN <b>{esc(anchor.predicted.upper())}</b>"
        f"<br>precision {anchor.precision:.1%} (threshold {anchor.threshold:.0%}), coverage {anchor.coverage:.1%} "
        "(alibi's figures, on perturbed samples)."
        + ("" if anchor.data_precision is None else
           f"<br>On recorded data: {anchor.data_support:,} samples match the rule; the model calls "
           f"{anchor.data_precision:.0%} of them {esc(anchor.predicted.upper())}.") + "</p>",
        "" if anchor.threshold_met else "<p><b>Warning: the precision threshold was not met; do not read this rule "
                                         "as a reason.</b></p>",
        _taught_section(taught),
        '<h2 id="ice-pdp">ICE and PDP</h2>',
        _image(figures.dependence(dependence.grid, dependence.ice, dependence.pdp, dependence.feature, dependence.centred)),
        '<h2 id="surrogate">Global surrogate tree</h2>',
        f"<p>A depth-{surrogate.depth} decision tree fitted to the model's predictions agrees with the model on "
        f"{surrogate.fidelity:.1%} of held-out samples ({surrogate.train_fidelity:.1%} on its own rows).</p>",
        f"<pre>{esc(surrogate.text)}</pre>",
        '<h2 id="shap-global">Global SHAP summary</h2>',
        f"<p>Over {overview.n_rows} samples of the loaded data ({esc(overview.explainer_kind)}).</p>",
        _image(figures.importance(list(overview.features), list(overview.mean_abs))),
        "</body></html>",
    ]
    return "\n".join(parts)
