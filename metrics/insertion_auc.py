"""``insertion_auc``: the score as the top features are put back into the baseline one after another (RISE)."""

from __future__ import annotations

import torch

from attrix.contracts.hookspecs import hookimpl
from attrix.metrics.removal_curve import RemovalCurve


class InsertionAuc(RemovalCurve):
    """Insertion (Petsiuk et al. 2018): the area under the score as the highest-attributed features are added to the
    baseline first; higher is better."""

    name = "insertion_auc"
    higher_is_better = True

    def kept(self, taken: torch.Tensor, present: torch.Tensor) -> torch.Tensor:
        return taken


@hookimpl
def register_metrics(register):
    register(InsertionAuc)
