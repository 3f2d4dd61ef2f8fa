"""The shape the gradient backends share: a point of the model to attribute at, and every target from the shared-forward path at once."""

from __future__ import annotations

from abc import abstractmethod

from attrix.contracts.backend import Attributions, Backend
from attrix.contracts.points import Endpoints, Point
from attrix.contracts.problem import Problem
from attrix.integration.points import endpoints


class GradientBackend(Backend):
    """A gradient method run on the shared-forward path (attrix.integration): one forward pass per chunk of steps serves every target, and f(x),
    f(baseline) and the point's values come from the passes the task and the path already need (the results
    equal captum's class run target by target, as tests/backend_plugins/test_backends.py checks)."""

    follows_gradients = True

    @abstractmethod
    def point(self, problem: Problem) -> Point:
        """Where this method attributes."""

    @abstractmethod
    def integrate(self, problem: Problem, point: Point, ends: Endpoints) -> Attributions:
        """Attributions toward every target, given the point's values and the scores at both ends."""

    def needs_baseline_scores(self) -> bool:
        """Whether ``integrate`` needs f(baseline) run for it (it may take them from passes it runs anyway)."""
        return True

    def attribute(self, problem: Problem) -> Attributions:
        point = self.point(problem)
        return self.integrate(problem, point, endpoints(point, problem, self.needs_baseline_scores()))
