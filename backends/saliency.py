"""``saliency``: the gradient of each target's score with respect to the model's continuous input."""

from __future__ import annotations

import torch

from attrix.backends.gradient import GradientBackend
from attrix.contracts.backend import Attributions
from attrix.contracts.hookspecs import hookimpl
from attrix.contracts.points import Endpoints
from attrix.contracts.problem import Problem
from attrix.integration.path import sample_gradients
from attrix.integration.points import InputPoint


class SaliencyBackend(GradientBackend):
    """The gradient on input embeddings or pixels (captum's Saliency), its absolute value with ``abs=True``: one
    forward pass for every target, and a backward pass per target.

    Its convergence delta measures how far the scores miss f(x) − f(baseline); a gradient is not meant to add up to
    that difference, so the delta is only a measurement.
    """

    name = "saliency"

    def __init__(self, *, abs: bool = True) -> None:
        self.abs = abs

    def point(self, problem: Problem) -> InputPoint:
        return InputPoint()

    def integrate(self, problem: Problem, point: InputPoint, ends: Endpoints) -> Attributions:
        values = ends.end.new_zeros((problem.batch_size, problem.n_targets, *ends.end.shape[1:]))
        for _, target, grad in sample_gradients(point, problem, ends.end.unsqueeze(0)):
            values[:, target] = self.magnitude(grad[0])
        return Attributions.bounded(values, ends)

    def magnitude(self, grad: torch.Tensor) -> torch.Tensor:
        """The gradient as reported: its absolute value with ``abs=True``, else signed."""
        return grad.abs() if self.abs else grad


@hookimpl
def register_backends(register):
    register(SaliencyBackend)
