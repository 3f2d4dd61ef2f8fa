"""``comprehensiveness``: how much the score drops when the top features are removed (ERASER)."""

from __future__ import annotations

import torch

from attrix.contracts.hookspecs import hookimpl
from attrix.metrics.aopc import AopcMetric


class Comprehensiveness(AopcMetric):
    """AOPC comprehensiveness (DeYoung et al. 2020): the mean drop f(x) − f(x without the top features) over the
    removal fractions; higher is better."""

    name = "comprehensiveness"
    higher_is_better = True

    def kept(self, rationales: torch.Tensor, present: torch.Tensor) -> torch.Tensor:
        return present & ~rationales


@hookimpl
def register_metrics(register):
    register(Comprehensiveness)
