"""What the plausibility metrics share: the attributions compared with human rationales, as ERASER and ferret compare
them, NaN for an input without a rationale."""

from __future__ import annotations

from abc import abstractmethod
from typing import Annotated

import torch
from annotated_types import Gt

from attrix.contracts.metric import FeatureScorer, Measured, Metric
from attrix.integration.ranking import top_features

TOP_K = 5
"""ferret's default size of the discrete rationale (``top_k_rationale``): about the size of a human rationale."""


class PlausibilityMetric(Metric):
    """How well the attributions agree with the features a person marked (``FeatureScorer.rationales``); with
    ``only_positive``, only positive attributions count. Reads no model output."""

    needs_rationales = True
    higher_is_better = True

    def __init__(self, *, only_positive: bool = True) -> None:
        self.only_positive = only_positive

    @abstractmethod
    def agreement(self, attributions: torch.Tensor, marked: torch.Tensor, present: torch.Tensor) -> torch.Tensor:
        """The metric per row and target, ``[batch, n_targets]``, of ``attributions`` ``[batch, n_targets, n]``
        against the ``marked`` features ``[batch, 1, n]`` (bool, all of them ``present``, ``[batch, n]``)."""

    def measure(self, attributions: torch.Tensor, scorer: FeatureScorer) -> Measured:
        nan = torch.full(attributions.shape[:2], torch.nan, dtype=attributions.dtype, device=attributions.device)
        if scorer.rationales is None:
            return Measured(nan)
        marked = ((scorer.rationales > 0.5) & scorer.present).unsqueeze(1)
        known = ~scorer.rationales.isnan().any(-1, keepdim=True)
        values = self.agreement(attributions, marked, scorer.present).to(attributions.dtype)
        return Measured(values.where(known, nan))


class TopKMetric(PlausibilityMetric):
    """A plausibility metric of the discrete rationale: the ``top_k`` features with the highest attributions (ties in
    column order; with ``only_positive``, those of them above 0); 0 when it holds no feature."""

    def __init__(self, *, top_k: Annotated[int, Gt(0)] = TOP_K, only_positive: bool = True) -> None:
        super().__init__(only_positive=only_positive)
        self.top_k = top_k

    @abstractmethod
    def overlap(self, both: torch.Tensor, predicted: torch.Tensor, marked: torch.Tensor) -> torch.Tensor:
        """The metric from the counts of features in both rationales, in the predicted one and in the marked one."""

    def agreement(self, attributions: torch.Tensor, marked: torch.Tensor, present: torch.Tensor) -> torch.Tensor:
        counts = torch.full((1, attributions.shape[0]), self.top_k, device=attributions.device)
        predicted = top_features(attributions, present, counts, self.only_positive)[0] & present.unsqueeze(1)
        sizes = [part.sum(-1).to(torch.float64) for part in (predicted & marked, predicted, marked.expand_as(predicted))]
        return self.overlap(*sizes).where(sizes[1] > 0, 0.0)
