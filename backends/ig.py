"""``ig``: integrated gradients on the model's continuous input (input embeddings or pixels)."""

from __future__ import annotations

from captum.attr import IntegratedGradients

from attrix.backend import Attributions, Backend
from attrix.backends.integration import check_integration_options, integration_steps
from attrix.engine import path_attributions
from attrix.hookspecs import hookimpl
from attrix.points import InputPoint
from attrix.problem import Problem


class IntegratedGradientsBackend(Backend):
    """Integrated gradients on input embeddings or pixels (captum's IntegratedGradients)."""

    name = "ig"

    def __init__(self, *, n_steps: int = 50, method: str = "gausslegendre", internal_batch_size: int | None = None) -> None:
        check_integration_options(method, n_steps, internal_batch_size)
        self.n_steps, self.method, self.internal_batch_size = n_steps, method, internal_batch_size

    def attribute(self, problem: Problem) -> Attributions:
        point = InputPoint()
        end, start = point.values(problem)
        if problem.n_targets == 1:
            forward, rest = point.captum_forward(problem)
            values = IntegratedGradients(forward).attribute(
                end,
                baselines=start,
                target=problem.targets[:, 0].tolist(),
                additional_forward_args=rest,
                n_steps=self.n_steps,
                method=self.method,
                internal_batch_size=self.internal_batch_size,
            ).unsqueeze(1)
        else:
            alphas, weights = integration_steps(self.method, self.n_steps)
            values = path_attributions(point, problem, end, start, alphas, weights, self.internal_batch_size)
        return Attributions.measured(values, point, problem, end, start)


@hookimpl
def register_backends(register):
    register(IntegratedGradientsBackend)
