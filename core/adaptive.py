"""``n_steps="auto"``: integration steps doubled, per input and target, until the completeness error is small."""

from __future__ import annotations

from typing import ContextManager

import torch

from attrix.engine import integration_steps, path_attributions
from attrix.points import Endpoints, Point
from attrix.problem import Problem

FIRST_STEPS = 8
NOISE_EPS = 4
"""A delta within this many float epsilons of the scores' size is rounding noise: it counts as converged, however
small the gap (f(x) − f(baseline) itself is only known to about one epsilon of the scores)."""


def step_schedule(max_steps: int) -> list[int]:
    """The step counts tried in turn: 8, 16, 32, ... up to ``max_steps``, which ends the schedule."""
    schedule = [FIRST_STEPS]
    while schedule[-1] * 2 < max_steps:
        schedule.append(schedule[-1] * 2)
    return [n for n in schedule if n < max_steps] + [max_steps]


def adaptive_attributions(
    point: Point,
    problem: Problem,
    ends: Endpoints,
    method: str,
    tolerance: float,
    max_steps: int,
    internal_batch_size: int | None = None,
    precision: ContextManager[object] | None = None,
    memory_budget: int | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Attributions ``[batch, n_targets, ...]`` and the steps each target took ``[batch, n_targets]``.

    Each round integrates the targets still pending with the next step count of ``step_schedule`` (one forward
    pass per chunk shared by a row's pending targets; rows with none pending drop out) and keeps a target's
    result once ``|delta| ≤ tolerance · |f(x) − f(baseline)|``; the last round's result stands for the rest.
    """
    end, start = ends.end, ends.start
    batch, n_targets, trailing = problem.batch_size, problem.n_targets, end.dim() - 1
    values = end.new_zeros((batch, n_targets, *end.shape[1:]))
    steps = torch.zeros((batch, n_targets), dtype=torch.long, device=end.device)
    gap = ends.scores - ends.baseline_scores
    noise = NOISE_EPS * torch.finfo(gap.dtype).eps * torch.maximum(ends.scores.abs(), ends.baseline_scores.abs())
    allowed = tolerance * gap.abs() + noise
    pending = torch.ones((batch, n_targets), dtype=torch.bool, device=end.device)
    for n_steps in step_schedule(max_steps):
        rows = pending.any(1).nonzero().flatten()
        columns = pending[rows].any(0).nonzero().flatten()
        r, c = rows[:, None], columns[None, :]
        alphas, weights = integration_steps(method, n_steps)
        found = path_attributions(
            point, problem.select(rows, columns), end[rows], start[rows], alphas, weights,
            internal_batch_size, precision, memory_budget,
        )
        take = pending[r, c]
        values[r, c] = torch.where(take.view(*take.shape, *[1] * trailing), found, values[r, c])
        steps[r, c] = torch.where(take, n_steps, steps[r, c])
        error = (found.flatten(2).sum(-1) - gap[r, c]).abs()
        pending[r, c] = take & (error > allowed[r, c])
        if not pending.any():
            break
    return values, steps
