"""The shared-forward path: every target of a problem from one forward pass per chunk of steps."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import nullcontext
from typing import ContextManager

import torch

from attrix.contracts.points import Point
from attrix.contracts.problem import Problem, repeat_inputs
from attrix.integration.chunking import Chunking, counted


def path_chunks(
    point: Point,
    problem: Problem,
    end: torch.Tensor,
    start: torch.Tensor,
    alphas: Sequence[float],
    chunking: Chunking | None = None,
    precision: ContextManager[object] | None = None,
) -> Iterator[tuple[slice, torch.Tensor, torch.Tensor]]:
    """The points ``start + α (end - start)`` of every input, chunk by chunk: which alphas, the chunk's path
    (``[steps * batch, ...]``, requiring gradients) and its scores (``[steps * batch, n_targets]``), from one
    forward pass (run under ``precision``, an autocast context, if given).

    ``chunking`` cuts the steps into chunks (all at once without it).
    """
    batch, shape = problem.batch_size, end.shape[1:]
    broadcast = (-1, *([1] * end.dim()))
    for part, kept in (chunking or Chunking()).chunks(len(alphas), batch):
        alpha = torch.tensor(alphas[part], dtype=end.dtype, device=end.device)
        steps = len(alpha)
        path = (start + alpha.view(broadcast) * (end - start)).reshape(steps * batch, *shape)
        path.requires_grad_(True)
        inputs = repeat_inputs(problem.inputs, steps)
        with precision or nullcontext(), counted(steps * batch, kept):
            scores = problem.scores(point.run(problem, inputs, path), steps)
        yield part, path, scores


def target_gradients(path: torch.Tensor, scores: torch.Tensor) -> Iterator[tuple[int, torch.Tensor]]:
    """Each target's gradient of its summed scores with respect to ``path``, one backward pass each through the
    same graph."""
    n_targets = scores.shape[1]
    for target in range(n_targets):
        (grad,) = torch.autograd.grad(scores[:, target].sum(), path, retain_graph=target < n_targets - 1)
        yield target, grad


def path_attributions(
    point: Point,
    problem: Problem,
    end: torch.Tensor,
    start: torch.Tensor,
    alphas: Sequence[float],
    weights: Sequence[float],
    chunking: Chunking | None = None,
    precision: ContextManager[object] | None = None,
) -> torch.Tensor:
    """``(end - start) * Σ_i w_i ∇F_t(start + α_i (end - start))`` for every target t: ``[batch, n_targets, ...]``.

    The points of a chunk share one forward pass and each target takes one backward pass through it, so nothing
    is re-run per target (chunks as in ``path_chunks``).
    """
    batch, shape = problem.batch_size, end.shape[1:]
    total = end.new_zeros((problem.n_targets, batch, *shape))
    broadcast = (-1, *([1] * end.dim()))
    weight = torch.tensor(weights, dtype=end.dtype, device=end.device)
    for part, path, scores in path_chunks(point, problem, end, start, alphas, chunking, precision):
        for target, grad in target_gradients(path, scores):
            total[target] += (grad.to(end.dtype).view(-1, batch, *shape) * weight[part].view(broadcast)).sum(0)
    return (end - start).unsqueeze(0).mul(total).transpose(0, 1)


def distinct_points(rows: torch.Tensor, alphas: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """The distinct points (input row, α) among evaluations, those wanted by the most evaluations first (their
    rows and alphas), and for each evaluation the index of its point and its rank among that point's evaluations."""
    points, of = torch.unique(torch.stack([rows.to(alphas.dtype), alphas], 1), dim=0, return_inverse=True)
    wanted = torch.bincount(of, minlength=len(points))
    busiest = torch.argsort(wanted, descending=True, stable=True)
    renumbered = torch.empty_like(busiest)
    renumbered[busiest] = torch.arange(len(busiest), device=busiest.device)
    of, wanted = renumbered[of], wanted[busiest]
    by_point = torch.argsort(of, stable=True)
    rank = torch.empty_like(of)
    rank[by_point] = torch.arange(len(of), device=of.device) - (torch.cumsum(wanted, 0) - wanted)[of[by_point]]
    return points[busiest, 0].long(), points[busiest, 1], of, rank


def point_gradients(
    point: Point,
    problem: Problem,
    end: torch.Tensor,
    start: torch.Tensor,
    rows: torch.Tensor,
    columns: torch.Tensor,
    alphas: torch.Tensor,
    chunking: Chunking | None = None,
    precision: ContextManager[object] | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """``(end - start) ∇F_t`` at ``start + α_i (end - start)`` for evaluations i, each at its own input row and
    target column (``[n, ...]``), and the score F_t there (``[n]``).

    Evaluations at the same point of the same input share its forward pass: the distinct points are the rows of a
    batch, and the k-th backward pass through a chunk takes the k-th target of every point in it (as independent
    rows, one summed score). Points wanting the most targets are chunked together, so few rows sit idle in a
    backward pass, and a chunk ends where its idle rows would pass the padding allowance (attrix.integration.chunking)."""
    shape = end.shape[1:]
    found = end.new_zeros((len(rows), *shape))
    at = end.new_zeros(len(rows))
    broadcast = (-1, *([1] * len(shape)))
    difference = end - start
    point_rows, point_alphas, of, rank = distinct_points(rows, alphas)
    wanted = torch.bincount(of, minlength=len(point_rows)).tolist()
    for part, kept in (chunking or Chunking()).chunks(len(point_rows), work=wanted):
        row = point_rows[part]
        path = start[row] + point_alphas[part].to(end.dtype).view(broadcast) * difference[row]
        path.requires_grad_(True)
        inputs = {key: value[row] for key, value in problem.inputs.items()}
        with precision or nullcontext(), counted(len(row), kept):
            outputs = point.run(problem, inputs, path)
        in_chunk = (of >= part.start) & (of < part.stop)
        passes = int(rank[in_chunk].max()) + 1
        for k in range(passes):
            (evaluations,) = torch.nonzero(in_chunk & (rank == k), as_tuple=True)
            local = of[evaluations] - part.start
            scores = outputs[local, problem.targets[rows[evaluations], columns[evaluations]]]
            (grad,) = torch.autograd.grad(scores.sum(), path, retain_graph=k < passes - 1)
            found[evaluations] = grad[local].to(end.dtype) * difference[rows[evaluations]]
            at[evaluations] = scores.detach().to(end.dtype)
    return found, at


def sample_gradients(
    point: Point, problem: Problem, samples: torch.Tensor, chunking: Chunking | None = None
) -> Iterator[tuple[slice, int, torch.Tensor]]:
    """Each target's gradient at the points ``samples`` (``[n, batch, ...]``: n points of every input), chunk by
    chunk: which samples, the target and its gradient (``[k, batch, ...]``).

    The points of a chunk share one forward pass and each target takes one backward pass through it (chunks as in
    ``path_chunks``)."""
    count, batch, shape = samples.shape[0], samples.shape[1], samples.shape[2:]
    for part, kept in (chunking or Chunking()).chunks(count, batch):
        steps = part.stop - part.start
        points = samples[part].reshape(steps * batch, *shape).detach().requires_grad_(True)
        with counted(steps * batch, kept):
            scores = problem.scores(point.run(problem, repeat_inputs(problem.inputs, steps), points), steps)
        for target, grad in target_gradients(points, scores):
            yield part, target, grad.view(steps, batch, *shape)
