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
from attrix.api.rationales import Rationale, feature_rationales, rationale_list, word_mask
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
    rationales: Sequence[Rationale | None] | None = None,
    reference: bool = True,
) -> Evaluation:
    """Measure how faithful ``explainer``'s attributions are, for inputs or for explanations it made.

    ``items`` is one input, one ``Explanation`` or a list of either. Each is prepared again by the explainer's task
    (an explanation: its ``inputs``, toward its targets' labels; an input: toward ``target``), so that targets and
    features line up with the problem the model scores. An explanation's own attributions are measured (its token
    scores, or its pixel array), placed on the problem's tokens; one that cannot be placed (explained in windows,
    or at another input size) and every input is attributed by the explainer's backend. Each metric is a registered
    name or a ``Metric``; ``features`` is the task's grouping to remove (default: words of
    text, patches of images). ``removal`` says how a feature is removed: ``"baseline"`` puts the task's baseline in
    its place; for text, ``"mask"``, ``"pad"`` or ``"unk"`` replaces its tokens by that token of the tokenizer, and
    ``"delete"`` deletes them from the sequence (the rest packed together, positions numbered anew). Every
    metric that ranks is also measured for a random ranking of the same features, seeded by ``seed`` (unless
    ``reference`` is False); perturbed inputs run ``rows_per_pass`` at a time. ``rationales`` gives plausibility
    metrics each item's human rationale (None for an item without one): a list of word indexes or a 0/1 mask per
    word. The values are stored in each explanation's ``metrics``.
    """
    check_arguments(EvaluateOptions, "evaluate", {"seed": seed, "rows_per_pass": rows_per_pass, "removal": removal})
    check_removal(explainer, removal)
    chosen = [metric if isinstance(metric, Metric) else create("metric", metric) for metric in metrics]
    if not chosen:
        raise InputError("evaluate needs at least one metric")
    listed = items if isinstance(items, list) else [items]
    given = rationale_list(rationales, len(listed))
    check_fit(chosen, explainer, rationales is not None)
    jobs = [_job(explainer, item, target, rationale) for item, rationale in zip(listed, given)]
    measuring = Measuring(features, removal, seed, rows_per_pass, reference)
    results: dict[int, Explanation] = {}
    seconds = 0.0
    for key in dict.fromkeys(job.key for job in jobs):
        numbers = [number for number, job in enumerate(jobs) if job.key == key]
        for batch in length_batches([explainer.task.length(jobs[number].item) for number in numbers], explainer.batch_size):
            batch_numbers = [numbers[n] for n in batch]
            done, explaining = _evaluate_batch(explainer, [jobs[number] for number in batch_numbers], chosen, measuring)
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


def check_fit(metrics: Sequence[Metric], explainer: Explainer, has_rationales: bool) -> None:
    """An error naming why a metric cannot measure the explainer's backend, or needs rationales none were given."""
    for metric in metrics:
        reason = metric.unfit(type(explainer.backend))
        if reason:
            raise InputError(f"metric {metric.name!r} cannot measure backend {explainer.backend.name!r}: {reason}")
        if metric.needs_rationales and not has_rationales:
            raise InputError(
                f"metric {metric.name!r} compares the attributions with human rationales, and none were given: pass "
                "rationales=[...] (for each item, a list of word indexes or a 0/1 mask per word, or None)"
            )


@dataclass(frozen=True)
class Measuring:
    """How ``evaluate`` measures a batch: the grouping of features to remove (None: the task's default), how they
    are removed, the seed of the random ranking, the rows per pass and whether to measure the random ranking."""

    features: str | None
    removal: str
    seed: int
    rows_per_pass: int
    reference: bool = True

    def scorer(self, task: Task, problem: Problem) -> RemovalScorer:
        """The scorer of ``problem``'s inputs with features of the grouping removed as ``removal`` says."""
        ids = problem.features[grouping(problem, self.features)].contiguous()
        if self.removal == "delete":
            return DeletionScorer(problem, ids, self.rows_per_pass, task.tokenizer)
        if self.removal in BASELINE_TOKENS:
            removed = with_removal_token(problem, ids, removal_token_id(task.tokenizer, self.removal))
            return RemovalScorer(problem, ids, self.rows_per_pass, removed)
        return RemovalScorer(problem, ids, self.rows_per_pass)


@dataclass
class Job:
    """One item to evaluate: the checked input, the targets to prepare it toward, and the explanation given for it."""

    item: Any
    target: Target
    explanation: Explanation | None = None
    key: tuple[Any, ...] | None = None
    """What items that may share a batch have in common: the targets of the explanation given."""
    rationale: Rationale | None = None


def _job(explainer: Explainer, item: Any, target: Target, rationale: Rationale | None) -> Job:
    """An input toward ``target``, or an explanation toward its own targets' labels, checked by the task."""
    if not isinstance(item, Explanation):
        return Job(explainer.task.check(item), target, rationale=rationale)
    if (item.task, item.method) != (explainer.task.name, explainer.backend.name):
        raise InputError(
            f"the explanation was made by task {item.task!r} and backend {item.method!r}, not by this explainer's "
            f"{explainer.task.name!r} and {explainer.backend.name!r}: evaluate it with the explainer that made it"
        )
    target = explainer.task.explained_target(item)
    key = tuple(target) if isinstance(target, list) else (target,)
    return Job(explainer.task.check(explainer.task.input_item(item.inputs)), target, item, key, rationale)


def _evaluate_batch(
    explainer: Explainer, jobs: list[Job], metrics: list[Metric], measuring: Measuring
) -> tuple[list[Explanation], float]:
    """A batch measured: the explanations given, or fresh ones, holding the metrics, and the seconds explaining took
    (preparing the batch, and attributing what has no attributions of its own to measure)."""
    start = time.perf_counter()
    items = [job.item for job in jobs]
    measured = None
    if all(job.explanation is not None for job in jobs):
        prepared = explainer.task.prepare(items, jobs[0].target)
        prepared.problem = prepared.problem.to(explainer.model.device)
        done = [job.explanation for job in jobs]
        explaining = time.perf_counter() - start
        measured = _measure_stored(explainer, prepared, done, jobs, metrics, measuring)
    if measured is None:
        prepared, attributions, fresh = explainer.explain_batch(items, jobs[0].target)
        done = [job.explanation or made for job, made in zip(jobs, fresh)]
        explaining = time.perf_counter() - start
        scorer = _scorer(explainer, prepared, done, jobs, measuring)
        values = attributions.values
        if values.shape[2:] != scorer.end.shape[1:]:
            values = explainer.task.at_input(values, prepared.problem)
        check_shape(attributions.values if values is None else values, scorer)
        cells = [_cells(one, prepared, attributions.scores, number) for number, one in enumerate(done)]
        measured = cells, _measure(values, scorer, metrics, measuring)
    cells, results = measured
    for explanation, own in zip(done, cells):
        _fill(explanation, own, results, metrics, measuring.removal)
    return done, explaining


def _scorer(
    explainer: Explainer, prepared: Prepared, done: list[Explanation], jobs: list[Job], measuring: Measuring
) -> RemovalScorer:
    """The batch's scorer, knowing the backend and, where given, each problem row's human rationale."""
    scorer = measuring.scorer(explainer.task, prepared.problem)
    scorer.backend = explainer.backend
    masks: list[torch.Tensor | None] = [None] * prepared.problem.batch_size
    for number, (job, explanation) in enumerate(zip(jobs, done)):
        if job.rationale is not None:
            mask = word_mask(job.rationale, len(explanation.words))
            for row in prepared.rows[number] if prepared.rows is not None else [number]:
                masks[row] = mask
    count = scorer.present.shape[1]
    scorer.rationales = feature_rationales(prepared.problem, scorer.ids, scorer.first, count, masks)
    return scorer


def _measure_stored(
    explainer: Explainer,
    prepared: Prepared,
    done: list[Explanation],
    jobs: list[Job],
    metrics: list[Metric],
    measuring: Measuring,
) -> tuple[list[list[tuple[int, int]]], dict[str, tuple[str, Measured, Measured | None]]] | None:
    """The explanations' own attributions measured, each target at the cell of the problem whose score is its f(x);
    None when some target's attributions cannot be placed on the problem."""
    scorer = _scorer(explainer, prepared, done, jobs, measuring)
    try:
        cells = [_cells(one, prepared, scorer.scores, number, ROUNDING) for number, one in enumerate(done)]
    except InputError:
        return None
    values = stored_values(done, cells, prepared.problem, scorer.end)
    return None if values is None else (cells, _measure(values, scorer, metrics, measuring))


ROUNDING = 1e-4
"""How far a score run again (in another batch, other padding, or with tokens deleted) may be from the score an
explanation recorded and still be the same output."""


def stored_values(
    explanations: list[Explanation], cells: list[list[tuple[int, int]]], problem: Problem, end: torch.Tensor
) -> torch.Tensor | None:
    """The explanations' attributions in the problem's layout, ``[batch, n_targets, ...]``: token scores at the
    unpadded positions of their row (text), or pixel arrays of the model input's size; None when one does not fit."""
    tokens = "attention_mask" in problem.inputs and end.dim() == 3
    shape = (end.shape[1], 1) if tokens else tuple(end.shape[1:])
    values = end.new_zeros(problem.batch_size, problem.n_targets, *shape)
    for explanation, own in zip(explanations, cells):
        for one, (row, column) in zip(explanation.targets, own):
            if tokens:
                positions = problem.inputs["attention_mask"][row].nonzero().flatten()
                if len(one.token_scores) != len(positions):
                    return None
                values[row, column, positions, 0] = torch.tensor(one.token_scores, dtype=end.dtype, device=end.device)
                continue
            array = None if one.array is None else torch.tensor(one.array, dtype=end.dtype, device=end.device)
            if array is None or tuple(array.shape) != shape:
                return None
            values[row, column] = array
    return values


def check_shape(values: torch.Tensor, scorer: RemovalScorer) -> None:
    """An error when attributions are not at the model input the scorer removes features from."""
    if values.shape[2:] != scorer.end.shape[1:]:
        raise InputError(
            f"the backend's attributions have shape {tuple(values.shape[2:])} per target, not the model "
            f"input's {tuple(scorer.end.shape[1:])}: metrics need attributions at the input embeddings or pixels"
        )


def _cells(
    explanation: Explanation, prepared: Prepared, scores: torch.Tensor, number: int, tolerance: float = 0.0
) -> list[tuple[int, int]]:
    """The problem row and target column each of ``explanation``'s targets was attributed at: among the batch's
    ``number``-th input's problem rows, the cell whose score is the target's f(x) within ``tolerance`` (relative),
    the target's own output first, each cell used once."""
    rows = prepared.rows[number] if prepared.rows is not None else [number]
    targets = prepared.problem.targets
    free = [(row, column) for row in rows for column in range(scores.shape[1])]
    cells = []
    for one in explanation.targets:
        near = [cell for cell in free if abs(float(scores[cell]) - one.score) <= tolerance * (1 + abs(one.score))]
        match = min(near, key=lambda cell: (int(targets[cell]) != one.index, abs(float(scores[cell]) - one.score)), default=None)
        if match is None:
            raise InputError(
                f"target {one.label!r} of the explanation has no matching output in the problem the task prepares again "
                "(inputs explained in windows, or with other settings, cannot be evaluated yet)"
            )
        free.remove(match)
        cells.append(match)
    return cells


def _measure(
    values: torch.Tensor, scorer: RemovalScorer, metrics: list[Metric], measuring: Measuring
) -> dict[str, tuple[str, Measured, Measured | None]]:
    """Every metric of the batch's attributions and, if asked, of a random ranking, by metric name, with the
    grouping used."""
    name = grouping(scorer.problem, measuring.features)
    table = per_feature(values, scorer.ids, scorer.first) * scorer.present.unsqueeze(1)
    generator = torch.Generator().manual_seed(measuring.seed)
    random = torch.rand(scorer.present.shape, generator=generator).to(table).unsqueeze(1) * scorer.present.unsqueeze(1)
    random = random.expand_as(table)
    return {
        metric.name: (
            name,
            metric.measure(table, scorer),
            metric.measure(random, scorer) if metric.ranks and measuring.reference else None,
        )
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
