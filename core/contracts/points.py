"""What a backend attributes at: the ``Point`` protocol (a place in the model with a value at the inputs and at
the baselines), its ``Endpoints``, and the explained scores at both ends."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import torch

from attrix.contracts.problem import Inputs, Problem, repeat_inputs


@dataclass(frozen=True)
class Endpoints:
    """A point's value at the inputs (``end``) and at the baselines (``start``), and the explained scores at each
    (``baseline_scores`` is None where adaptive steps take them from their first points)."""

    end: torch.Tensor
    start: torch.Tensor
    scores: torch.Tensor
    baseline_scores: torch.Tensor | None


class Point(Protocol):
    """A place attributions are taken: its values at input and baseline, and a forward through it."""

    def values(self, problem: Problem) -> tuple[torch.Tensor, torch.Tensor]:
        """The point's value at the inputs and at the baselines, each ``[batch, ...]``."""

    def run(self, problem: Problem, inputs: Inputs, value: torch.Tensor) -> torch.Tensor:
        """The forward outputs for ``inputs`` with the point's value set to ``value``."""


def endpoint_scores(
    point: Point, problem: Problem, end: torch.Tensor, start: torch.Tensor, baseline: bool = True
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """The explained scores with the point at ``end`` and at ``start`` (the rest of the inputs as they are), each
    ``[batch, n_targets]``: f(x) from the task's prediction when the problem carries one, so that only ``start`` is
    run, else both in one pass; without ``baseline``, no scores at ``start`` (None)."""
    with torch.no_grad():
        if problem.prediction is not None:
            scores = problem.scores(problem.prediction.outputs)
            return scores, problem.scores(point.run(problem, problem.inputs, start)) if baseline else None
        if not baseline:
            return problem.scores(point.run(problem, problem.inputs, end)), None
        scores = problem.scores(point.run(problem, repeat_inputs(problem.inputs, 2), torch.cat([end, start])), 2)
    return scores.split(problem.batch_size)
