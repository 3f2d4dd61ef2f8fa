"""The shared-forward path: every target of a problem from one forward pass per chunk of steps."""

from __future__ import annotations

from typing import Sequence

import torch

from attrix.points import Point
from attrix.problem import Problem, repeat_inputs


def steps_per_chunk(n_steps: int, batch_size: int, internal_batch_size: int | None) -> int:
    """How many integration steps go into one forward pass, as captum chunks them."""
    if internal_batch_size is None:
        return n_steps
    return max(1, internal_batch_size // batch_size)


def path_attributions(
    point: Point,
    problem: Problem,
    end: torch.Tensor,
    start: torch.Tensor,
    alphas: Sequence[float],
    weights: Sequence[float],
    internal_batch_size: int | None = None,
) -> torch.Tensor:
    """``(end - start) * Σ_i w_i ∇F_t(start + α_i (end - start))`` for every target t: ``[batch, n_targets, ...]``.

    The points of a chunk of steps share one forward pass; each target then takes one backward
    pass through the same graph, so nothing is re-run per target.
    """
    batch, n_targets = problem.batch_size, problem.n_targets
    shape = end.shape[1:]
    total = end.new_zeros((n_targets, batch, *shape))
    chunk = steps_per_chunk(len(alphas), batch, internal_batch_size)
    broadcast = (-1, *([1] * end.dim()))
    for first in range(0, len(alphas), chunk):
        alpha = torch.tensor(alphas[first : first + chunk], dtype=end.dtype, device=end.device)
        weight = torch.tensor(weights[first : first + chunk], dtype=end.dtype, device=end.device)
        steps = len(alpha)
        path = (start + alpha.view(broadcast) * (end - start)).reshape(steps * batch, *shape)
        path.requires_grad_(True)
        inputs = repeat_inputs(problem.inputs, steps)
        scores = problem.scores(point.run(problem, inputs, path), steps)
        for target in range(n_targets):
            (grad,) = torch.autograd.grad(
                scores[:, target].sum(), path, retain_graph=target < n_targets - 1
            )
            total[target] += (grad.view(steps, batch, *shape) * weight.view(broadcast)).sum(0)
    return (end - start).unsqueeze(0).mul(total).transpose(0, 1)


def endpoint_scores(
    point: Point, problem: Problem, end: torch.Tensor, start: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """The explained scores with the point at ``end`` and at ``start``, each ``[batch, n_targets]``, in one pass."""
    with torch.no_grad():
        inputs = repeat_inputs(problem.inputs, 2)
        scores = problem.scores(point.run(problem, inputs, torch.cat([end, start])), 2)
    return scores.split(problem.batch_size)


def convergence_delta(attributions: torch.Tensor, end_scores: torch.Tensor, start_scores: torch.Tensor) -> torch.Tensor:
    """How far the attributions' sum misses ``f(end) - f(start)``: ``[batch, n_targets]``."""
    return attributions.flatten(2).sum(-1) - (end_scores - start_scores)
