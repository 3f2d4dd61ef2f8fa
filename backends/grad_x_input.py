"""``grad_x_input``: gradient times input on the model's continuous input."""

from __future__ import annotations

import torch
from captum.attr import InputXGradient

from attrix.backends.captum_backend import CaptumBackend
from attrix.engine import path_attributions
from attrix.hookspecs import hookimpl
from attrix.points import InputPoint
from attrix.problem import Problem


class GradientXInput(CaptumBackend):
    """Gradient times input on input embeddings or pixels (captum's InputXGradient): one pass, no steps.

    Its convergence delta measures how far the scores miss f(x) − f(baseline); no guarantee bounds it.
    """

    name = "grad_x_input"

    def point(self, problem: Problem) -> InputPoint:
        return InputPoint()

    def captum(self, problem: Problem, point: InputPoint, end: torch.Tensor, start: torch.Tensor, targets: list[int]) -> torch.Tensor:
        forward, rest = point.captum_forward(problem)
        return InputXGradient(forward).attribute(end.clone().requires_grad_(True), target=targets, additional_forward_args=rest)

    def shared(self, problem: Problem, point: InputPoint, end: torch.Tensor, start: torch.Tensor) -> torch.Tensor:
        return path_attributions(point, problem, end, torch.zeros_like(end), [1.0], [1.0])


@hookimpl
def register_backends(register):
    register(GradientXInput)
