"""The base class of attribution backends and what they return."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import torch

from attrix.contracts.options import CheckedOptions
from attrix.contracts.points import Endpoints, Point, endpoint_scores
from attrix.contracts.problem import Problem


def convergence_delta(attributions: torch.Tensor, end_scores: torch.Tensor, start_scores: torch.Tensor) -> torch.Tensor:
    """How far the attributions' sum misses ``f(end) - f(start)``: ``[batch, n_targets]``."""
    return attributions.flatten(2).sum(-1) - (end_scores - start_scores)


@dataclass
class Attributions:
    """Raw attributions of a problem, ``[batch, n_targets, ...]``, with the scores that bound them."""

    values: torch.Tensor
    scores: torch.Tensor
    baseline_scores: torch.Tensor
    delta: torch.Tensor
    steps: torch.Tensor | None = None
    """The integration steps each target took, ``[batch, n_targets]``, when the backend chose them (``n_steps="auto"``)."""

    @classmethod
    def measured(
        cls, values: torch.Tensor, point: Point, problem: Problem, end: torch.Tensor, start: torch.Tensor
    ) -> Attributions:
        """Attributions with f(x), f(baseline) and the convergence delta measured at ``point``."""
        return cls.bounded(values, Endpoints(end, start, *endpoint_scores(point, problem, end, start)))

    @classmethod
    def bounded(cls, values: torch.Tensor, ends: Endpoints, steps: torch.Tensor | None = None) -> Attributions:
        """Attributions with the scores ``ends`` already holds, and their convergence delta."""
        values = values.detach()
        return cls(values, ends.scores, ends.baseline_scores, convergence_delta(values, ends.scores, ends.baseline_scores), steps)

    def settings_of(self, rows: Sequence[int]) -> dict[str, Any]:
        """What an explanation made of problem rows ``rows`` records beside the options: the steps its targets took."""
        if self.steps is None or not rows:
            return {}
        return {"steps_used": int(self.steps[list(rows)].max())}


class Backend(CheckedOptions, ABC):
    """An attribution method: turns a ``Problem`` into ``Attributions`` for all its targets at once.

    Options are keyword-only constructor arguments; ``settings()`` reports them.
    """

    plugin_kind: ClassVar[str] = "backend"
    name: ClassVar[str]
    follows_gradients: ClassVar[bool] = False
    """Whether the method follows the model's gradients, rather than running the model with features removed."""

    def settings(self) -> dict[str, Any]:
        """The options this backend runs with, recorded in every explanation."""
        return dict(vars(self))

    def completeness_tolerance(self) -> float | None:
        """The relative completeness error |delta| / |f(x) − f(baseline)| a target may have and still count as
        converged; None (the default) for methods whose attributions need not sum to f(x) − f(baseline)."""
        return None

    @abstractmethod
    def attribute(self, problem: Problem) -> Attributions:
        """Attributions for every target of ``problem``."""
