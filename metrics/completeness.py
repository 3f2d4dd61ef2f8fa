"""``completeness``: how far the attributions' sum misses the score they explain."""

from __future__ import annotations

import torch

from attrix.contracts.hookspecs import hookimpl
from attrix.contracts.metric import FeatureScorer, Measured, Metric


class Completeness(Metric):
    """|Σ attributions − (f(x) − f(baseline))| / |f(x) − f(baseline)|: the convergence delta relative to the change
    it should add up to (Sundararajan et al. 2017); lower is better, 0 for a complete method. It runs no pass of its
    own: f(x) and f(baseline) are the scorer's."""

    name = "completeness"
    higher_is_better = False
    ranks = False

    def measure(self, attributions: torch.Tensor, scorer: FeatureScorer) -> Measured:
        change = scorer.scores - scorer.baseline_scores
        return Measured((attributions.sum(-1) - change).abs() / change.abs())


@hookimpl
def register_metrics(register):
    register(Completeness)
