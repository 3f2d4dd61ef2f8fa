"""A ``Problem``: what a task adapter hands a backend to attribute."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

import torch
from torch import nn

Inputs = dict[str, torch.Tensor]


@dataclass(frozen=True)
class InputEmbedding:
    """How input-space methods get a continuous tensor: ``embed(inputs[source])`` fed as ``key``."""

    source: str
    key: str
    embed: Callable[[torch.Tensor], torch.Tensor]


@dataclass(frozen=True)
class Prediction:
    """The forward pass a task ran to predict, kept so that backends need not run it again."""

    outputs: torch.Tensor
    """``forward(**inputs)`` without gradients: ``[batch, n_outputs]``."""
    layer_output: torch.Tensor | None = None
    """The attributed layer's output in that pass, if the task recorded it."""

    def rows(self, rows: Sequence[int] | torch.Tensor) -> Prediction:
        """The prediction of the rows ``rows`` only."""
        layer_output = None if self.layer_output is None else self.layer_output[rows]
        return Prediction(self.outputs[rows], layer_output)

    def to(self, device: torch.device | str) -> Prediction:
        """The prediction with its tensors on ``device``."""
        layer_output = None if self.layer_output is None else self.layer_output.to(device)
        return Prediction(self.outputs.to(device), layer_output)


@dataclass
class Problem:
    """A batch of model inputs, its baseline, the scores to explain and where to attribute them.

    ``prediction``, when the task gives it, must be what ``forward(**inputs)`` returns (and ``layer``'s output in
    that pass): backends then take f(x) and the layer's value at the inputs from it instead of running it again.
    """

    inputs: Inputs
    baselines: Inputs
    forward: Callable[..., torch.Tensor]
    targets: torch.Tensor
    layer: nn.Module
    embedding: InputEmbedding
    prediction: Prediction | None = None
    features: Inputs = field(default_factory=dict)
    """Named groupings of the model's continuous input (``embedding``'s value) into features, for methods that
    remove features rather than follow gradients: each an integer tensor broadcastable to that value, equal ids
    within a row forming one feature (text: ``"token"``, ``"word"``, ``"sentence"``, each ``[batch, seq, 1]``, id 0
    gathering the special tokens and padding the baseline keeps; images: ``"pixel"`` and ``"patch"``, each
    ``[batch, 1, height, width]``, numbered from 0, every one removable)."""
    targets_move_alike: bool = True
    """Whether an input's targets tend to change at the same places along a path (the labels of one classifier, the
    positions of one text): ``n_steps="auto"`` then refines them together, so that they share forward passes;
    ``False`` (the steps of a generation) refines each target's largest errors first."""

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

    def select(self, rows: torch.Tensor, columns: torch.Tensor) -> Problem:
        """The problem of rows ``rows`` only, explaining their targets in ``columns`` only."""
        return replace(
            self,
            inputs={key: value[rows] for key, value in self.inputs.items()},
            baselines={key: value[rows] for key, value in self.baselines.items()},
            targets=self.targets[rows][:, columns],
            prediction=None if self.prediction is None else self.prediction.rows(rows),
            features={name: groups[rows] for name, groups in self.features.items()},
        )

    def to(self, device: torch.device | str) -> Problem:
        """The problem with every tensor on ``device`` (the model's)."""
        return replace(
            self,
            inputs=tensors_to(self.inputs, device),
            baselines=tensors_to(self.baselines, device),
            targets=self.targets.to(device),
            prediction=None if self.prediction is None else self.prediction.to(device),
            features=tensors_to(self.features, device),
        )


def tensors_to(inputs: Inputs, device: torch.device | str) -> Inputs:
    """``inputs`` with every tensor on ``device``."""
    return {key: value.to(device) for key, value in inputs.items()}


def repeat_inputs(inputs: Inputs, repeats: int) -> Inputs:
    """Each tensor stacked ``repeats`` times along the batch, block after block."""
    return {key: value.repeat(repeats, *([1] * (value.dim() - 1))) for key, value in inputs.items()}


def concat_inputs(first: Inputs, second: Inputs) -> Inputs:
    """Two input batches with the same keys joined along the batch."""
    return {key: torch.cat([first[key], second[key]]) for key in first}
