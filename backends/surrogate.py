"""What ``kernel_shap`` and ``lime`` share: a linear model fitted to the scores of randomly masked inputs, in closed
form, and one set of model passes serving every target."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Callable
from typing import Annotated, Any

import torch
from annotated_types import Ge
from captum.attr import Lime
from torch.utils.data import DataLoader

from attrix.backends.groups import spread_totals
from attrix.backends.perturbation import PerturbationBackend, ScoresForward, scores_forward, seeded
from attrix.contracts.points import Endpoints
from attrix.contracts.problem import Problem
from attrix.errors import AttrixError


class WeightedLeastSquares:
    """captum's interpretable model (``fit``, ``representation``): a linear regression with an intercept fitted to
    weighted samples in closed form in float64, as scikit-learn's LinearRegression fits it: on data centred at the
    weighted means, so that the intercept is free, and the coefficients of least norm where samples are too few."""

    coefficients: torch.Tensor

    def fit(self, data: DataLoader) -> None:
        samples, outputs, weights = (torch.cat(part).double() for part in zip(*data))
        share = (weights / weights.sum()).unsqueeze(1)
        root = weights.sqrt().unsqueeze(1)
        centred = (samples - (share * samples).sum(0)) * root
        target = (outputs.unsqueeze(1) - (share * outputs.unsqueeze(1)).sum(0)) * root
        self.coefficients = (torch.linalg.pinv(centred) @ target).squeeze(1)

    def representation(self) -> torch.Tensor:
        return self.coefficients


def replaying(scores: ScoresForward, n_targets: int) -> list[Callable[..., torch.Tensor]]:
    """One forward per target, each giving that target's scores: the first runs the model and keeps every target's
    scores, the others give back the kept ones call by call. Each target must then draw the same samples in the same
    order (the same seed), so that each sample runs through the model once for all targets."""
    kept: list[torch.Tensor] = []

    def first(value: torch.Tensor, *args: torch.Tensor) -> torch.Tensor:
        kept.append(scores(value, *args))
        return kept[-1][:, 0]

    def later(column: int) -> Callable[..., torch.Tensor]:
        calls = iter(kept)

        def forward(value: torch.Tensor, *args: torch.Tensor) -> torch.Tensor:
            outputs = next(calls, None)
            if outputs is None or outputs.shape[0] != value.shape[0]:
                raise AttrixError("the samples drawn for one target differ from those of the first; they must repeat")
            return outputs[:, column]

        return forward

    return [first, *(later(column) for column in range(1, n_targets))]


class SurrogateBackend(PerturbationBackend):
    """A captum LIME-family method on the task's features: ``n_samples`` random subsets of the features kept (the
    rest replaced by the baseline), a linear model of the score fitted to them, its coefficients the attributions.
    Each input is fitted on its own features (its explanation does not depend on the batch it came in). captum fits
    one scalar output at a time: each target is one captum call drawing the same samples (torch's generator seeded
    with ``seed`` before each; the caller's random state is left as it was), and only the first target's call runs
    the model, the others reuse its scores of every target. Feature 0 (the special
    tokens the baseline keeps) is one of the features the model is fitted on, as captum counts every id of the mask.
    """

    def __init__(self, *, n_samples: Annotated[int, Ge(1)] = 200, seed: Annotated[int, Ge(0)] = 0, **options: Any) -> None:
        super().__init__(**options)
        self.n_samples, self.seed = n_samples, seed

    @abstractmethod
    def method(self, forward: Callable[..., torch.Tensor]) -> Lime:
        """The captum method, around ``forward``, fitting a ``WeightedLeastSquares``."""

    def inputs_per_perturbation(self, problem: Problem) -> int:
        """captum runs the samples of one input at a time."""
        return 1

    def perturb(self, problem: Problem, ids: torch.Tensor, ends: Endpoints, per_eval: int) -> torch.Tensor:
        """Each input on its own, with its own features only: ``[batch, n_targets, *value]``."""
        scores, args = scores_forward(problem)
        rows = [
            self.one_input(scores, ends, ids, args, slice(row, row + 1), problem.n_targets, per_eval)
            for row in range(problem.batch_size)
        ]
        return spread_totals(torch.cat(rows), ids, ends.end)

    def one_input(
        self,
        scores: ScoresForward,
        ends: Endpoints,
        ids: torch.Tensor,
        args: tuple[torch.Tensor, ...],
        row: slice,
        n_targets: int,
        per_eval: int,
    ) -> torch.Tensor:
        """The attributions of input ``row`` toward each of its targets, ``[1, n_targets, *value]``, every element
        holding its feature's coefficient."""
        columns = []
        for forward in replaying(scores, n_targets):
            with seeded(self.seed):
                method = self.method(forward)
                columns.append(
                    method.attribute(
                        ends.end[row],
                        baselines=ends.start[row],
                        additional_forward_args=tuple(arg[row] for arg in args),
                        feature_mask=ids[row],
                        n_samples=self.n_samples,
                        perturbations_per_eval=min(per_eval, self.n_samples),
                    )
                )
        return torch.stack(columns, 1)
