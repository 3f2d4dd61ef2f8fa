"""``gradient_shap``: expected gradients between the baseline and noisy copies of the input."""

from __future__ import annotations

from typing import Annotated, Any

from annotated_types import Ge

from attrix.backends.sampled_gradient import SampledGradientBackend, noisy, seeded, uniform
from attrix.contracts.backend import Attributions
from attrix.contracts.hookspecs import hookimpl
from attrix.contracts.points import Endpoints
from attrix.contracts.problem import Problem
from attrix.integration.path import sample_gradients
from attrix.integration.points import InputPoint


class GradientShapBackend(SampledGradientBackend):
    """captum's GradientShap on input embeddings or pixels, from the task's baseline: for each of ``n_samples``
    samples per input, Gaussian noise of standard deviation ``stdevs`` is added to the input (x'), a point
    b + α (x' − b) is drawn uniformly on the line from the baseline b, and (x' − b) times the gradient there is
    averaged over the samples.

    Its expectation is integrated gradients' (with ``stdevs=0``): the convergence delta measures how far one draw
    of ``n_samples`` misses f(x) − f(baseline), and shrinks as ``n_samples`` grows. The noise and the α are drawn
    as captum draws them, from torch's and numpy's generators seeded with ``seed``.
    """

    name = "gradient_shap"

    def __init__(self, *, n_samples: Annotated[int, Ge(1)] = 5, stdevs: Annotated[float, Ge(0)] = 0.0, **options: Any) -> None:
        self.n_samples, self.stdevs = n_samples, float(stdevs)
        super().__init__(**options)

    def integrate(self, problem: Problem, point: InputPoint, ends: Endpoints) -> Attributions:
        device = ends.end.device
        with seeded(self.seed, device):
            inputs = noisy(ends.end, self.n_samples, self.stdevs)
            alphas = uniform(problem.batch_size, self.n_samples, ends.end)
        differences = inputs - ends.start
        samples = alphas * inputs + (1.0 - alphas) * ends.start
        total = ends.end.new_zeros((problem.batch_size, problem.n_targets, *ends.end.shape[1:]))
        for part, target, grad in sample_gradients(point, problem, samples, self.chunking(device)):
            total[:, target] += (differences[part] * grad).sum(0)
        return Attributions.bounded(total / self.n_samples, ends)


@hookimpl
def register_backends(register):
    register(GradientShapBackend)
