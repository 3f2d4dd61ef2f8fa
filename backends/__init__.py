"""Built-in attribution backends; captum does the math."""

from attrix.backends.feature_ablation import FeatureAblationBackend
from attrix.backends.grad_x_input import GradientXInput
from attrix.backends.gradient import GradientBackend
from attrix.backends.gradient_shap import GradientShapBackend
from attrix.backends.ig import IntegratedGradientsBackend
from attrix.backends.kernel_shap import KernelShapBackend
from attrix.backends.layer_ig import LayerIntegratedGradientsBackend
from attrix.backends.lime import LimeBackend
from attrix.backends.occlusion import OcclusionBackend
from attrix.backends.path_integral import PathIntegralBackend
from attrix.backends.perturbation import PerturbationBackend
from attrix.backends.saliency import SaliencyBackend
from attrix.backends.sampled_gradient import SampledGradientBackend
from attrix.backends.shapley_sampling import ShapleySamplingBackend
from attrix.backends.smoothgrad import SmoothGradBackend

__all__ = [
    "FeatureAblationBackend",
    "GradientBackend",
    "GradientShapBackend",
    "GradientXInput",
    "IntegratedGradientsBackend",
    "KernelShapBackend",
    "LayerIntegratedGradientsBackend",
    "LimeBackend",
    "OcclusionBackend",
    "PathIntegralBackend",
    "PerturbationBackend",
    "SaliencyBackend",
    "SampledGradientBackend",
    "ShapleySamplingBackend",
    "SmoothGradBackend",
]
