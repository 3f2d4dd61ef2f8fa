"""What the tests comparing attrix's drop-in classes with transformers-interpret share."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from transformers import PreTrainedModel


def cosine(first: Sequence[float], second: Sequence[float]) -> float:
    """The cosine similarity of two score vectors."""
    return float(torch.nn.functional.cosine_similarity(torch.tensor(first), torch.tensor(second), dim=0))


def scores(pairs: Sequence[tuple[str, float]]) -> list[float]:
    """The scores of (token, score) pairs."""
    return [score for _, score in pairs]


def equal_token_types(model: PreTrainedModel) -> PreTrainedModel:
    """``model`` with its two token-type embeddings made equal, so transformers-interpret's token-type bug changes nothing."""
    with torch.no_grad():
        types = model.base_model.embeddings.token_type_embeddings.weight
        types[1] = types[0]
    return model
