"""The base class of attribution backends and what they return."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar

import torch

from attrix.engine import convergence_delta, endpoint_scores
from attrix.points import Point
from attrix.problem import Problem


@dataclass
class Attributions:
    """Raw attributions of a problem, ``[batch, n_targets, ...]``, with the scores that bound them."""

    values: torch.Tensor
    scores: torch.Tensor
    baseline_scores: torch.Tensor
    delta: torch.Tensor

    @classmethod
    def measured(
        cls, values: torch.Tensor, point: Point, problem: Problem, end: torch.Tensor, start: torch.Tensor
    ) -> "Attributions":
        """Attributions with f(x), f(baseline) and the convergence delta measured at ``point``."""
        scores, baseline_scores = endpoint_scores(point, problem, end, start)
        return cls(values.detach(), scores, baseline_scores, convergence_delta(values.detach(), scores, baseline_scores))


class Backend(ABC):
    """An attribution method: turns a ``Problem`` into ``Attributions`` for all its targets at once.

    Options are keyword-only constructor arguments; ``settings()`` reports them.
    """

    name: ClassVar[str]

    def settings(self) -> dict[str, Any]:
        """The options this backend runs with, recorded in every explanation."""
        return dict(vars(self))

    @abstractmethod
    def attribute(self, problem: Problem) -> Attributions:
        """Attributions for every target of ``problem``."""
