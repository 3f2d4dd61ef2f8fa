"""``n_steps="auto"``: the path cut into segments, and the segments whose own completeness fails cut in two.

Along any piece [a, b] of the path the attributions sum to F(b) − F(a) in the limit, and the forward pass that
evaluates a gradient gives F there exactly: so each segment carries its own error, and the segments' errors add
up to the target's delta. Segments are integrated with Boole's rule on five equally spaced points, ends included,
so halving one reuses its five points and adds four. A target's completeness is met once its delta is at most
``tolerance · |f(x) − f(baseline)|``; until then every segment whose error exceeds its share of that bound (its
share of the path's length) is halved — or, when each input has one target (or its targets do not move alike),
only the segments with the largest errors, as few as hold the delta's excess over ``KEPT_SHARE`` of the bound.
Points gather where the score moves fast. Errors of single features can cancel in a segment's sum and between segments, so a target is also not done
while its segments' spreads (how far Boole's estimate is from Simpson's on the same five points, in norm) add up
to more than ``tolerance`` times the norm of its attributions: the segments with the largest spreads are halved
too. A target whose bound is below the rounding floor (``NOISE_EPS``) is judged by the sum of its segments'
absolute errors instead of its delta, which is mostly rounding.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import ContextManager

import torch

from attrix.contracts.backend import Attributions
from attrix.contracts.points import Endpoints, Point
from attrix.contracts.problem import Problem
from attrix.integration.chunking import Chunking
from attrix.integration.path import point_gradients

FIRST_SEGMENTS = 2
POINTS = 5
"""Equally spaced points per segment, ends included: Boole's rule (exact for polynomials of degree 5)."""
_WEIGHTS = torch.tensor([7.0, 32.0, 12.0, 32.0, 7.0], dtype=torch.float64) / 90
_SIMPSON = torch.tensor([1.0, 4.0, 2.0, 4.0, 1.0], dtype=torch.float64) / 12
"""Simpson's rule on the same five points: how far it is from Boole's estimates the error of each feature."""
FIRST_STEPS = FIRST_SEGMENTS * (POINTS - 1) + 1
"""Gradient evaluations every target takes in the first round, the least ``max_steps`` can be."""
STEPS_PER_SPLIT = POINTS - 1
KEPT_SHARE = 0.6
"""With one target per input, the share of its error bound the segments it does not halve may keep; the halves
get the rest (the same share holds for every target's spread bound), and a segment whose absolute error is within
that share of its part of the bound is final. Halving only the largest errors took fewer evaluations than halving
every segment above its share (7.5% fewer on the benchmark's batch of reviews, 14% on zero-shot, measured with
the segments' absolute errors as the criterion). With several targets per input, halving every segment above
its share makes targets that move alike ask for the same points in the same round, so they share forward
passes: on the benchmark's NER sentence it took 1218 evaluations at 133 points, against 1254 at 245. Targets that
do not move alike (``Problem.targets_move_alike``, the steps of a generation) are refined largest first as one
target is: SmolLM2's two steps " Paris." took 185 evaluations each (34 s), against 741 (115 s)."""
NOISE_EPS = 4
"""A delta within this many float epsilons of the scores' size is rounding noise: it counts as converged, however
small the gap (f(x) − f(baseline) itself is only known to about one epsilon of the scores). A target whose
tolerance is below that floor cannot be checked by completeness alone: every one of its first segments is halved
once, whatever its error."""


@dataclass(frozen=True)
class Segments:
    """Pieces [low, high] of the path of input ``row`` toward target ``column``, each with ``(end − start) ∇F``
    (``gradients``, ``[n, POINTS, ...]``) and F (``scores``, ``[n, POINTS]``) at its ``POINTS`` equally spaced points."""

    row: torch.Tensor
    column: torch.Tensor
    low: torch.Tensor
    high: torch.Tensor
    gradients: torch.Tensor
    scores: torch.Tensor

    def values(self, rule: torch.Tensor = _WEIGHTS) -> torch.Tensor:
        """Each segment's attributions by Boole's rule (or another ``rule`` on its five points), ``[n, ...]``."""
        weights = (self.high - self.low).unsqueeze(1) * rule.to(self.low)
        shape = (*weights.shape, *([1] * (self.gradients.dim() - 2)))
        return (weights.to(self.gradients.dtype).view(shape) * self.gradients).sum(1)

    def errors(self, values: torch.Tensor) -> torch.Tensor:
        """Each segment's signed completeness error, given its ``values``: the segments' errors add up to the delta."""
        return values.flatten(1).sum(-1) - (self.scores[:, -1] - self.scores[:, 0])

    def where(self, mask: torch.Tensor) -> Segments:
        """The segments ``mask`` selects."""
        return Segments(*(tensor[mask] for tensor in vars(self).values()))

    def join(self, other: Segments) -> Segments:
        """These segments and ``other``'s."""
        return Segments(*(torch.cat([mine, theirs]) for mine, theirs in zip(vars(self).values(), vars(other).values())))


def first_segments(point: Point, problem: Problem, ends: Endpoints, **path_options: object) -> tuple[Segments, Endpoints]:
    """``FIRST_SEGMENTS`` equal segments per input and target; every target of an input shares the forward passes
    (chunked by rows, so a batch of long inputs stays within the memory budget). The scores at the path's ends are
    f(baseline) and f(x) as ``ends`` has them, so the errors add up to the delta; where ``ends`` has no f(baseline),
    the first points give it, and the ``ends`` returned hold it."""
    batch, n_targets, device = problem.batch_size, problem.n_targets, ends.end.device
    alphas = torch.linspace(0, 1, FIRST_STEPS, dtype=torch.float64, device=device)
    pair = torch.arange(batch * n_targets, device=device)
    every = pair.repeat_interleave(FIRST_STEPS)
    gradients, scores = point_gradients(
        point, problem, ends.end, ends.start, every // n_targets, every % n_targets, alphas.repeat(len(pair)), **path_options
    )
    gradients, scores = gradients.view(len(pair), FIRST_STEPS, *gradients.shape[1:]), scores.view(len(pair), FIRST_STEPS)
    if ends.baseline_scores is None:
        ends = replace(ends, baseline_scores=scores[:, 0].view(batch, n_targets).to(ends.scores.dtype))
    scores[:, 0], scores[:, -1] = ends.baseline_scores.flatten(), ends.scores.flatten()
    pieces = [slice(first, first + POINTS) for first in range(0, FIRST_STEPS - 1, POINTS - 1)]
    gradients = torch.stack([gradients[:, piece] for piece in pieces], 1).flatten(0, 1)
    scores = torch.stack([scores[:, piece] for piece in pieces], 1).flatten(0, 1)
    segment = pair.repeat_interleave(FIRST_SEGMENTS)
    low = alphas[: -1 : POINTS - 1].repeat(len(pair))
    return Segments(segment // n_targets, segment % n_targets, low, low + 1 / FIRST_SEGMENTS, gradients, scores), ends


def halves(point: Point, problem: Problem, ends: Endpoints, split: Segments, **path_options: object) -> Segments:
    """Both halves of every segment of ``split``: the parent's points are every other point of its halves, and
    the points between them are new evaluations."""
    half = POINTS // 2
    middle = (split.low + split.high) / 2
    low, high = torch.cat([split.low, middle]), torch.cat([middle, split.high])
    rows, columns = split.row.repeat(2), split.column.repeat(2)
    odd = torch.arange(1, POINTS, 2, device=low.device)
    alphas = low.unsqueeze(1) + (high - low).unsqueeze(1) * odd / (POINTS - 1)
    new_gradients, new_scores = point_gradients(
        point,
        problem,
        ends.end,
        ends.start,
        rows.repeat_interleave(half),
        columns.repeat_interleave(half),
        alphas.flatten(),
        **path_options,
    )
    gradients = split.gradients.new_empty((len(low), POINTS, *split.gradients.shape[2:]))
    scores = split.scores.new_empty((len(low), POINTS))
    for both, parent, new in ((gradients, split.gradients, new_gradients), (scores, split.scores, new_scores)):
        both[:, 1::2] = new.view(len(low), half, *new.shape[1:])
        both[:, 0::2] = torch.cat([parent[:, : half + 1], parent[:, half:]])
    return Segments(rows, columns, low, high, gradients, scores)


def spreads(segments: Segments, pieces: torch.Tensor) -> torch.Tensor:
    """How far each segment's Boole estimate (``pieces``) is from Simpson's on the same five points, in norm: an
    estimate of the errors of single features, which completeness cannot see where they cancel in a sum."""
    return (pieces - segments.values(_SIMPSON)).flatten(1).norm(dim=-1)


def ranked(errors: torch.Tensor, target: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Each segment's rank among its target's segments by error, largest first, and the sum of the errors ranked
    before it."""
    order = torch.argsort(errors, descending=True, stable=True)
    order = order[torch.argsort(target[order], stable=True)]
    first = torch.searchsorted(target[order], target[order], right=False)
    running = torch.cumsum(errors[order], 0)
    rank, before = torch.empty_like(order), torch.empty_like(errors)
    rank[order] = torch.arange(len(order), device=order.device) - first
    before[order] = running - errors[order] - torch.where(first > 0, running[(first - 1).clamp(min=0)], 0)
    return rank, before


def largest(errors: torch.Tensor, target: torch.Tensor, excess: torch.Tensor) -> torch.Tensor:
    """The segments of each target with the largest errors, as few as together hold ``excess[target]`` of them."""
    _, before = ranked(errors, target)
    return before < excess[target]


def within_budget(split: torch.Tensor, errors: torch.Tensor, target: torch.Tensor, room: torch.Tensor) -> torch.Tensor:
    """``split`` narrowed, per target, to the ``room[target]`` segments with the largest errors."""
    rank, _ = ranked(torch.where(split, errors, -1.0), target)
    return split & (rank < room[target])


def adaptive_attributions(
    point: Point,
    problem: Problem,
    ends: Endpoints,
    tolerance: float,
    max_steps: int,
    chunking: Chunking | None = None,
    precision: ContextManager[object] | None = None,
) -> Attributions:
    """Attributions ``[batch, n_targets, ...]`` toward every target, with the gradient evaluations each took
    (at most ``max_steps``; a target that reaches it keeps what it has)."""
    path_options = {"chunking": chunking or Chunking(), "precision": precision}
    batch, n_targets = problem.batch_size, problem.n_targets
    segments, ends = first_segments(point, problem, ends, **path_options)
    gap = ends.scores - ends.baseline_scores
    noise = NOISE_EPS * torch.finfo(gap.dtype).eps * torch.maximum(ends.scores.abs(), ends.baseline_scores.abs())
    allowed = (tolerance * gap.abs() + noise).flatten()
    steps = torch.full((batch * n_targets,), FIRST_STEPS, dtype=torch.long, device=gap.device)
    unresolved = (noise > tolerance * gap.abs()).flatten()
    least = torch.where(unresolved, FIRST_STEPS + FIRST_SEGMENTS * STEPS_PER_SPLIT, FIRST_STEPS)
    values = ends.end.new_zeros((batch * n_targets, *ends.end.shape[1:]))
    settled, settled_delta, settled_spread = torch.zeros_like(allowed), torch.zeros_like(allowed), torch.zeros_like(allowed)
    largest_first = n_targets == 1 or not problem.targets_move_alike
    kept = KEPT_SHARE if largest_first else 1.0
    while True:
        target = segments.row * n_targets + segments.column
        pieces = segments.values()
        signed = segments.errors(pieces).to(allowed)
        errors = signed.abs()
        total = settled.index_add(0, target, errors)
        delta = settled_delta.index_add(0, target, signed).abs()
        short = steps < least
        spread = spreads(segments, pieces).to(allowed)
        spread_total = settled_spread.index_add(0, target, spread)
        bound = tolerance * values.index_add(0, target, pieces).flatten(1).norm(dim=-1).to(allowed)
        spread_out = spread_total > bound
        rough = largest(spread, target, spread_total - KEPT_SHARE * bound) & spread_out[target]
        missed = torch.where(unresolved, total, delta)
        unfinished = (missed > allowed) | spread_out | short
        room = torch.where(unfinished, (max_steps - steps) // STEPS_PER_SPLIT, 0)
        share = kept * allowed[target] * (segments.high - segments.low).to(allowed)
        done = (room[target] == 0) | ((errors <= share) & ~short[target] & ~rough)
        values.index_add_(0, target[done], pieces[done])
        settled.index_add_(0, target[done], errors[done])
        settled_delta.index_add_(0, target[done], signed[done])
        settled_spread.index_add_(0, target[done], spread[done])
        if done.all():
            break
        wanted = ~done
        if largest_first:
            wanted &= short[target] | rough | largest(torch.where(done, -1.0, errors), target, missed - kept * allowed)
        split = within_budget(wanted, errors, target, room)
        steps.index_add_(0, target[split], torch.full_like(target[split], STEPS_PER_SPLIT))
        segments = segments.where(~done & ~split).join(halves(point, problem, ends, segments.where(split), **path_options))
    return Attributions.bounded(values.view(batch, n_targets, *ends.end.shape[1:]), ends, steps.view(batch, n_targets))
