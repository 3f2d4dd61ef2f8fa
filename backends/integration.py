"""What the integrated-gradients backends share: their options and the shared-forward path."""

from __future__ import annotations

import torch
from captum.attr._utils.approximation_methods import SUPPORTED_METHODS, approximation_parameters

from attrix.backends.captum_backend import CaptumBackend
from attrix.engine import path_attributions
from attrix.errors import InputError, UnknownNameError
from attrix.points import Point
from attrix.problem import Problem


def integration_steps(method: str, n_steps: int) -> tuple[list[float], list[float]]:
    """captum's points and weights for ``n_steps`` of ``method`` (``gausslegendre``, ``riemann_trapezoid``, ...)."""
    step_sizes, alphas = approximation_parameters(method)
    return list(alphas(n_steps)), list(step_sizes(n_steps))


class PathIntegralBackend(CaptumBackend):
    """Integrated gradients from the baseline to the input, at some point of the model."""

    def __init__(self, *, n_steps: int = 50, method: str = "gausslegendre", internal_batch_size: int | None = None) -> None:
        if method not in SUPPORTED_METHODS:
            raise UnknownNameError("integration method", method, SUPPORTED_METHODS)
        if not isinstance(n_steps, int) or isinstance(n_steps, bool) or n_steps < 1:
            raise InputError(f"n_steps must be a positive integer, got {n_steps!r}")
        if internal_batch_size is not None and (not isinstance(internal_batch_size, int) or internal_batch_size < 1):
            raise InputError(f"internal_batch_size must be a positive integer or None, got {internal_batch_size!r}")
        self.n_steps, self.method, self.internal_batch_size = n_steps, method, internal_batch_size

    def shared(self, problem: Problem, point: Point, end: torch.Tensor, start: torch.Tensor) -> torch.Tensor:
        alphas, weights = integration_steps(self.method, self.n_steps)
        return path_attributions(point, problem, end, start, alphas, weights, self.internal_batch_size)
