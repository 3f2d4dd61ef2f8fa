"""A ``Problem``: what a task adapter hands a backend to attribute."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch
from torch import nn

Inputs = dict[str, torch.Tensor]


@dataclass(frozen=True)
class InputEmbedding:
    """How input-space methods get a continuous tensor: ``embed(inputs[source])`` fed as ``key``."""

    source: str
    key: str
    embed: Callable[[torch.Tensor], torch.Tensor]


@dataclass
class Problem:
    """A batch of model inputs, its baseline, the scores to explain and where to attribute them."""

    inputs: Inputs
    baselines: Inputs
    forward: Callable[..., torch.Tensor]
    targets: torch.Tensor
    layer: nn.Module
    embedding: InputEmbedding

    @property
    def batch_size(self) -> int:
        """Number of inputs in the batch."""
        return int(self.targets.shape[0])

    @property
    def n_targets(self) -> int:
        """Number of outputs explained per input."""
        return int(self.targets.shape[1])

    def scores(self, outputs: torch.Tensor, repeats: int = 1) -> torch.Tensor:
        """The explained scores ``[repeats * batch, n_targets]`` picked from ``forward``'s outputs."""
        return outputs.gather(1, self.targets.repeat(repeats, 1))


def repeat_inputs(inputs: Inputs, repeats: int) -> Inputs:
    """Each tensor stacked ``repeats`` times along the batch, block after block."""
    return {key: value.repeat(repeats, *([1] * (value.dim() - 1))) for key, value in inputs.items()}


def concat_inputs(first: Inputs, second: Inputs) -> Inputs:
    """Two input batches with the same keys joined along the batch."""
    return {key: torch.cat([first[key], second[key]]) for key in first}
