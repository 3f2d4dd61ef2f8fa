"""``auprc``: the area under the precision-recall curve of the attributions as scores of a human rationale (ERASER)."""

from __future__ import annotations

import torch

from attrix.contracts.hookspecs import hookimpl
from attrix.metrics.plausibility import PlausibilityMetric


class Auprc(PlausibilityMetric):
    """ERASER's AUPRC (DeYoung et al. 2020), as ferret's ``auprc_plau``: the attributions (with ``only_positive``,
    those below 0 raised to 0) score whether a feature is marked; each distinct attribution, as a threshold, gives the
    precision and recall of the features at or above it, and the curve through those points from (recall 0,
    precision 1) is integrated over recall by the trapezoidal rule. NaN when no feature is marked; higher is better."""

    name = "auprc"

    def agreement(self, attributions: torch.Tensor, marked: torch.Tensor, present: torch.Tensor) -> torch.Tensor:
        scores = attributions.clamp(min=0) if self.only_positive else attributions
        ranked, order = scores.to(torch.float64).masked_fill(~present.unsqueeze(1), -torch.inf).sort(-1, descending=True)
        positives = marked.expand_as(order).gather(-1, order).cumsum(-1, dtype=torch.float64)
        columns = torch.arange(order.shape[-1], device=order.device)
        recall = positives / positives[..., -1:]
        precision = positives / (columns + 1)
        ends = ranked.isfinite() & torch.cat([ranked[..., 1:] != ranked[..., :-1], ranked[..., :1] == ranked[..., :1]], -1)
        latest = torch.where(ends, columns, -1).cummax(-1).values
        before = torch.cat([torch.full_like(latest[..., :1], -1), latest[..., :-1]], -1)
        recall_before = recall.gather(-1, before.clamp(min=0)).where(before >= 0, 0.0)
        precision_before = precision.gather(-1, before.clamp(min=0)).where(before >= 0, 1.0)
        areas = ((recall - recall_before) * (precision + precision_before) / 2).where(ends, 0.0)
        return areas.sum(-1).where(positives[..., -1] > 0, torch.nan)


@hookimpl
def register_metrics(register):
    register(Auprc)
