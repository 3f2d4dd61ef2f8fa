"""``token_iou``: the token-level intersection over union of the top-k features and a human rationale (ERASER)."""

from __future__ import annotations

import torch

from attrix.contracts.hookspecs import hookimpl
from attrix.metrics.plausibility import TopKMetric


class TokenIou(TopKMetric):
    """ERASER's token IOU (DeYoung et al. 2020), as ferret's ``token_iou_plau``: the features in both the top-k and
    the marked ones over those in either; higher is better."""

    name = "token_iou"

    def overlap(self, both: torch.Tensor, predicted: torch.Tensor, marked: torch.Tensor) -> torch.Tensor:
        return both / (predicted + marked - both)


@hookimpl
def register_metrics(register):
    register(TokenIou)
