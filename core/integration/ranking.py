"""Rankings of features by their attributions, as the faithfulness metrics read them: the top features at each
removal fraction, and Kendall's rank correlation."""

from __future__ import annotations

from collections.abc import Sequence

import torch

ROUNDING_SLACK = 1e-9
"""Added before rounding a fraction's count down, so that a product such as 0.7 × 90 = 62.99999… counts 63."""


def fraction_counts(fractions: Sequence[float], present: torch.Tensor) -> torch.Tensor:
    """How many features each fraction of each row's features is, rounded down: ``[n_fractions, batch]``."""
    counts = present.sum(-1).to(torch.float64)
    products = torch.tensor(list(fractions), dtype=torch.float64, device=present.device).unsqueeze(1) * counts
    return torch.floor(products + ROUNDING_SLACK).long()


def ranks(attributions: torch.Tensor, present: torch.Tensor) -> torch.Tensor:
    """Each feature's place when ranked by attribution, highest first (0), ``[batch, n_targets, n]``; absent
    features come last, ties in column order."""
    scores = attributions.masked_fill(~present.unsqueeze(1), float("-inf"))
    order = scores.argsort(dim=-1, descending=True, stable=True)
    return order.argsort(dim=-1)


def top_features(
    attributions: torch.Tensor, present: torch.Tensor, counts: torch.Tensor, only_positive: bool = False
) -> torch.Tensor:
    """The ``counts[i, row]`` top-ranked features of each row and target, ``[n_counts, batch, n_targets, n]`` (bool);
    with ``only_positive``, those of them whose attribution is above 0."""
    top = ranks(attributions, present).unsqueeze(0) < counts.view(*counts.shape, 1, 1)
    return top & (attributions > 0) if only_positive else top


def kendall_tau(first: torch.Tensor, second: torch.Tensor, present: torch.Tensor) -> torch.Tensor:
    """Kendall's τ-b between two scorings of the present features, ``[batch, n_targets, n]`` each: ``[batch,
    n_targets]``, NaN where either scoring is constant."""
    n = present.shape[-1]
    pairs = (
        present.view(-1, 1, n, 1) & present.view(-1, 1, 1, n) & torch.ones(n, n, dtype=torch.bool, device=present.device).triu(1)
    )
    a = (first.unsqueeze(-1) - first.unsqueeze(-2)).sign() * pairs
    b = (second.unsqueeze(-1) - second.unsqueeze(-2)).sign() * pairs
    return (a * b).sum((-1, -2)) / (a.abs().sum((-1, -2)) * b.abs().sum((-1, -2))).sqrt()
