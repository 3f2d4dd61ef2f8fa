"""``sufficiency``: how much the score drops when only the top features are kept (ERASER)."""

from __future__ import annotations

import torch

from attrix.contracts.hookspecs import hookimpl
from attrix.metrics.aopc import AopcMetric


class Sufficiency(AopcMetric):
    """AOPC sufficiency (DeYoung et al. 2020): the mean drop f(x) − f(only the top features) over the removal
    fractions; lower is better."""

    name = "sufficiency"
    higher_is_better = False

    def kept(self, rationales: torch.Tensor, present: torch.Tensor) -> torch.Tensor:
        return rationales


@hookimpl
def register_metrics(register):
    register(Sufficiency)
