"""``occlusion``: windows of consecutive features removed together (captum's Occlusion)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

import torch
from annotated_types import Ge
from captum.attr import Occlusion

from attrix.backends.groups import spread_table
from attrix.backends.perturbation import PerturbationBackend, ScoresForward, presence_forward
from attrix.contracts.hookspecs import hookimpl
from attrix.contracts.options import OptionError
from attrix.contracts.points import Endpoints
from attrix.contracts.problem import Problem


class OcclusionBackend(PerturbationBackend):
    """Windows of ``window`` consecutive features (words in reading order, patches row by row), one every ``window_stride``
    features, each replaced by the baseline in turn; a feature's attribution is the mean score drop of the windows
    that cover it. Windows stay within each input's own features; one longer than the input covers all of it. The
    default, ``window=1``, is leave-one-out, as ``feature_ablation``; wider windows catch features that matter only
    together, and smear each window's drop over its features."""

    name = "occlusion"

    def __init__(self, *, window: Annotated[int, Ge(1)] = 1, window_stride: Annotated[int, Ge(1)] = 1, **options: Any) -> None:
        super().__init__(**options)
        self.window, self.window_stride = window, window_stride

    @classmethod
    def validate_options(cls, options: Mapping[str, Any]) -> None:
        """The perturbation rules, and: a stride no longer than the window, so that every feature is covered."""
        super().validate_options(options)
        window, stride = options.get("window", 1), options.get("window_stride", 1)
        if stride > window:
            raise OptionError("window_stride", f"at most the window ({window}), so that windows leave no feature out")

    def perturb(self, problem: Problem, ids: torch.Tensor, ends: Endpoints, per_eval: int) -> torch.Tensor:
        """Inputs whose windows are the same together: all of them for one-feature windows, else those with as many
        features as each other."""
        forward, present, args, first = presence_forward(problem, ids, ends)
        table = present.new_zeros(problem.batch_size, problem.n_targets, present.shape[1])
        counts = ids.flatten(1).max(1).values + 1 - first
        if self.window == 1:
            counts = counts.max().expand_as(counts)
        for count in counts.unique().tolist():
            rows = (counts == count).nonzero().flatten()
            if count > 0:
                table[rows, :, :count] = self.slide(forward, present[rows, :count], tuple(arg[rows] for arg in args), per_eval)
        return spread_table(table, ids, ends.end, first)

    def slide(self, forward: ScoresForward, present: torch.Tensor, args: tuple[torch.Tensor, ...], per_eval: int) -> torch.Tensor:
        """captum's Occlusion over inputs of ``present.shape[1]`` features each: ``[batch, n_targets, n_features]``."""
        count = present.shape[1]
        table = Occlusion(forward).attribute(
            present,
            sliding_window_shapes=(min(self.window, count),),
            strides=(min(self.window_stride, count),),
            baselines=0.0,
            additional_forward_args=args,
            perturbations_per_eval=min(per_eval, count),
        )
        return table.view(present.shape[0], -1, count).to(present.dtype)


@hookimpl
def register_backends(register):
    register(OcclusionBackend)
