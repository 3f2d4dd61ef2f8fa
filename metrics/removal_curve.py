"""What deletion and insertion share: the score as features are removed or added in the order of their attributions,
and the area under that curve (RISE)."""

from __future__ import annotations

from abc import abstractmethod
from typing import Annotated

import torch
from annotated_types import Ge

from attrix.contracts.metric import FeatureScorer, Measured, Metric
from attrix.integration.ranking import fraction_counts, top_features


class RemovalCurve(Metric):
    """The score of each target at ``steps + 1`` points, 0, 1/steps, …, 1 of the features (rounded down) taken in
    the order of the target's attributions, highest first; the value is the area under that curve over [0, 1]
    (trapezoids)."""

    def __init__(self, *, steps: Annotated[int, Ge(1)] = 10) -> None:
        self.steps = steps

    @abstractmethod
    def kept(self, taken: torch.Tensor, present: torch.Tensor) -> torch.Tensor:
        """The features kept at each point, given the ones taken so far ``[n_points, batch, n_targets, n]``."""

    def measure(self, attributions: torch.Tensor, scorer: FeatureScorer) -> Measured:
        counts = fraction_counts([step / self.steps for step in range(self.steps + 1)], scorer.present)
        taken = top_features(attributions, scorer.present, counts)
        curve = scorer.score(self.kept(taken, scorer.present.unsqueeze(1)))
        return Measured((curve[1:] + curve[:-1]).sum(0) / (2 * self.steps), curve.permute(1, 2, 0))
