"""``shapley_sampling``: Shapley values estimated from random orders of the features (captum's ShapleyValueSampling)."""

from __future__ import annotations

from typing import Annotated, Any

import torch
from annotated_types import Ge
from captum.attr import ShapleyValueSampling

from attrix.backends.groups import highest_id, spread_totals
from attrix.backends.perturbation import PerturbationBackend, scores_forward, seeded
from attrix.contracts.hookspecs import hookimpl
from attrix.contracts.points import Endpoints
from attrix.contracts.problem import Problem


class ShapleySamplingBackend(PerturbationBackend):
    """Each of ``n_samples`` random orders of the features adds them one by one to the baseline; a feature's
    attribution is its mean gain in score. The attributions of an input sum to f(x) − f(baseline) exactly, whatever
    the samples. The orders are drawn from torch's generator seeded with ``seed`` (the caller's random state is left
    as it was); they count feature 0, the special tokens the baseline keeps, as captum counts every id of the mask.
    """

    name = "shapley_sampling"

    def __init__(self, *, n_samples: Annotated[int, Ge(1)] = 25, seed: Annotated[int, Ge(0)] = 0, **options: Any) -> None:
        super().__init__(**options)
        self.n_samples, self.seed = n_samples, seed

    def perturb(self, problem: Problem, ids: torch.Tensor, ends: Endpoints, per_eval: int) -> torch.Tensor:
        forward, args = scores_forward(problem)
        with seeded(self.seed):
            totals = ShapleyValueSampling(forward).attribute(
                ends.end,
                baselines=ends.start,
                additional_forward_args=args,
                feature_mask=ids,
                n_samples=self.n_samples,
                perturbations_per_eval=min(per_eval, highest_id(ids) + 1),
            )
        return spread_totals(totals, ids, ends.end)


@hookimpl
def register_backends(register):
    register(ShapleySamplingBackend)
