"""``ig``: integrated gradients on the model's continuous input (input embeddings or pixels)."""

from __future__ import annotations

import torch
from captum.attr import IntegratedGradients

from attrix.backends.integration import PathIntegralBackend
from attrix.hookspecs import hookimpl
from attrix.points import InputPoint
from attrix.problem import Problem


class IntegratedGradientsBackend(PathIntegralBackend):
    """Integrated gradients on input embeddings or pixels (captum's IntegratedGradients)."""

    name = "ig"

    def point(self, problem: Problem) -> InputPoint:
        return InputPoint()

    def captum(self, problem: Problem, point: InputPoint, end: torch.Tensor, start: torch.Tensor, targets: list[int]) -> torch.Tensor:
        forward, rest = point.captum_forward(problem)
        return IntegratedGradients(forward).attribute(
            end,
            baselines=start,
            target=targets,
            additional_forward_args=rest,
            n_steps=self.n_steps,
            method=self.method,
            internal_batch_size=self.internal_batch_size,
        )


@hookimpl
def register_backends(register):
    register(IntegratedGradientsBackend)
