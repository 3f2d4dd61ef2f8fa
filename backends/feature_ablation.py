"""``feature_ablation``: each feature removed on its own (captum's FeatureAblation)."""

from __future__ import annotations

import torch
from captum.attr import FeatureAblation

from attrix.backends.groups import spread_table
from attrix.backends.perturbation import PerturbationBackend, presence_forward
from attrix.contracts.hookspecs import hookimpl
from attrix.contracts.points import Endpoints
from attrix.contracts.problem import Problem


class FeatureAblationBackend(PerturbationBackend):
    """A feature's attribution is how much the score drops when that feature alone is replaced by the baseline:
    f(x) − f(x without the feature). One pass for the baseline and F perturbations, each run once for every target."""

    name = "feature_ablation"

    def perturb(self, problem: Problem, ids: torch.Tensor, ends: Endpoints, per_eval: int) -> torch.Tensor:
        forward, present, args, first = presence_forward(problem, ids, ends)
        table = FeatureAblation(forward).attribute(
            present, baselines=0.0, additional_forward_args=args, perturbations_per_eval=min(per_eval, present.shape[1])
        )
        return spread_table(table.view(problem.batch_size, problem.n_targets, -1), ids, ends.end, first)


@hookimpl
def register_backends(register):
    register(FeatureAblationBackend)
