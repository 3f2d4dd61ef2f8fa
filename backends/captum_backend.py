"""The shape every built-in backend shares: captum's class for one target, the engine for several."""

from __future__ import annotations

from abc import abstractmethod

import torch

from attrix.backend import Attributions, Backend
from attrix.points import Point
from attrix.problem import Problem


class CaptumBackend(Backend):
    """Runs captum's class when each input has one target, the engine's shared forward when it has several."""

    @abstractmethod
    def point(self, problem: Problem) -> Point:
        """Where this method attributes."""

    @abstractmethod
    def captum(self, problem: Problem, point: Point, end: torch.Tensor, start: torch.Tensor, targets: list[int]) -> torch.Tensor:
        """captum's attributions toward one target per input: ``[batch, ...]``."""

    @abstractmethod
    def shared(self, problem: Problem, point: Point, end: torch.Tensor, start: torch.Tensor) -> torch.Tensor:
        """Attributions toward every target from shared forward passes: ``[batch, n_targets, ...]``."""

    def attribute(self, problem: Problem) -> Attributions:
        point = self.point(problem)
        end, start = point.values(problem)
        if problem.n_targets == 1:
            values = self.captum(problem, point, end, start, problem.targets[:, 0].tolist()).unsqueeze(1)
        else:
            values = self.shared(problem, point, end, start)
        return Attributions.measured(values, point, problem, end, start)
