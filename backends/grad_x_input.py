"""``grad_x_input``: gradient times input on the model's continuous input."""

from __future__ import annotations

import torch
from captum.attr import InputXGradient

from attrix.backend import Attributions, Backend
from attrix.engine import path_attributions
from attrix.hookspecs import hookimpl
from attrix.points import InputPoint
from attrix.problem import Problem


class GradientXInput(Backend):
    """Gradient times input on input embeddings or pixels (captum's InputXGradient): one pass, no steps.

    Its convergence delta measures how far the scores miss f(x) − f(baseline); no guarantee bounds it.
    """

    name = "grad_x_input"

    def attribute(self, problem: Problem) -> Attributions:
        point = InputPoint()
        end, start = point.values(problem)
        if problem.n_targets == 1:
            forward, rest = point.captum_forward(problem)
            values = InputXGradient(forward).attribute(
                end.clone().requires_grad_(True), target=problem.targets[:, 0].tolist(), additional_forward_args=rest
            ).unsqueeze(1)
        else:
            values = path_attributions(point, problem, end, torch.zeros_like(end), [1.0], [1.0])
        return Attributions.measured(values, point, problem, end, start)


@hookimpl
def register_backends(register):
    register(GradientXInput)
