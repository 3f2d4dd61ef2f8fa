"""Built-in attribution backends; captum does the math."""

from attrix.backends.grad_x_input import GradientXInput
from attrix.backends.gradient import GradientBackend
from attrix.backends.ig import IntegratedGradientsBackend
from attrix.backends.layer_ig import LayerIntegratedGradientsBackend
from attrix.backends.path_integral import PathIntegralBackend

__all__ = [
    "GradientBackend",
    "GradientXInput",
    "IntegratedGradientsBackend",
    "LayerIntegratedGradientsBackend",
    "PathIntegralBackend",
]
