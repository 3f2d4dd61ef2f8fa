"""``sensitivity_max``: how much the attributions change when the input moves a little."""

from __future__ import annotations

from typing import Annotated

import torch
from annotated_types import Ge
from captum.metrics import sensitivity_max

from attrix.contracts.backend import Backend
from attrix.contracts.hookspecs import hookimpl
from attrix.contracts.metric import FeatureScorer, Measured, Metric
from attrix.errors import InputError
from attrix.integration.perturbed import at_input
from attrix.integration.points import InputPoint
from attrix.integration.removal import RemovalScorer, per_feature

GRADIENT_BACKENDS = "layer_ig, ig, grad_x_input, saliency, smoothgrad, gradient_shap"
"""The built-in backends that follow gradients."""


class SensitivityMax(Metric):
    """Yeh et al. (2019)'s max-sensitivity, computed by ``captum.metrics.sensitivity_max``: the largest relative
    change ‖φ(x') − φ(x)‖ / ‖φ(x)‖ of a target's attributions per feature over ``n_perturb_samples`` inputs x' drawn
    uniformly within ``radius`` of x (an L∞ ball around the model's continuous input: input embeddings, pixels),
    each explained again by the backend that made the attributions; lower is better, 0 for attributions that do not
    move. The draws come from ``seed`` and are shared by an input's targets; φ(x) is made again too, as captum does."""

    name = "sensitivity_max"
    higher_is_better = False
    ranks = False

    def __init__(
        self,
        *,
        radius: Annotated[float, Ge(0)] = 0.02,
        n_perturb_samples: Annotated[int, Ge(1)] = 10,
        seed: Annotated[int, Ge(0)] = 0,
    ) -> None:
        self.radius, self.n_perturb_samples, self.seed = float(radius), n_perturb_samples, seed

    @classmethod
    def unfit(cls, backend: type[Backend]) -> str | None:
        """Backends that do not follow gradients: each input is explained again ``n_perturb_samples`` times."""
        if backend.follows_gradients:
            return None
        return (
            f"it explains every input again for each of its perturbed samples, which backends that remove features "
            f"(as {backend.name!r} does) pay for with thousands of forward passes, and the sampling ones answer with "
            f"noise of their own; choose a backend that follows gradients: {GRADIENT_BACKENDS}"
        )

    def measure(self, attributions: torch.Tensor, scorer: FeatureScorer) -> Measured:
        backend = scorer.backend
        if backend is None or not isinstance(scorer, RemovalScorer):
            raise InputError(
                "sensitivity_max explains the inputs again: it needs a RemovalScorer that knows the backend which made "
                "the attributions (scorer.backend), as attrix.evaluate gives it"
            )
        problem, present = scorer.problem, scorer.present
        batch, n_targets, count = attributions.shape
        end = InputPoint().values(problem)[0]
        shape, columns = end.shape[1:], torch.arange(n_targets, device=end.device)
        generator = torch.Generator().manual_seed(self.seed)

        def perturb(values: torch.Tensor) -> torch.Tensor:
            """Continuous inputs ``[batch * n_targets * samples, ...]`` (one example per input and target, its samples
            next to each other, as captum lays them out) moved by uniform noise within ``radius``, the same for every
            target of an input."""
            samples = values.shape[0] // (batch * n_targets)
            noise = (torch.rand(batch, 1, samples, *shape, generator=generator) * 2 - 1) * self.radius
            return (values.view(batch, n_targets, samples, *shape) + noise.to(values)).flatten(0, 2)

        def explain(values: torch.Tensor | tuple[torch.Tensor]) -> tuple[torch.Tensor]:
            """The attributions per feature of each example, ``[batch * n_targets * samples, n]``, from one problem of
            the inputs' samples (captum passes its first, unperturbed inputs as a tuple, and reads a tuple back)."""
            value = values[0] if isinstance(values, tuple) else values
            samples = value.shape[0] // (batch * n_targets)
            value = value.view(batch, n_targets, samples, *shape)[:, 0].transpose(0, 1).flatten(0, 1)
            rows = torch.arange(batch, device=end.device).repeat(samples)
            with torch.enable_grad():
                made = backend.attribute(at_input(problem.select(rows, columns), value))
            table = per_feature(made.values, scorer.ids[rows], scorer.first) * present[rows].unsqueeze(1)
            return (table.view(samples, batch, n_targets, count).permute(1, 2, 0, 3).reshape(-1, count),)

        values = sensitivity_max(
            explain,
            end.repeat_interleave(n_targets, 0),
            perturb,
            n_perturb_samples=self.n_perturb_samples,
            max_examples_per_batch=batch * n_targets,
        )
        return Measured(values.view(batch, n_targets))


@hookimpl
def register_metrics(register):
    register(SensitivityMax)
