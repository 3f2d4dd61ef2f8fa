"""``loo_correlation``: how well attributions rank features by what leaving each one out costs."""

from __future__ import annotations

import torch

from attrix.contracts.hookspecs import hookimpl
from attrix.contracts.metric import FeatureScorer, Measured, Metric
from attrix.integration.ranking import kendall_tau


class LeaveOneOutCorrelation(Metric):
    """Kendall's τ-b between the attributions and the leave-one-out drops f(x) − f(x without the feature), over each
    input's features (ferret's taucorr_loo); higher is better. The curves are the drops, feature by feature."""

    name = "loo_correlation"
    higher_is_better = True

    def measure(self, attributions: torch.Tensor, scorer: FeatureScorer) -> Measured:
        count = scorer.present.shape[-1]
        alone = ~torch.eye(count, dtype=torch.bool, device=scorer.present.device).view(count, 1, 1, count)
        drops = (scorer.scores - scorer.score(alone & scorer.present.unsqueeze(1))).permute(1, 2, 0)
        return Measured(
            kendall_tau(attributions, drops, scorer.present), drops.masked_fill(~scorer.present.unsqueeze(1), torch.nan)
        )


@hookimpl
def register_metrics(register):
    register(LeaveOneOutCorrelation)
