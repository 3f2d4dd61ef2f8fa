"""A problem whose continuous input (input embeddings, pixels) is a given tensor, for explaining an input again
after perturbing it."""

from __future__ import annotations

from dataclasses import replace

import torch
from torch import nn

from attrix.contracts.problem import InputEmbedding, Problem


class GivenInput(nn.Module):
    """The embedding of a problem whose source input already is the continuous value: returns it as it is, so that
    a layer point at the embedding can replace its output."""

    def forward(self, value: torch.Tensor) -> torch.Tensor:
        return value


def at_input(problem: Problem, value: torch.Tensor) -> Problem:
    """``problem`` with its continuous input set to ``value`` (``[batch, ...]``, the shape of the embedding's output):
    the source input holds ``value`` and the baseline's source its embedding, read through a ``GivenInput``; the
    forward feeds it to the model as the embedding's key. Backends at the input and at a layer the model runs on it
    (the embedding itself, or one after it) then see ``value``; the baselines, targets and features are as they were,
    and the prediction, made at the old input, is left out."""
    embedding = problem.embedding
    source, key, given = embedding.source, embedding.key, GivenInput()
    forward = problem.forward

    def forward_at_value(**inputs: torch.Tensor) -> torch.Tensor:
        if source not in inputs:
            return forward(**inputs)
        rest = {name: tensor for name, tensor in inputs.items() if name != source}
        return forward(**rest, **{key: given(inputs[source])})

    with torch.no_grad():
        start = embedding.embed(problem.baselines[source])
    return replace(
        problem,
        inputs=dict(problem.inputs, **{source: value}),
        baselines=dict(problem.baselines, **{source: start}),
        forward=forward_at_value,
        layer=given if problem.layer is embedding.embed else problem.layer,
        embedding=InputEmbedding(source, key, given),
        prediction=None,
    )
