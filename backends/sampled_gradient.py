"""What the sampling gradient backends share: seeded random draws made as captum makes them, and chunks of samples."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import numpy as np
import torch
from annotated_types import Ge, Lt

from attrix.backends.gradient import GradientBackend
from attrix.backends.path_integral import default_memory_budget
from attrix.contracts.problem import Problem
from attrix.integration.chunking import Chunking
from attrix.integration.points import InputPoint

Seed = Annotated[int, Ge(0), Lt(2**32)]
"""A seed for torch's and numpy's generators (numpy takes seeds below 2³²)."""


@contextmanager
def seeded(seed: int | None, device: torch.device) -> Iterator[None]:
    """Draw from torch's generators (the CPU's and ``device``'s) and numpy's global one, seeded with ``seed``, while the
    block runs, and leave them as they were after it; with ``seed=None``, draw from them as they stand."""
    if seed is None:
        yield
        return
    state = np.random.get_state()
    with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
        torch.random.default_generator.manual_seed(seed)
        if device.type == "cuda":
            with torch.cuda.device(device):
                torch.cuda.manual_seed(seed)
        np.random.seed(seed)
        try:
            yield
        finally:
            np.random.set_state(state)


def noisy(values: torch.Tensor, samples: int, stdev: float) -> torch.Tensor:
    """``samples`` copies of each row of ``values`` with Gaussian noise of standard deviation ``stdev`` added:
    ``[samples, batch, ...]``, drawn as captum's NoiseTunnel draws them (one normal draw over ``batch * samples``
    rows, the copies of a row next to each other)."""
    batch, shape = values.shape[0], values.shape[1:]
    noise = torch.normal(0.0, torch.tensor(stdev, device=values.device).repeat(batch * samples, *shape))
    return (values.repeat_interleave(samples, dim=0) + noise).view(batch, samples, *shape).transpose(0, 1)


def uniform(batch: int, samples: int, like: torch.Tensor) -> torch.Tensor:
    """``samples`` numbers drawn uniformly from [0, 1) for each of ``batch`` rows, from numpy's global generator as
    captum's GradientShap draws them: ``[samples, batch, 1, ...]``, broadcastable against ``like``'s rows."""
    drawn = torch.tensor(np.random.uniform(0.0, 1.0, batch * samples), dtype=like.dtype, device=like.device)
    return drawn.view(batch, samples).T.reshape(samples, batch, *([1] * (like.dim() - 1)))


class SampledGradientBackend(GradientBackend):
    """A gradient method averaged over random points drawn for each input: the same ``seed`` gives the same points for
    the same batch (a batch's points are drawn together, so they depend on its other inputs and its padding).

    A chunk of samples takes one forward pass for every target, and each target one backward pass through it. Without
    ``internal_batch_size``, the chunks fit ``memory_budget`` bytes (default: 32 MiB on the CPU, half the free GPU
    memory); ``seed=None`` draws from torch's and numpy's global generators as they stand.
    """

    def __init__(
        self,
        *,
        seed: Seed | None = 0,
        internal_batch_size: Annotated[int, Ge(1)] | None = None,
        memory_budget: Annotated[int, Ge(1)] | None = None,
    ) -> None:
        self.seed, self.internal_batch_size, self.memory_budget = seed, internal_batch_size, memory_budget

    def point(self, problem: Problem) -> InputPoint:
        """Samples are drawn around the model's continuous input: input embeddings or pixels."""
        return InputPoint()

    def chunking(self, device: torch.device) -> Chunking:
        """How the samples are cut into forward passes."""
        return Chunking(
            self.internal_batch_size, self.memory_budget or default_memory_budget(device), weight_floor=self.memory_budget is None
        )
