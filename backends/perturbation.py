"""What the perturbation backends share: the features they remove, the forward passes they batch, and how each
feature's attribution is spread over the elements it groups."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Annotated, Any

import torch
from annotated_types import Ge
from torch import nn

from attrix.backends.groups import highest_id
from attrix.backends.path_integral import default_memory_budget
from attrix.contracts.backend import Attributions, Backend
from attrix.contracts.points import Endpoints
from attrix.contracts.problem import Problem
from attrix.integration.points import InputPoint, endpoints
from attrix.integration.removal import feature_ids, first_removable, kept_elements

ScoresForward = Callable[..., torch.Tensor]
"""A forward captum calls with ``n`` perturbed inputs (and their additional arguments): the explained scores
``[n, n_targets]``."""


@contextmanager
def output_bytes(rows: int) -> Iterator[list[int]]:
    """Count the bytes of every module output of ``rows`` rows made while the block runs."""
    total = [0]

    def count(module: nn.Module, args: object, output: object) -> None:
        if isinstance(output, torch.Tensor) and output.dim() and output.shape[0] == rows:
            total[0] += output.numel() * output.element_size()

    handle = nn.modules.module.register_module_forward_hook(count)
    try:
        yield total
    finally:
        handle.remove()


def scores_forward(problem: Problem) -> tuple[ScoresForward, tuple[torch.Tensor, ...]]:
    """A captum forward ``f(value, rows, *rest)`` giving every target's score at once, and the ``(rows, *rest)`` to
    pass it as additional arguments: captum copies them along with the perturbed inputs, so that ``rows`` names the
    problem row whose targets each perturbed input is scored toward."""
    forward, rest = InputPoint().captum_forward(problem)

    def scores(value: torch.Tensor, rows: torch.Tensor, *rest: torch.Tensor) -> torch.Tensor:
        return forward(value, *rest).gather(1, problem.targets[rows])

    return scores, (torch.arange(problem.batch_size, device=problem.targets.device), *rest)


def presence_forward(
    problem: Problem, ids: torch.Tensor, ends: Endpoints
) -> tuple[ScoresForward, torch.Tensor, tuple[torch.Tensor, ...], int]:
    """Feature removal as captum sees it when it perturbs elements one by one: an input ``present`` of ones, one per
    removable feature ``[batch, n]`` (its baseline zero), a forward taking it and the additional arguments to pass,
    which keeps the input's value where a feature is present and puts the baseline's where it is not; and the first
    removable feature id (``first_removable``)."""
    scores, args = scores_forward(problem)
    first = first_removable(ids, ends.end, ends.start)

    def forward(
        present: torch.Tensor, end: torch.Tensor, start: torch.Tensor, ids: torch.Tensor, *args: torch.Tensor
    ) -> torch.Tensor:
        kept = kept_elements(present, ids, first)
        return scores(end * kept + start * (1 - kept), *args)

    count = highest_id(ids) + 1 - first
    present = torch.ones(problem.batch_size, count, dtype=ends.end.dtype, device=ends.end.device)
    return forward, present, (ends.end, ends.start, ids, *args), first


@contextmanager
def seeded(seed: int) -> Iterator[None]:
    """Run the block with torch's CPU generator (which captum samples from) seeded with ``seed``, leaving the caller's
    random state as it was."""
    with torch.random.fork_rng(devices=[]):
        torch.random.default_generator.manual_seed(seed)
        yield


class PerturbationBackend(Backend):
    """A method that removes features and watches the explained scores move. A removed feature takes the task's
    baseline, the reference integrated gradients start from (for text, the token of the task's ``baseline`` option
    in the input embeddings; special tokens and padding are never removed, as the baseline keeps them).

    ``features`` names the task's grouping of the model's continuous input (``Problem.features``): ``"word"`` for
    text (or ``"token"``, ``"sentence"``), ``"patch"`` for images (or ``"pixel"``). No gradients are taken: every
    pass runs under ``torch.no_grad()``, and each gives the scores of every target. Perturbed inputs are run
    ``perturbations_per_eval`` at a time per input (with the whole batch); without it, as many as fit
    ``memory_budget`` bytes of module outputs (measured on the pass that scores the baseline; default: 32 MiB on the
    CPU, half the free GPU memory). Each feature's attribution is spread evenly over the elements of the input it
    groups, so that summing a word's (or patch's) elements gives the feature's attribution back.
    """

    def __init__(
        self,
        *,
        features: str | None = None,
        perturbations_per_eval: Annotated[int, Ge(1)] | None = None,
        memory_budget: Annotated[int, Ge(1)] | None = None,
    ) -> None:
        self.features, self.perturbations_per_eval, self.memory_budget = features, perturbations_per_eval, memory_budget

    @classmethod
    def validate_options(cls, options: Mapping[str, Any]) -> None:
        """``memory_budget`` only chooses ``perturbations_per_eval``: not both."""
        if options.get("perturbations_per_eval") is not None and options.get("memory_budget") is not None:
            raise ValueError(
                "give perturbations_per_eval or memory_budget, not both: the budget only chooses perturbations_per_eval"
            )

    @abstractmethod
    def perturb(self, problem: Problem, ids: torch.Tensor, ends: Endpoints, per_eval: int) -> torch.Tensor:
        """Every target's attribution to every element of the continuous input, ``[batch, n_targets, *value]``,
        with perturbed inputs run ``per_eval`` at a time per input."""

    def inputs_per_perturbation(self, problem: Problem) -> int:
        """How many inputs one perturbation runs through the model: the whole batch, perturbed alike."""
        return problem.batch_size

    def attribute(self, problem: Problem) -> Attributions:
        ids = feature_ids(problem, self.features)
        rows = problem.batch_size * (1 if problem.prediction is not None else 2)
        with torch.no_grad(), output_bytes(rows) as made:
            ends = endpoints(InputPoint(), problem)
        if torch.equal(ends.end, ends.start):  # nothing to remove
            return Attributions.bounded(ends.end.new_zeros(problem.batch_size, problem.n_targets, *ends.end.shape[1:]), ends)
        with torch.no_grad():
            values = self.perturb(problem, ids, ends, self.per_eval(problem, ends, made[0] // rows))
        return Attributions.bounded(values.to(ends.end.dtype), ends)

    def per_eval(self, problem: Problem, ends: Endpoints, row_bytes: int) -> int:
        """``perturbations_per_eval``, or as many perturbations as fit the memory budget (at least one)."""
        if self.perturbations_per_eval is not None:
            return self.perturbations_per_eval
        budget = self.memory_budget or default_memory_budget(ends.end.device)
        return max(1, budget // (max(1, row_bytes) * self.inputs_per_perturbation(problem)))
