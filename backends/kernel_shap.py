"""``kernel_shap``: Shapley values estimated by a weighted linear fit (captum's KernelShap)."""

from __future__ import annotations

from collections.abc import Callable

import torch
from captum.attr import KernelShap

from attrix.backends.surrogate import SurrogateBackend, WeightedLeastSquares
from attrix.contracts.hookspecs import hookimpl


class KernelShapBackend(SurrogateBackend):
    """Kernel SHAP: subsets of features drawn with the Shapley kernel's weights (the empty and the full set first,
    weighted heavily), and a linear regression fitted to their scores; its coefficients estimate Shapley values, whose
    sum approaches f(x) − f(baseline). The regression is solved in closed form (captum's default needs scikit-learn)."""

    name = "kernel_shap"

    def method(self, forward: Callable[..., torch.Tensor]) -> KernelShap:
        method = KernelShap(forward)
        method.interpretable_model = WeightedLeastSquares()
        return method


@hookimpl
def register_backends(register):
    register(KernelShapBackend)
