"""The shared-forward path: every target of a problem from one forward pass per chunk of steps."""

from __future__ import annotations

from contextlib import contextmanager, nullcontext
from typing import ContextManager, Iterator, Sequence

import torch
from captum.attr._utils.approximation_methods import approximation_parameters

from attrix.points import Point
from attrix.problem import Problem, repeat_inputs


def integration_steps(method: str, n_steps: int) -> tuple[list[float], list[float]]:
    """captum's points and weights for ``n_steps`` of ``method`` (``gausslegendre``, ``riemann_trapezoid``, ...)."""
    step_sizes, alphas = approximation_parameters(method)
    return list(alphas(n_steps)), list(step_sizes(n_steps))


def steps_per_chunk(n_steps: int, batch_size: int, internal_batch_size: int | None) -> int:
    """How many integration steps go into one forward pass, as captum chunks them."""
    if internal_batch_size is None:
        return n_steps
    return max(1, internal_batch_size // batch_size)


@contextmanager
def saved_bytes(rows: int) -> Iterator[list[int]]:
    """Count the bytes autograd keeps for the backward pass in the block, over tensors with one entry per row."""
    total = [0]

    def pack(tensor: torch.Tensor) -> torch.Tensor:
        if tensor.dim() and tensor.shape[0] == rows:
            total[0] += tensor.numel() * tensor.element_size()
        return tensor

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor):
        yield total


def path_attributions(
    point: Point,
    problem: Problem,
    end: torch.Tensor,
    start: torch.Tensor,
    alphas: Sequence[float],
    weights: Sequence[float],
    internal_batch_size: int | None = None,
    precision: ContextManager[object] | None = None,
    memory_budget: int | None = None,
) -> torch.Tensor:
    """``(end - start) * Σ_i w_i ∇F_t(start + α_i (end - start))`` for every target t: ``[batch, n_targets, ...]``.

    The points of a chunk of steps share one forward pass (run under ``precision``, an autocast context, if
    given); each target then takes one backward pass through the same graph, so nothing is re-run per target.
    Chunks hold ``internal_batch_size`` rows; without it, all steps at once, or with ``memory_budget`` (bytes)
    a first chunk of one step measures what a row keeps for the backward pass and sizes the others to fit.
    """
    batch, n_targets = problem.batch_size, problem.n_targets
    shape = end.shape[1:]
    total = end.new_zeros((n_targets, batch, *shape))
    broadcast = (-1, *([1] * end.dim()))
    measure = internal_batch_size is None and memory_budget is not None and len(alphas) > 1
    chunk = 1 if measure else steps_per_chunk(len(alphas), batch, internal_batch_size)
    first = 0
    while first < len(alphas):
        alpha = torch.tensor(alphas[first : first + chunk], dtype=end.dtype, device=end.device)
        weight = torch.tensor(weights[first : first + chunk], dtype=end.dtype, device=end.device)
        steps = len(alpha)
        path = (start + alpha.view(broadcast) * (end - start)).reshape(steps * batch, *shape)
        path.requires_grad_(True)
        inputs = repeat_inputs(problem.inputs, steps)
        with precision or nullcontext(), saved_bytes(steps * batch) if measure else nullcontext([0]) as kept:
            scores = problem.scores(point.run(problem, inputs, path), steps)
        for target in range(n_targets):
            (grad,) = torch.autograd.grad(scores[:, target].sum(), path, retain_graph=target < n_targets - 1)
            total[target] += (grad.to(end.dtype).view(steps, batch, *shape) * weight.view(broadcast)).sum(0)
        first += steps
        if measure:
            chunk, measure = max(1, memory_budget // max(1, kept[0])), False
    return (end - start).unsqueeze(0).mul(total).transpose(0, 1)


def point_gradients(
    point: Point,
    problem: Problem,
    end: torch.Tensor,
    start: torch.Tensor,
    rows: torch.Tensor,
    columns: torch.Tensor,
    alphas: torch.Tensor,
    weights: torch.Tensor,
    internal_batch_size: int | None = None,
    precision: ContextManager[object] | None = None,
    memory_budget: int | None = None,
) -> torch.Tensor:
    """``w_i ∇F_t(start + α_i (end - start))`` for evaluations i, each at its own input row, target column, point and
    weight: ``[n, ...]``. The evaluations are independent rows of one batch, so one backward pass serves a chunk;
    chunks are sized as in ``path_attributions``."""
    shape = end.shape[1:]
    found = end.new_zeros((len(rows), *shape))
    broadcast = (-1, *([1] * len(shape)))
    measure = internal_batch_size is None and memory_budget is not None and len(rows) > 1
    chunk = 1 if measure else internal_batch_size or len(rows)
    first = 0
    while first < len(rows):
        part = slice(first, first + chunk)
        row = rows[part]
        path = start[row] + alphas[part].to(end.dtype).view(broadcast) * (end[row] - start[row])
        path.requires_grad_(True)
        inputs = {key: value[row] for key, value in problem.inputs.items()}
        with precision or nullcontext(), saved_bytes(len(row)) if measure else nullcontext([0]) as kept:
            outputs = point.run(problem, inputs, path)
        scores = outputs.gather(1, problem.targets[row, columns[part]].unsqueeze(1))
        (grad,) = torch.autograd.grad(scores.sum(), path)
        found[part] = grad.to(end.dtype) * weights[part].to(end.dtype).view(broadcast)
        first += len(row)
        if measure:
            chunk, measure = max(1, memory_budget // max(1, kept[0])), False
    return found


def path_scores(point: Point, problem: Problem, end: torch.Tensor, start: torch.Tensor, rows: torch.Tensor, alphas: torch.Tensor) -> torch.Tensor:
    """The explained scores of every target at ``start + α_i (end - start)`` of input row ``rows[i]``, without
    gradients: ``[n, n_targets]``."""
    broadcast = (-1, *([1] * (end.dim() - 1)))
    with torch.no_grad():
        path = start[rows] + alphas.to(end.dtype).view(broadcast) * (end[rows] - start[rows])
        outputs = point.run(problem, {key: value[rows] for key, value in problem.inputs.items()}, path)
    return outputs.gather(1, problem.targets[rows])


def convergence_delta(attributions: torch.Tensor, end_scores: torch.Tensor, start_scores: torch.Tensor) -> torch.Tensor:
    """How far the attributions' sum misses ``f(end) - f(start)``: ``[batch, n_targets]``."""
    return attributions.flatten(2).sum(-1) - (end_scores - start_scores)
