"""``StepScore``: what a generation task explains at each step — a score of the step's token from the logits there."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import ClassVar

import torch


class StepScore(ABC):
    """A score of each explained token from the model's logits at its step (``score=`` of the generation tasks);
    with a contrast, a step explains this score's difference between the target's token and the contrast's."""

    plugin_kind: ClassVar[str] = "step_score"
    name: ClassVar[str]

    @abstractmethod
    def __call__(self, logits: torch.Tensor, ids: torch.Tensor) -> torch.Tensor:
        """The score of token ``ids`` ``[batch, steps]`` under ``logits`` ``[batch, steps, vocab]``: ``[batch, steps]``,
        differentiable."""


StepScoreLookup = Callable[[str], type[StepScore]]
_lookup: StepScoreLookup | None = None


def set_step_score_lookup(lookup: StepScoreLookup) -> None:
    """Find step scores by name with ``lookup``: ``attrix.api`` sets the registry's, so this room need not know it."""
    global _lookup
    _lookup = lookup


def step_score(name: str) -> StepScore:
    """The registered step score ``name``, ready to call; an error listing the registered ones when there is none."""
    if _lookup is None:
        raise RuntimeError("no step-score registry is set: import attrix first")
    return _lookup(name)()
