"""``infidelity``: how far removing random sets of features moves the score from what the attributions predict."""

from __future__ import annotations

from typing import Annotated

import torch
from annotated_types import Ge, Gt, Le
from captum.metrics import infidelity

from attrix.contracts.hookspecs import hookimpl
from attrix.contracts.metric import FeatureScorer, Measured, Metric


class Infidelity(Metric):
    """Yeh et al. (2019)'s infidelity under removal perturbations, computed by ``captum.metrics.infidelity``: the
    mean over ``n_perturb_samples`` random sets S of features of (Σ_{i∈S} φ_i − (f(x) − f(x without S)))², lower is
    better, 0 when every removal lowers the score by the sum of its features' attributions. Each present feature is
    in S with probability ``removal_probability``; the sets are drawn from ``seed`` and shared by an input's targets.
    With ``normalize`` the attributions are first scaled by the factor that minimises the value (captum's
    ``normalize``)."""

    name = "infidelity"
    higher_is_better = False
    ranks = False

    def __init__(
        self,
        *,
        n_perturb_samples: Annotated[int, Ge(1)] = 10,
        removal_probability: Annotated[float, Gt(0), Le(1)] = 0.5,
        normalize: bool = False,
        seed: Annotated[int, Ge(0)] = 0,
    ) -> None:
        self.n_perturb_samples, self.removal_probability = n_perturb_samples, float(removal_probability)
        self.normalize, self.seed = normalize, seed

    def measure(self, attributions: torch.Tensor, scorer: FeatureScorer) -> Measured:
        batch, n_targets, count = attributions.shape
        present = scorer.present
        generator = torch.Generator().manual_seed(self.seed)

        def perturb(presence: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            """Feature presence ``[batch * n_targets * samples, n]`` (one example per input and target, its samples
            next to each other, as captum lays them out): the removals I drawn for it, and presence − I."""
            samples = presence.shape[0] // (batch * n_targets)
            drawn = torch.rand(batch, 1, samples, count, generator=generator) < self.removal_probability
            removed = (drawn.to(present.device) & present.view(batch, 1, 1, count)).to(presence.dtype)
            removed = removed.expand(batch, n_targets, samples, count).reshape(presence.shape)
            return removed, presence - removed

        def forward(presence: torch.Tensor) -> torch.Tensor:
            """Each example's target score with the features present in ``presence`` kept, read from one variant per
            input and sample (``perturb`` removes the same features for every target of an input)."""
            kept = presence.view(batch, n_targets, -1, count)[:, :1] > 0.5
            return scorer.score(kept.permute(2, 0, 1, 3)).permute(1, 2, 0).reshape(-1)

        values = infidelity(
            forward,
            perturb,
            present.to(attributions.dtype).repeat_interleave(n_targets, 0),
            attributions.reshape(batch * n_targets, count),
            n_perturb_samples=self.n_perturb_samples,
            normalize=self.normalize,
        )
        return Measured(values.view(batch, n_targets))


@hookimpl
def register_metrics(register):
    register(Infidelity)
