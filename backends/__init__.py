"""Built-in attribution backends; captum does the math."""

from attrix.backends.captum_backend import CaptumBackend
from attrix.backends.grad_x_input import GradientXInput
from attrix.backends.ig import IntegratedGradientsBackend
from attrix.backends.integration import PathIntegralBackend
from attrix.backends.layer_ig import LayerIntegratedGradientsBackend

__all__ = [
    "CaptumBackend",
    "GradientXInput",
    "IntegratedGradientsBackend",
    "LayerIntegratedGradientsBackend",
    "PathIntegralBackend",
]
