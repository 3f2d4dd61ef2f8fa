"""``layer_ig``: integrated gradients at the task's attribution layer."""

from __future__ import annotations

from attrix.backends.integration import PathIntegralBackend
from attrix.hookspecs import hookimpl
from attrix.points import LayerPoint
from attrix.problem import Problem


class LayerIntegratedGradientsBackend(PathIntegralBackend):
    """Integrated gradients at a layer's output (captum's LayerIntegratedGradients); the default."""

    name = "layer_ig"

    def point(self, problem: Problem) -> LayerPoint:
        return LayerPoint(problem.layer)


@hookimpl
def register_backends(register):
    register(LayerIntegratedGradientsBackend)
