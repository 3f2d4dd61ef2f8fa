"""``lime``: a local linear model of the scores of randomly masked inputs (captum's Lime)."""

from __future__ import annotations

from collections.abc import Callable

import torch
from captum.attr import Lime

from attrix.backends.surrogate import SurrogateBackend, WeightedLeastSquares
from attrix.contracts.hookspecs import hookimpl


class LimeBackend(SurrogateBackend):
    """LIME: each feature kept with probability ½, each sample weighted by its closeness to the input (captum's
    exponential kernel of the cosine distance, width 1, on the continuous input), and a weighted linear regression
    fitted to the scores; its coefficients are the attributions. The regression is least squares in closed form,
    without the Lasso penalty of captum's default (which needs scikit-learn); nothing bounds the attributions' sum."""

    name = "lime"

    def method(self, forward: Callable[..., torch.Tensor]) -> Lime:
        return Lime(forward, interpretable_model=WeightedLeastSquares())


@hookimpl
def register_backends(register):
    register(LimeBackend)
