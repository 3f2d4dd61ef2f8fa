"""``smoothgrad``: saliency averaged over noisy copies of the model's continuous input."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import torch
from annotated_types import Ge, Gt

from attrix.backends.sampled_gradient import SampledGradientBackend, noisy, seeded
from attrix.contracts.backend import Attributions
from attrix.contracts.hookspecs import hookimpl
from attrix.contracts.points import Endpoints
from attrix.contracts.problem import Problem
from attrix.integration.path import sample_gradients
from attrix.integration.points import InputPoint


class SmoothGradBackend(SampledGradientBackend):
    """captum's NoiseTunnel around Saliency, on input embeddings or pixels: the gradient (its absolute value with
    ``abs=True``) at ``nt_samples`` noisy copies of each input (Gaussian noise of standard deviation ``stdevs``, in
    the units of the embeddings or ``pixel_values``), averaged (``nt_type="smoothgrad"``), squared and averaged
    (``"smoothgrad_sq"``) or their variance (``"vargrad"``).

    The noise is drawn as captum draws it, from torch's generator seeded with ``seed``. Its convergence delta is only
    a measurement of how far the scores miss f(x) − f(baseline).
    """

    name = "smoothgrad"

    def __init__(
        self,
        *,
        abs: bool = True,
        nt_type: Literal["smoothgrad", "smoothgrad_sq", "vargrad"] = "smoothgrad",
        nt_samples: Annotated[int, Ge(1)] = 5,
        stdevs: Annotated[float, Gt(0)] = 1.0,
        **options: Any,
    ) -> None:
        self.abs, self.nt_type, self.nt_samples, self.stdevs = abs, nt_type, nt_samples, float(stdevs)
        super().__init__(**options)

    def integrate(self, problem: Problem, point: InputPoint, ends: Endpoints) -> Attributions:
        device = ends.end.device
        with seeded(self.seed, device):
            samples = noisy(ends.end, self.nt_samples, self.stdevs)
        total = ends.end.new_zeros((problem.batch_size, problem.n_targets, *ends.end.shape[1:]))
        squares = torch.zeros_like(total)
        for _, target, grad in sample_gradients(point, problem, samples, self.chunking(device)):
            found = grad.abs() if self.abs else grad
            total[:, target] += found.sum(0)
            squares[:, target] += found.square().sum(0)
        return Attributions.bounded(self.smoothed(total / self.nt_samples, squares / self.nt_samples), ends)

    def smoothed(self, mean: torch.Tensor, mean_square: torch.Tensor) -> torch.Tensor:
        """The samples' gradients reduced as ``nt_type`` says, from their mean and the mean of their squares."""
        if self.nt_type == "smoothgrad":
            return mean
        if self.nt_type == "smoothgrad_sq":
            return mean_square
        return mean_square - mean * mean


@hookimpl
def register_backends(register):
    register(SmoothGradBackend)
