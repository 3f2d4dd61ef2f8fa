"""``ig``: integrated gradients on the model's continuous input (input embeddings or pixels), optionally smoothed."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal

import torch
from annotated_types import Ge, Gt
from captum.attr import IntegratedGradients, NoiseTunnel

from attrix.backends.path_integral import PathIntegralBackend
from attrix.backends.sampled_gradient import Seed, seeded
from attrix.contracts.backend import Attributions
from attrix.contracts.hookspecs import hookimpl
from attrix.contracts.points import Endpoints
from attrix.contracts.problem import Problem
from attrix.integration.points import InputPoint

NOISE_TUNNEL_OPTIONS = ("noise_tunnel", "nt_samples", "nt_stdevs", "seed")
NOISE_TUNNEL_STEPS = 50
"""The steps each noisy copy is integrated with when ``n_steps`` is not given (adaptive steps cannot run inside a
noise tunnel)."""


class IntegratedGradientsBackend(PathIntegralBackend):
    """Integrated gradients on input embeddings or pixels (captum's IntegratedGradients).

    ``noise_tunnel="smoothgrad" | "smoothgrad_sq" | "vargrad"`` wraps it in captum's NoiseTunnel: ``nt_samples``
    noisy copies of each input (Gaussian noise of standard deviation ``nt_stdevs``, in the units of the embeddings
    or ``pixel_values``), their attributions averaged (or squared and averaged, or their variance). Each target is
    then one NoiseTunnel call of its own, in order, each drawing its own noise from torch's global generator, or,
    given a ``seed``, each drawing the same noise from a generator seeded with it (torch's global one is left as it
    was); the convergence delta still measures the sum against f(x) − f(baseline), which smoothing does not preserve.
    """

    name = "ig"

    def __init__(
        self,
        *,
        noise_tunnel: Literal["smoothgrad", "smoothgrad_sq", "vargrad"] | None = None,
        nt_samples: Annotated[int, Ge(1)] = 5,
        nt_stdevs: Annotated[float, Gt(0)] = 1.0,
        seed: Seed | None = None,
        **options: Any,
    ) -> None:
        if noise_tunnel is not None:
            options.setdefault("n_steps", NOISE_TUNNEL_STEPS)
        super().__init__(**options)
        self.noise_tunnel, self.nt_samples, self.nt_stdevs, self.seed = noise_tunnel, nt_samples, float(nt_stdevs), seed

    @classmethod
    def validate_options(cls, options: Mapping[str, Any]) -> None:
        """The path's rules, and: adaptive steps cannot run inside a noise tunnel, which integrates each noisy copy on
        its own."""
        super().validate_options(options)
        if options.get("noise_tunnel") is not None and options.get("n_steps") == "auto":
            raise ValueError('n_steps="auto" cannot be used with a noise tunnel; give a number of steps')

    def settings(self) -> dict[str, Any]:
        """The options in force; the noise-tunnel ones only when it is on."""
        settings = super().settings()
        if self.noise_tunnel is None:
            for key in NOISE_TUNNEL_OPTIONS:
                del settings[key]
        return settings

    def completeness_tolerance(self) -> float | None:
        """None with a noise tunnel: smoothing does not keep the sum at f(x) − f(baseline)."""
        return None if self.noise_tunnel is not None else super().completeness_tolerance()

    def point(self, problem: Problem) -> InputPoint:
        return InputPoint()

    def integrate(self, problem: Problem, point: InputPoint, ends: Endpoints) -> Attributions:
        """The shared-forward path's integrated gradients, or with a noise tunnel captum's NoiseTunnel, one call per target."""
        if self.noise_tunnel is None:
            return super().integrate(problem, point, ends)
        columns = [self.smoothed(problem, point, ends, problem.targets[:, column].tolist()) for column in range(problem.n_targets)]
        return Attributions.bounded(torch.stack(columns, dim=1), ends)

    def smoothed(self, problem: Problem, point: InputPoint, ends: Endpoints, targets: list[int]) -> torch.Tensor:
        """captum's NoiseTunnel around IntegratedGradients toward one target per input: ``[batch, ...]``."""
        forward, rest = point.captum_forward(problem)
        with seeded(self.seed, ends.end.device):
            return NoiseTunnel(IntegratedGradients(forward)).attribute(
                ends.end,
                nt_type=self.noise_tunnel,
                nt_samples=self.nt_samples,
                stdevs=self.nt_stdevs,
                baselines=ends.start,
                target=targets,
                additional_forward_args=rest,
                n_steps=self.n_steps,
                method=self.method,
                internal_batch_size=self.internal_batch_size,
            )


@hookimpl
def register_backends(register):
    register(IntegratedGradientsBackend)
