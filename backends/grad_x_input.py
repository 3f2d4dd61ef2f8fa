"""``grad_x_input``: gradient times input on the model's continuous input."""

from __future__ import annotations

import torch

from attrix.backends.gradient import GradientBackend
from attrix.contracts.backend import Attributions
from attrix.contracts.hookspecs import hookimpl
from attrix.contracts.points import Endpoints
from attrix.contracts.problem import Problem
from attrix.integration.path import path_attributions
from attrix.integration.points import InputPoint


class GradientXInput(GradientBackend):
    """Gradient times input on input embeddings or pixels (captum's InputXGradient): one pass, no steps.

    Its convergence delta measures how far the scores miss f(x) − f(baseline); no guarantee bounds it.
    """

    name = "grad_x_input"

    def point(self, problem: Problem) -> InputPoint:
        return InputPoint()

    def integrate(self, problem: Problem, point: InputPoint, ends: Endpoints) -> Attributions:
        return Attributions.bounded(path_attributions(point, problem, ends.end, torch.zeros_like(ends.end), [1.0], [1.0]), ends)


@hookimpl
def register_backends(register):
    register(GradientXInput)
