"""``n_steps="auto"``: the path cut into segments, and every segment whose own completeness fails cut in two.

Along any piece [a, b] of the path, the attributions sum to F(b) − F(a) in the limit, and a forward pass gives
F(b) − F(a) exactly: so each segment carries its own error. A target is done once the errors of its segments add
up to at most ``tolerance · |f(x) − f(baseline)|``, which bounds its delta; until then every segment whose error
exceeds its share of that (its share of the path's length) is halved. Points gather where the score moves fast.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import ContextManager

import numpy as np
import torch

from attrix.engine import path_attributions, path_scores, point_gradients
from attrix.points import Endpoints, Point
from attrix.problem import Problem

FIRST_SEGMENTS = 4
NODES = 3
"""Gauss-Legendre points per segment."""
FIRST_STEPS = FIRST_SEGMENTS * NODES
"""Gradient evaluations every target takes in the first round, the least ``max_steps`` can be."""
NOISE_EPS = 4
"""A delta within this many float epsilons of the scores' size is rounding noise: it counts as converged, however
small the gap (f(x) − f(baseline) itself is only known to about one epsilon of the scores)."""

_POINTS, _WEIGHTS = (torch.tensor(values) for values in np.polynomial.legendre.leggauss(NODES))


@dataclass(frozen=True)
class Segments:
    """Pieces [low, high] of the path of input ``row`` toward target ``column``: the scores at their ends and their
    attributions (``values``, ``[n, ...]``)."""

    row: torch.Tensor
    column: torch.Tensor
    low: torch.Tensor
    high: torch.Tensor
    score_low: torch.Tensor
    score_high: torch.Tensor
    values: torch.Tensor

    def errors(self) -> torch.Tensor:
        """Each segment's completeness error."""
        return (self.values.flatten(1).sum(-1) - (self.score_high - self.score_low)).abs()

    def where(self, mask: torch.Tensor) -> "Segments":
        """The segments ``mask`` selects."""
        return Segments(*(getattr(self, field.name)[mask] for field in fields(self)))

    def join(self, other: "Segments") -> "Segments":
        """These segments and ``other``'s."""
        return Segments(*(torch.cat([getattr(self, field.name), getattr(other, field.name)]) for field in fields(self)))


def gauss_legendre(low: torch.Tensor, high: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The ``NODES`` Gauss-Legendre points of each segment and their weights, ``[n, NODES]`` each."""
    width = (high - low).unsqueeze(1)
    return low.unsqueeze(1) + width * (_POINTS + 1).to(low) / 2, width * _WEIGHTS.to(low) / 2


def first_segments(point: Point, problem: Problem, ends: Endpoints, **engine: object) -> Segments:
    """``FIRST_SEGMENTS`` equal segments per input; every target of an input shares each forward pass."""
    end, start = ends.end, ends.start
    batch, n_targets, device = problem.batch_size, problem.n_targets, end.device
    edges = torch.linspace(0, 1, FIRST_SEGMENTS + 1, dtype=torch.float64, device=device)
    rows = torch.arange(batch, device=device).repeat(FIRST_SEGMENTS - 1)
    inner = path_scores(point, problem, end, start, rows, edges[1:-1].repeat_interleave(batch))
    scores = torch.cat([ends.baseline_scores[None], inner.view(FIRST_SEGMENTS - 1, batch, n_targets), ends.scores[None]])
    points, weights = gauss_legendre(edges[:-1], edges[1:])
    values = torch.stack([
        path_attributions(point, problem, end, start, points[i].tolist(), weights[i].tolist(), **engine)
        for i in range(FIRST_SEGMENTS)
    ])
    row, column = (index.flatten() for index in torch.meshgrid(torch.arange(batch), torch.arange(n_targets), indexing="ij"))
    count = batch * n_targets
    return Segments(
        row.repeat(FIRST_SEGMENTS).to(device),
        column.repeat(FIRST_SEGMENTS).to(device),
        edges[:-1].repeat_interleave(count),
        edges[1:].repeat_interleave(count),
        scores[:-1].flatten(),
        scores[1:].flatten(),
        values.flatten(0, 2),
    )


def halves(point: Point, problem: Problem, ends: Endpoints, split: Segments, **engine: object) -> Segments:
    """Both halves of every segment of ``split``, with the score at each midpoint (one forward pass per distinct
    input and point) and their attributions (each evaluation at its own target, one backward pass per chunk)."""
    end, start = ends.end, ends.start
    middle = (split.low + split.high) / 2
    places, which = torch.unique(torch.stack([split.row.to(middle), middle], 1), dim=0, return_inverse=True)
    at_middle = path_scores(point, problem, end, start, places[:, 0].long(), places[:, 1])[which, split.column]
    row, column = split.row.repeat(2), split.column.repeat(2)
    low, high = torch.cat([split.low, middle]), torch.cat([middle, split.high])
    points, weights = gauss_legendre(low, high)
    rows, columns = row.repeat_interleave(NODES), column.repeat_interleave(NODES)
    gradients = point_gradients(point, problem, end, start, rows, columns, points.flatten(), weights.flatten(), **engine)
    values = ((end - start)[rows] * gradients).view(len(row), NODES, *end.shape[1:]).sum(1)
    return Segments(
        row, column, low, high,
        torch.cat([split.score_low, at_middle]), torch.cat([at_middle, split.score_high]), values,
    )


def within_budget(split: torch.Tensor, errors: torch.Tensor, target: torch.Tensor, room: torch.Tensor) -> torch.Tensor:
    """``split`` narrowed, per target, to the ``room[target]`` segments with the largest errors."""
    order = torch.argsort(torch.where(split, errors, -1.0), descending=True, stable=True)
    order = order[torch.argsort(target[order], stable=True)]
    first = torch.searchsorted(target[order], target[order], right=False)
    rank = torch.empty_like(order)
    rank[order] = torch.arange(len(order), device=order.device) - first
    return split & (rank < room[target])


def adaptive_attributions(
    point: Point,
    problem: Problem,
    ends: Endpoints,
    tolerance: float,
    max_steps: int,
    internal_batch_size: int | None = None,
    precision: ContextManager[object] | None = None,
    memory_budget: int | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Attributions ``[batch, n_targets, ...]`` and the gradient evaluations each target took ``[batch, n_targets]``
    (at most ``max_steps``; a target that reaches it keeps what it has)."""
    engine = {"internal_batch_size": internal_batch_size, "precision": precision, "memory_budget": memory_budget}
    batch, n_targets = problem.batch_size, problem.n_targets
    gap = ends.scores - ends.baseline_scores
    noise = NOISE_EPS * torch.finfo(gap.dtype).eps * torch.maximum(ends.scores.abs(), ends.baseline_scores.abs())
    allowed = (tolerance * gap.abs() + noise).flatten()
    steps = torch.full((batch * n_targets,), FIRST_STEPS, dtype=torch.long, device=gap.device)
    segments = first_segments(point, problem, ends, **engine)
    while True:
        target = segments.row * n_targets + segments.column
        errors = segments.errors()
        total = torch.zeros_like(allowed).index_add_(0, target, errors.to(allowed))
        pending = total > allowed
        share = allowed[target] * (segments.high - segments.low).to(allowed)
        room = torch.where(pending, (max_steps - steps) // (2 * NODES), 0)
        split = within_budget(pending[target] & (errors > share), errors, target, room)
        if not split.any():
            break
        steps.index_add_(0, target[split], torch.full_like(target[split], 2 * NODES))
        segments = segments.where(~split).join(halves(point, problem, ends, segments.where(split), **engine))
    target = segments.row * n_targets + segments.column
    values = ends.end.new_zeros((batch * n_targets, *ends.end.shape[1:])).index_add_(0, target, segments.values)
    return values.view(batch, n_targets, *ends.end.shape[1:]), steps.view(batch, n_targets)
