"""Word pieces grouped into entities as the token-classification pipeline's ``aggregation_strategy="simple"`` does."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

PIPELINE_IGNORED = ("O",)
"""Entity groups the pipeline leaves out by default."""


@dataclass(frozen=True)
class TokenLabel:
    """One non-special token's prediction, as the pipeline's ``aggregation_strategy="none"`` reports it."""

    index: int
    word: str
    entity: str
    score: float
    start: int
    end: int

    def to_dict(self) -> dict[str, Any]:
        """The pipeline's dict for this token."""
        return dict(vars(self))


def tag_of(label: str) -> tuple[str, str]:
    """A label's IOB prefix (``B`` or ``I``; ``I`` when it has none) and its entity type."""
    if label.startswith(("B-", "I-")):
        return label[0], label[2:]
    return "I", label


def group_entities(
    tokens: Sequence[TokenLabel], to_string: Callable[[list[str]], str], ignored: Sequence[str] = PIPELINE_IGNORED
) -> list[dict[str, Any]]:
    """Adjacent tokens of one entity type joined (a ``B-`` label starts a new one), ``ignored`` groups left out.

    Each entity has the pipeline's keys (``entity_group``, ``score`` — the mean of its tokens' —, ``word``,
    ``start``, ``end``) and ``tokens``, the indices of its tokens.
    """
    groups: list[list[TokenLabel]] = []
    for token in tokens:
        bi, tag = tag_of(token.entity)
        if groups and bi != "B" and tag == tag_of(groups[-1][-1].entity)[1]:
            groups[-1].append(token)
        else:
            groups.append([token])
    entities = []
    for group in groups:
        entity = {
            "entity_group": group[0].entity.split("-", 1)[-1],
            "score": sum(token.score for token in group) / len(group),
            "word": to_string([token.word for token in group]),
            "start": group[0].start,
            "end": group[-1].end,
            "tokens": [token.index for token in group],
        }
        if entity["entity_group"] not in ignored:
            entities.append(entity)
    return entities
