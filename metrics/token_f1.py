"""``token_f1``: the token-level F1 score of the top-k features against a human rationale (ERASER)."""

from __future__ import annotations

import torch

from attrix.contracts.hookspecs import hookimpl
from attrix.metrics.plausibility import TopKMetric


class TokenF1(TopKMetric):
    """ERASER's token F1 (DeYoung et al. 2020), as ferret's ``token_f1_plau``: the harmonic mean of the precision and
    recall of the top-k features against the marked ones, 0 when either is 0; higher is better."""

    name = "token_f1"

    def overlap(self, both: torch.Tensor, predicted: torch.Tensor, marked: torch.Tensor) -> torch.Tensor:
        return 2 * both / (predicted + marked)


@hookimpl
def register_metrics(register):
    register(TokenF1)
