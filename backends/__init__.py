"""Built-in attribution backends; captum does the math."""

from attrix.backends.gradient import GradientBackend
from attrix.backends.grad_x_input import GradientXInput
from attrix.backends.ig import IntegratedGradientsBackend
from attrix.backends.path_integral import PathIntegralBackend
from attrix.backends.layer_ig import LayerIntegratedGradientsBackend

__all__ = [
    "GradientBackend",
    "GradientXInput",
    "IntegratedGradientsBackend",
    "LayerIntegratedGradientsBackend",
    "PathIntegralBackend",
]
