"""``layer_ig``: integrated gradients at the task's attribution layer."""

from __future__ import annotations

from attrix.backends.path_integral import PathIntegralBackend
from attrix.contracts.hookspecs import hookimpl
from attrix.contracts.problem import Problem
from attrix.integration.points import LayerPoint


class LayerIntegratedGradientsBackend(PathIntegralBackend):
    """Integrated gradients at a layer's output (captum's LayerIntegratedGradients); the default."""

    name = "layer_ig"

    def point(self, problem: Problem) -> LayerPoint:
        return LayerPoint(problem.layer)


@hookimpl
def register_backends(register):
    register(LayerIntegratedGradientsBackend)
