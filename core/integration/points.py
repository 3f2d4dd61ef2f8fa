"""Where in the model attributions are taken: a layer's output, or the model's continuous input."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import torch
from torch import nn

from attrix.contracts.points import Endpoints, Point, endpoint_scores
from attrix.contracts.problem import Inputs, Problem, concat_inputs
from attrix.errors import AttrixError


def _single_tensor(layer: nn.Module, output: object) -> torch.Tensor:
    if not isinstance(output, torch.Tensor):
        raise AttrixError(
            f"cannot attribute at {type(layer).__name__}: its output is a "
            f"{type(output).__name__}, not a single tensor; choose another layer"
        )
    return output


@contextmanager
def captured_output(layer: nn.Module, strict: bool = True) -> Iterator[list[torch.Tensor]]:
    """Collect every output ``layer`` produces while the block runs: one that is not a single tensor is an error
    if ``strict``, else left out."""
    seen: list[torch.Tensor] = []

    def record(module: nn.Module, args: object, out: object) -> None:
        if strict or isinstance(out, torch.Tensor):
            seen.append(_single_tensor(module, out))

    handle = layer.register_forward_hook(record)
    try:
        yield seen
    finally:
        handle.remove()


@contextmanager
def replaced_output(layer: nn.Module, value: torch.Tensor) -> Iterator[None]:
    """Make ``layer`` return ``value`` instead of its own output while the block runs."""

    def replace(module: nn.Module, args: object, out: object) -> torch.Tensor:
        if _single_tensor(module, out).shape != value.shape:
            raise AttrixError(
                f"{type(module).__name__} produced shape {tuple(out.shape)} but the attribution "
                f"path has shape {tuple(value.shape)}; the model must get batch-sized inputs for it"
            )
        return value

    handle = layer.register_forward_hook(replace)
    try:
        yield
    finally:
        handle.remove()


class LayerPoint:
    """The output of one layer (an embedding layer, usually)."""

    def __init__(self, layer: nn.Module) -> None:
        self.layer = layer

    def values(self, problem: Problem) -> tuple[torch.Tensor, torch.Tensor]:
        """The layer at the inputs from the prediction, at the baselines from a forward pass over them (one over
        both without a prediction); none when the layer is the embedding of the input ids, applied to them directly."""
        embedding, prediction = problem.embedding, problem.prediction
        with torch.no_grad():
            known = None if prediction is None else prediction.layer_output
            if self.layer is embedding.embed:
                end = known if known is not None else self.layer(problem.inputs[embedding.source])
                return end, self.layer(problem.baselines[embedding.source])
            if known is not None:
                with captured_output(self.layer) as seen:
                    problem.forward(**problem.baselines)
                return known, self.first_output(seen)
            with captured_output(self.layer) as seen:
                problem.forward(**concat_inputs(problem.inputs, problem.baselines))
        return self.first_output(seen).split(problem.batch_size)

    def first_output(self, seen: list[torch.Tensor]) -> torch.Tensor:
        """The layer's first output in a pass; an error when the pass did not run the layer."""
        if not seen:
            raise AttrixError(
                f"the model's forward pass did not run {type(self.layer).__name__}, the layer attributed at; attribute "
                "at another layer, or with a backend at the model's input (ig)"
            )
        return seen[0]

    def run(self, problem: Problem, inputs: Inputs, value: torch.Tensor) -> torch.Tensor:
        with replaced_output(self.layer, value):
            return problem.forward(**inputs)


class InputPoint:
    """The model's continuous input: input embeddings for text, pixels for images."""

    def values(self, problem: Problem) -> tuple[torch.Tensor, torch.Tensor]:
        source, embed = problem.embedding.source, problem.embedding.embed
        with torch.no_grad():
            return embed(problem.inputs[source]), embed(problem.baselines[source])

    def run(self, problem: Problem, inputs: Inputs, value: torch.Tensor) -> torch.Tensor:
        rest = {key: tensor for key, tensor in inputs.items() if key != problem.embedding.source}
        return problem.forward(**rest, **{problem.embedding.key: value})

    def captum_forward(self, problem: Problem) -> tuple[Callable[..., torch.Tensor], tuple[torch.Tensor, ...]]:
        """A captum forward function ``f(value, *rest)`` and the ``rest`` to pass as additional arguments."""
        rest_keys = [key for key in problem.inputs if key != problem.embedding.source]

        def forward(value: torch.Tensor, *rest: torch.Tensor) -> torch.Tensor:
            return self.run(problem, dict(zip(rest_keys, rest)), value)

        return forward, tuple(problem.inputs[key] for key in rest_keys)


def endpoints(point: Point, problem: Problem, baseline: bool = True) -> Endpoints:
    """The point's values and the explained scores at the inputs and (if ``baseline``) at the baselines, in as
    few passes as can be."""
    end, start = point.values(problem)
    return Endpoints(end, start, *endpoint_scores(point, problem, end, start, baseline))
