"""``evaluate``: faithfulness metrics of an explainer's attributions, scored by removing features through the task's
``Problem``."""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any

import torch
from annotated_types import Ge

from attrix.api.explainer import Explainer
from attrix.contracts.backend import Attributions
from attrix.contracts.explanation import Explanation
from attrix.contracts.metric import Measured, Metric
from attrix.contracts.options import OptionError, check_arguments
from attrix.contracts.problem import Problem
from attrix.contracts.targets import Target
from attrix.contracts.task import Prepared, Task
from attrix.errors import InputError
from attrix.host.registry import create
from attrix.integration.batching import length_batches
from attrix.integration.removal import RemovalScorer, grouping, per_feature
from attrix.text.removal import DeletionScorer, removal_token_id, with_removal_token
from attrix.text.task import BASELINE_TOKENS, TokenizedTask

DEFAULT_METRICS = ("comprehensiveness", "sufficiency")
REMOVALS = ("baseline", *BASELINE_TOKENS, "delete")
"""How a removed feature is removed: replaced by the task's baseline (the reference integrated gradients start
from), a token of text replaced by the tokenizer's pad, unk or mask token, or deleted from the sequence."""


@dataclass
class Evaluation:
    """What ``evaluate`` measured: one row per input, target and metric, and the explanations that now hold them."""

    rows: list[dict[str, Any]]
    """``input`` (its number), ``target`` (the label), ``position`` (the target's token, if it has one), ``metric``,
    ``value`` and ``random`` (the value for a seeded random ranking of the same features; None for a metric that does
    not rank)."""
    explanations: list[Explanation] = field(repr=False)
    explain_seconds: float = 0.0
    """Seconds spent explaining the inputs again (preparing and attributing), the metrics left out."""

    def summary(self) -> list[dict[str, Any]]:
        """Per metric, the mean of its values and of its random reference over inputs and targets (NaNs left out)."""
        names = list(dict.fromkeys(row["metric"] for row in self.rows))
        return [_summary(name, [row for row in self.rows if row["metric"] == name]) for name in names]

    def to_markdown(self) -> str:
        """The summary as a Markdown table."""
        lines = ["| metric | mean | random | n |", "|---|---|---|---|"]
        for row in self.summary():
            lines.append(f"| {row['metric']} | {_number(row['mean'])} | {_number(row['random'])} | {row['n']} |")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.to_markdown()


def evaluate(
    items: Any,
    explainer: Explainer,
    metrics: Sequence[str | Metric] = DEFAULT_METRICS,
    *,
    target: Target = None,
    features: str | None = None,
    removal: str = "baseline",
    seed: int = 0,
    rows_per_pass: Annotated[int, Ge(1)] = 256,
) -> Evaluation:
    """Measure how faithful ``explainer``'s attributions are, for inputs or for explanations it made.

    ``items`` is one input, one ``Explanation`` or a list of either. Each is prepared again by the explainer's task
    (an explanation: its ``inputs``, toward its targets' labels; an input: toward ``target``) and attributed again
    by its backend, so that attributions, targets and features line up with the problem the model scores. Each
    metric is a registered name or a ``Metric``; ``features`` is the task's grouping to remove (default: words of
    text, patches of images). ``removal`` says how a feature is removed: ``"baseline"`` puts the task's baseline in
    its place; for text, ``"mask"``, ``"pad"`` or ``"unk"`` replaces its tokens by that token of the tokenizer, and
    ``"delete"`` deletes them from the sequence (the rest packed together, positions numbered anew). Every
    metric is also measured for a random ranking of the same features, seeded by ``seed``; perturbed inputs run
    ``rows_per_pass`` at a time. The values are stored in each explanation's ``metrics``.
    """
    check_arguments(EvaluateOptions, "evaluate", {"seed": seed, "rows_per_pass": rows_per_pass, "removal": removal})
    check_removal(explainer, removal)
    chosen = [metric if isinstance(metric, Metric) else create("metric", metric) for metric in metrics]
    if not chosen:
        raise InputError("evaluate needs at least one metric")
    jobs = [_job(explainer, item, target) for item in (items if isinstance(items, list) else [items])]
    results: dict[int, Explanation] = {}
    seconds = 0.0
    for key in dict.fromkeys(job.key for job in jobs):
        numbers = [number for number, job in enumerate(jobs) if job.key == key]
        for batch in length_batches([explainer.task.length(jobs[number].item) for number in numbers], explainer.batch_size):
            batch_numbers = [numbers[n] for n in batch]
            done, explaining = _evaluate_batch(
                explainer, [jobs[number] for number in batch_numbers], chosen, Measuring(features, removal, seed, rows_per_pass)
            )
            seconds += explaining
            for number, explanation in zip(batch_numbers, done):
                results[number] = explanation
    explanations = [results[number] for number in range(len(jobs))]
    return Evaluation(_rows(explanations), explanations, seconds)


class EvaluateOptions:
    """The options of ``evaluate``, checked as a plugin's are (type hints, constraints, ``validate_options``)."""

    def __init__(self, *, seed: int = 0, rows_per_pass: Annotated[int, Ge(1)] = 256, removal: str = "baseline") -> None:
        self.seed, self.rows_per_pass, self.removal = seed, rows_per_pass, removal

    @classmethod
    def validate_options(cls, options: dict[str, Any]) -> None:
        """``removal`` is one of ``REMOVALS``."""
        if options.get("removal", "baseline") not in REMOVALS:
            raise OptionError("removal", f"one of {', '.join(repr(removal) for removal in REMOVALS)}")


def check_removal(explainer: Explainer, removal: str) -> None:
    """An error when ``removal`` works on tokens and the explainer's task has none (images: only the baseline)."""
    if removal != "baseline" and not isinstance(explainer.task, TokenizedTask):
        raise InputError(
            f"removal={removal!r} replaces or deletes tokens, and task {explainer.task.name!r} has no tokens: its "
            "features are removed with removal='baseline' (the task's baseline in their place)"
        )
    if removal in BASELINE_TOKENS:
        removal_token_id(explainer.task.tokenizer, removal)


@dataclass(frozen=True)
class Measuring:
    """How ``evaluate`` measures a batch: the grouping of features to remove (None: the task's default), how they
    are removed, the seed of the random ranking and the rows per pass."""

    features: str | None
    removal: str
    seed: int
    rows_per_pass: int

    def scorer(self, task: Task, problem: Problem) -> RemovalScorer:
        """The scorer of ``problem``'s inputs with features of the grouping removed as ``removal`` says."""
        ids = problem.features[grouping(problem, self.features)].contiguous()
        if self.removal == "delete":
            return DeletionScorer(problem, ids, self.rows_per_pass, task.tokenizer)
        if self.removal in BASELINE_TOKENS:
            problem = with_removal_token(problem, ids, removal_token_id(task.tokenizer, self.removal))
        return RemovalScorer(problem, ids, self.rows_per_pass)


@dataclass
class Job:
    """One item to evaluate: the checked input, the targets to prepare it toward, and the explanation given for it."""

    item: Any
    target: Target
    explanation: Explanation | None = None
    key: tuple[Any, ...] | None = None
    """What items that may share a batch have in common: the targets of the explanation given."""


def _job(explainer: Explainer, item: Any, target: Target) -> Job:
    """An input toward ``target``, or an explanation toward its own targets' labels, checked by the task."""
    if not isinstance(item, Explanation):
        return Job(explainer.task.check(item), target)
    if (item.task, item.method) != (explainer.task.name, explainer.backend.name):
        raise InputError(
            f"the explanation was made by task {item.task!r} and backend {item.method!r}, not by this explainer's "
            f"{explainer.task.name!r} and {explainer.backend.name!r}: evaluate it with the explainer that made it"
        )
    target = explainer.task.explained_target(item)
    key = tuple(target) if isinstance(target, list) else (target,)
    return Job(explainer.task.check(explainer.task.input_item(item.inputs)), target, item, key)


def _evaluate_batch(
    explainer: Explainer, jobs: list[Job], metrics: list[Metric], measuring: Measuring
) -> tuple[list[Explanation], float]:
    """A batch explained again and measured: the explanations given, or the fresh ones, holding the metrics, and the
    seconds explaining took."""
    start = time.perf_counter()
    prepared, attributions, fresh = explainer.explain_batch([job.item for job in jobs], jobs[0].target)
    explaining = time.perf_counter() - start
    measured = _measure(explainer, prepared, attributions, metrics, measuring)
    done = [job.explanation or made for job, made in zip(jobs, fresh)]
    for number, explanation in enumerate(done):
        _fill(explanation, _cells(explanation, prepared, attributions, number), measured, metrics, measuring.removal)
    return done, explaining


def _cells(explanation: Explanation, prepared: Prepared, attributions: Attributions, number: int) -> list[tuple[int, int]]:
    """The problem row and target column each of ``explanation``'s targets was attributed at: the cell of the batch's
    ``number``-th input's problem rows whose score is the target's f(x) (each cell used once)."""
    rows = prepared.rows[number] if prepared.rows is not None else [number]
    free = [(row, column) for row in rows for column in range(attributions.scores.shape[1])]
    cells = []
    for one in explanation.targets:
        match = next((cell for cell in free if float(attributions.scores[cell]) == one.score), None)
        if match is None:
            raise InputError(
                f"target {one.label!r} of the explanation has no matching output in the problem the task prepares again "
                "(inputs explained in windows, or with other settings, cannot be evaluated yet)"
            )
        free.remove(match)
        cells.append(match)
    return cells


def _measure(
    explainer: Explainer, prepared: Prepared, attributions: Attributions, metrics: list[Metric], measuring: Measuring
) -> dict[str, tuple[str, Measured, Measured | None]]:
    """Every metric of the batch's attributions and of a random ranking, by metric name, with the grouping used."""
    problem = prepared.problem
    name = grouping(problem, measuring.features)
    scorer = measuring.scorer(explainer.task, problem)
    if attributions.values.shape[2:] != scorer.end.shape[1:]:
        raise InputError(
            f"the backend's attributions have shape {tuple(attributions.values.shape[2:])} per target, not the model "
            f"input's {tuple(scorer.end.shape[1:])}: metrics need attributions at the input embeddings or pixels"
        )
    table = per_feature(attributions.values, scorer.ids, scorer.first) * scorer.present.unsqueeze(1)
    generator = torch.Generator().manual_seed(measuring.seed)
    random = torch.rand(scorer.present.shape, generator=generator).to(table).unsqueeze(1) * scorer.present.unsqueeze(1)
    random = random.expand_as(table)
    return {
        metric.name: (name, metric.measure(table, scorer), metric.measure(random, scorer) if metric.ranks else None)
        for metric in metrics
    }


def _fill(
    explanation: Explanation,
    cells: list[tuple[int, int]],
    measured: dict[str, tuple[str, Measured, Measured | None]],
    metrics: list[Metric],
    removal: str,
) -> None:
    """Store each metric's values at ``cells`` in ``explanation.metrics``."""
    for metric in metrics:
        name, own, random = measured[metric.name]
        explanation.metrics[metric.name] = {
            "values": [float(own.values[cell]) for cell in cells],
            "random": None if random is None else [float(random.values[cell]) for cell in cells],
            "curves": None if own.curves is None else [own.curves[cell].tolist() for cell in cells],
            "features": name,
            "removal": removal,
            "settings": metric.settings(),
        }


def _rows(explanations: list[Explanation]) -> list[dict[str, Any]]:
    """One row per explanation, target and metric."""
    rows = []
    for number, explanation in enumerate(explanations):
        for name, result in explanation.metrics.items():
            for index, one in enumerate(explanation.targets):
                random = None if result["random"] is None else result["random"][index]
                value = result["values"][index]
                rows.append(
                    {
                        "input": number,
                        "target": one.label,
                        "position": one.position,
                        "metric": name,
                        "value": value,
                        "random": random,
                    }
                )
    return rows


def _summary(name: str, rows: list[dict[str, Any]]) -> dict[str, Any]:
    values = [row["value"] for row in rows if not math.isnan(row["value"])]
    randoms = [row["random"] for row in rows if row["random"] is not None and not math.isnan(row["random"])]
    return {"metric": name, "mean": _mean(values), "random": _mean(randoms) if randoms else None, "n": len(values)}


def _mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else math.nan


def _number(value: float | None) -> str:
    return "-" if value is None or math.isnan(value) else f"{value:.4f}"
