"""``layer_ig``: integrated gradients at the task's attribution layer."""

from __future__ import annotations

import torch
from captum.attr import LayerIntegratedGradients

from attrix.backends.integration import PathIntegralBackend
from attrix.hookspecs import hookimpl
from attrix.points import LayerPoint
from attrix.problem import Problem


class LayerIntegratedGradientsBackend(PathIntegralBackend):
    """Integrated gradients at a layer's output (captum's LayerIntegratedGradients); the default."""

    name = "layer_ig"

    def point(self, problem: Problem) -> LayerPoint:
        return LayerPoint(problem.layer)

    def captum(self, problem: Problem, point: LayerPoint, end: torch.Tensor, start: torch.Tensor, targets: list[int]) -> torch.Tensor:
        keys = list(problem.inputs)
        return LayerIntegratedGradients(lambda *tensors: problem.forward(**dict(zip(keys, tensors))), problem.layer).attribute(
            tuple(problem.inputs[key] for key in keys),
            baselines=tuple(problem.baselines[key] for key in keys),
            target=targets,
            n_steps=self.n_steps,
            method=self.method,
            internal_batch_size=self.internal_batch_size,
        )


@hookimpl
def register_backends(register):
    register(LayerIntegratedGradientsBackend)
