"""``compare``: one explainer's inputs explained by several backends and measured by the same faithfulness metrics, as
one table of backend × metric beside the random reference."""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from attrix.api.evaluation import Evaluation, evaluate
from attrix.api.explainer import Explainer
from attrix.api.rationales import Rationale
from attrix.contracts.backend import Backend
from attrix.contracts.explanation import Explanation, finite
from attrix.contracts.metric import Metric
from attrix.contracts.targets import Target
from attrix.errors import AttrixError, InputError
from attrix.host.registry import create

DEFAULT_METRICS = ("comprehensiveness", "sufficiency", "deletion_auc", "insertion_auc")
CURVE_METRICS = ("deletion_auc", "insertion_auc")
"""The metrics whose mean curves a comparison keeps, per backend."""


@dataclass
class BackendResult:
    """One backend's part of a comparison: its evaluation, or why it failed, and the seconds it took."""

    backend: str
    settings: dict[str, Any]
    evaluation: Evaluation | None = field(default=None, repr=False)
    error: str | None = None
    explain_seconds: float = 0.0
    """Seconds spent explaining (preparing, attributing, making explanations), metrics left out."""
    total_seconds: float = 0.0
    """Seconds of the whole evaluation, metrics included."""

    def means(self) -> dict[str, dict[str, Any]]:
        """Per metric, the mean over inputs and targets (NaNs left out) and how many values it is the mean of."""
        summary = self.evaluation.summary() if self.evaluation is not None else []
        return {row["metric"]: {"mean": row["mean"], "n": row["n"]} for row in summary}

    def curves(self) -> dict[str, list[float]]:
        """Per curve metric, the mean curve over inputs and targets (NaNs left out)."""
        explanations = self.evaluation.explanations if self.evaluation is not None else []
        curves = {name: _mean_curve(explanations, name) for name in CURVE_METRICS}
        return {name: curve for name, curve in curves.items() if curve}


@dataclass
class Comparison:
    """What ``compare`` measured: one ``BackendResult`` per backend, in the order asked for."""

    results: list[BackendResult]
    metrics: list[Metric]
    inputs: list[Any] = field(repr=False)
    settings: dict[str, Any] = field(default_factory=dict)
    """What every backend ran with: the target, the seed, the task and the model."""

    @property
    def failed(self) -> list[BackendResult]:
        """The backends that could not be evaluated."""
        return [result for result in self.results if result.error is not None]

    def random(self) -> dict[str, dict[str, Any]]:
        """Per metric that ranks, the mean of the random reference and its count, as the first backend that ran measured
        it (the random ranking depends on the inputs and the seed only)."""
        done = next((result.evaluation for result in self.results if result.evaluation is not None), None)
        summary = done.summary() if done is not None else []
        return {
            row["metric"]: {"mean": row["random"], "n": _random_count(done, row["metric"])}
            for row in summary
            if row["random"] is not None
        }

    def table(self) -> list[dict[str, Any]]:
        """One row per backend and a last one for the random reference: ``backend``, ``metrics`` (name: mean and n),
        ``seconds_per_input`` (``explain``, ``with_metrics``), ``error``."""
        count = max(len(self.inputs), 1)
        rows = [
            {
                "backend": result.backend,
                "metrics": result.means(),
                "seconds_per_input": {
                    "explain": result.explain_seconds / count,
                    "with_metrics": result.total_seconds / count,
                },
                "error": result.error,
            }
            for result in self.results
        ]
        return [*rows, {"backend": "random", "metrics": self.random(), "seconds_per_input": None, "error": None}]

    def to_dict(self) -> dict[str, Any]:
        """The table, each backend's settings and mean curves, the metrics and the settings, as JSON-ready data (NaN: None)."""
        *rows, random = self.table()
        backends = [{**row, "settings": result.settings, "curves": result.curves()} for row, result in zip(rows, self.results)]
        return finite(
            {
                "inputs": len(self.inputs),
                "metrics": [{"name": metric.name, "higher_is_better": metric.higher_is_better} for metric in self.metrics],
                "backends": backends,
                "random": random["metrics"],
                "settings": self.settings,
            }
        )

    def to_markdown(self) -> str:
        """The table in Markdown, each metric's mean with an arrow for the better direction, then why backends failed."""
        names = [metric.name for metric in self.metrics]
        arrows = [f"{metric.name} {'↑' if metric.higher_is_better else '↓'}" for metric in self.metrics]
        lines = [
            f"| backend | {' | '.join(arrows)} | s/input (explain) | s/input (with metrics) |",
            f"|---|{'---|' * len(names)}---|---|",
        ]
        for row in self.table():
            cells = [number(row["metrics"].get(name, {}).get("mean")) for name in names]
            if row["error"] is not None:
                cells = ["failed"] * len(names)
            seconds = row["seconds_per_input"] or {"explain": None, "with_metrics": None}
            lines.append(
                f"| {row['backend']} | {' | '.join(cells)} | {number(seconds['explain'])} | {number(seconds['with_metrics'])} |"
            )
        notes = [f"{result.backend} failed: {result.error}" for result in self.failed]
        return "\n".join([*lines, *([""] if notes else []), *notes])

    def __str__(self) -> str:
        return self.to_markdown()


def compare(
    items: Sequence[Any],
    explainer: Explainer,
    backends: Sequence[str | Backend],
    metrics: Sequence[str | Metric] = DEFAULT_METRICS,
    *,
    target: Target = None,
    seed: int = 0,
    rationales: Sequence[Rationale | None] | None = None,
) -> Comparison:
    """Evaluate ``items`` with ``explainer``'s model and task under each backend (a registered name, built with its
    defaults, or a ``Backend``) and ``metrics``, as ``attrix.evaluate`` does, timing each.

    A backend the evaluation refuses (attributions that are not at the model's input, say) is a ``BackendResult``
    with its ``error``; the others are measured all the same. ``explainer`` itself is left as it is. ``rationales``
    (one per item, or None) go to the plausibility metrics.
    """
    chosen = [metric if isinstance(metric, Metric) else create("metric", metric) for metric in metrics]
    built = [backend if isinstance(backend, Backend) else create("backend", backend) for backend in backends]
    if not built:
        raise InputError("compare needs at least one backend")
    if not chosen:
        raise InputError("compare needs at least one metric")
    items = list(items)
    measuring = {"target": target, "seed": seed, "rationales": rationales}
    results = [_run(items, _with_backend(explainer, backend), chosen, measuring) for backend in built]
    model = getattr(explainer.model, "name_or_path", None)
    settings = {"task": explainer.task.name, "model": model, "target": "predicted" if target is None else target, "seed": seed}
    return Comparison(results, chosen, items, settings)


def _with_backend(explainer: Explainer, backend: Backend) -> Explainer:
    """A shallow copy of ``explainer`` (the same model and task) attributing with ``backend``."""
    swapped = copy.copy(explainer)
    swapped.backend = backend
    return swapped


def _run(items: list[Any], explainer: Explainer, metrics: list[Metric], measuring: dict[str, Any]) -> BackendResult:
    """One backend's evaluation (``measuring``: evaluate's target, seed and rationales), or its error."""
    result = BackendResult(explainer.backend.name, explainer.backend.settings())
    start = time.perf_counter()
    try:
        result.evaluation = evaluate(items, explainer, metrics, **measuring)
        result.explain_seconds = result.evaluation.explain_seconds
    except AttrixError as error:
        result.error = str(error)
    result.total_seconds = time.perf_counter() - start
    return result


def _mean_curve(explanations: list[Explanation], name: str) -> list[float]:
    """The pointwise mean of ``name``'s curves over explanations and targets; empty when there are none."""
    curves = [curve for explanation in explanations for curve in (explanation.metrics.get(name, {}).get("curves") or [])]
    if not curves or len({len(curve) for curve in curves}) != 1:
        return []
    stacked = np.asarray(curves, dtype=float)
    kept = stacked[~np.isnan(stacked).any(axis=1)]
    return kept.mean(axis=0).tolist() if len(kept) else []


def _random_count(evaluation: Evaluation, name: str) -> int:
    """How many random values of metric ``name`` the evaluation holds (NaNs left out)."""
    return sum(1 for row in evaluation.rows if row["metric"] == name and row["random"] is not None and not math.isnan(row["random"]))


def number(value: float | None) -> str:
    """A table cell: four significant digits (small differences between backends stay visible), ``-`` for none."""
    return "-" if value is None or math.isnan(value) else f"{value:.4g}"
