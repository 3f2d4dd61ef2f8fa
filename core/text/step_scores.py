"""What a generation task explains at each step: a score of the step's token from the model's logits there."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

StepScoreFunction = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
"""``(logits [batch, steps, vocab], token ids [batch, steps]) -> [batch, steps]``."""


@dataclass(frozen=True)
class StepScore:
    """A named score of a generated token; with a contrast, a step explains this score's difference between the
    target token and the contrast token."""

    name: str
    function: StepScoreFunction
    description: str


def _picked(values: torch.Tensor, ids: torch.Tensor) -> torch.Tensor:
    return values.gather(-1, ids.unsqueeze(-1)).squeeze(-1)


STEP_SCORES = {
    score.name: score
    for score in (
        StepScore("logprob", lambda logits, ids: _picked(torch.log_softmax(logits, -1), ids), "the token's log-probability"),
        StepScore("prob", lambda logits, ids: _picked(torch.softmax(logits, -1), ids), "the token's probability"),
        StepScore("logit", _picked, "the token's logit"),
    )
}
"""The built-in step scores, by name."""
