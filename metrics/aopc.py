"""What comprehensiveness and sufficiency share: the area over the perturbation curve (AOPC) of the top features at
each removal fraction, as ERASER and ferret compute it."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Sequence
from typing import Annotated

import torch
from annotated_types import Gt, Le, MinLen

from attrix.contracts.metric import FeatureScorer, Measured, Metric
from attrix.integration.ranking import fraction_counts, top_features

FRACTIONS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)
"""ERASER's removal fractions: 10 %, 20 %, …, 100 % of the features."""


def first_of_each(rationales: torch.Tensor, counts: torch.Tensor) -> torch.Tensor:
    """Which fractions count, ``[n_fractions, batch, n_targets]``: those whose rationale holds at least one feature's
    worth (its count above 0) and differs from the last one counted, so that a repeated removal is averaged once."""
    counted = torch.zeros(rationales.shape[:-1], dtype=torch.bool, device=rationales.device)
    last, seen = torch.zeros_like(rationales[0]), torch.zeros_like(counted[0])
    for fraction, rationale in enumerate(rationales):
        counted[fraction] = (counts[fraction] > 0).unsqueeze(-1) & (~seen | (rationale != last).any(-1))
        last = torch.where(counted[fraction].unsqueeze(-1), rationale, last)
        seen |= counted[fraction]
    return counted


class AopcMetric(Metric):
    """The mean drop of each target's score, f(x) − f(x'), over the removal fractions, x' made from each fraction's
    rationale: the top ``fraction`` of the features (rounded down), and with ``only_positive`` only those of them with
    a positive attribution. A rationale equal to the previous one is counted once; no rationale at all gives NaN."""

    def __init__(
        self,
        *,
        fractions: Annotated[Sequence[Annotated[float, Gt(0), Le(1)]], MinLen(1)] = FRACTIONS,
        only_positive: bool = True,
    ) -> None:
        self.fractions, self.only_positive = tuple(fractions), only_positive

    @abstractmethod
    def kept(self, rationales: torch.Tensor, present: torch.Tensor) -> torch.Tensor:
        """The features x' keeps, given each fraction's rationale ``[n_fractions, batch, n_targets, n]``."""

    def measure(self, attributions: torch.Tensor, scorer: FeatureScorer) -> Measured:
        counts = fraction_counts(self.fractions, scorer.present)
        rationales = top_features(attributions, scorer.present, counts, self.only_positive)
        counted = first_of_each(rationales, counts)
        drops = scorer.scores - scorer.score(self.kept(rationales, scorer.present.unsqueeze(1)))
        values = (drops * counted).sum(0) / counted.sum(0)
        return Measured(values, drops.where(counted, torch.nan).permute(1, 2, 0))
