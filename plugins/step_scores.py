"""Built-in step scores of the generation tasks: the generated token's log-probability, probability or logit."""

from __future__ import annotations

import torch

from attrix.contracts.hookspecs import hookimpl
from attrix.contracts.step_score import StepScore


def picked(values: torch.Tensor, ids: torch.Tensor) -> torch.Tensor:
    """``values[..., ids]`` per step."""
    return values.gather(-1, ids.unsqueeze(-1)).squeeze(-1)


class LogProbability(StepScore):
    """The token's log-probability (log-softmax of the logits)."""

    name = "logprob"

    def __call__(self, logits: torch.Tensor, ids: torch.Tensor) -> torch.Tensor:
        return picked(torch.log_softmax(logits, -1), ids)


class Probability(StepScore):
    """The token's probability (softmax of the logits)."""

    name = "prob"

    def __call__(self, logits: torch.Tensor, ids: torch.Tensor) -> torch.Tensor:
        return picked(torch.softmax(logits, -1), ids)


class Logit(StepScore):
    """The token's logit."""

    name = "logit"

    def __call__(self, logits: torch.Tensor, ids: torch.Tensor) -> torch.Tensor:
        return picked(logits, ids)


@hookimpl
def register_step_scores(register):
    for score in (LogProbability, Probability, Logit):
        register(score)
