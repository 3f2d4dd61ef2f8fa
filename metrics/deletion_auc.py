"""``deletion_auc``: the score as the top features are deleted one after another (RISE)."""

from __future__ import annotations

import torch

from attrix.contracts.hookspecs import hookimpl
from attrix.metrics.removal_curve import RemovalCurve


class DeletionAuc(RemovalCurve):
    """Deletion (Petsiuk et al. 2018): the area under the score as the highest-attributed features are removed
    first; lower is better."""

    name = "deletion_auc"
    higher_is_better = False

    def kept(self, taken: torch.Tensor, present: torch.Tensor) -> torch.Tensor:
        return present & ~taken


@hookimpl
def register_metrics(register):
    register(DeletionAuc)
