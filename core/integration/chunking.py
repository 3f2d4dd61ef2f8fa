"""How the path's rows are cut into forward passes: a fixed number at a time, or as many as fit a memory budget."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

import torch

from attrix.integration.batching import within_allowance


@contextmanager
def saved_bytes(rows: int) -> Iterator[list[int]]:
    """Count the bytes autograd keeps for the backward pass in the block: ``[bytes of tensors with one entry per row,
    bytes of the constants]``, the constants (tensors that need no gradient: the weights the backward pass multiplies
    by) counted once each."""
    total = [0, 0]
    shared: set[int] = set()

    def pack(tensor: torch.Tensor) -> torch.Tensor:
        size = tensor.numel() * tensor.element_size()
        if tensor.dim() and tensor.shape[0] == rows:
            total[0] += size
        elif not tensor.requires_grad and tensor.data_ptr() not in shared:
            shared.add(tensor.data_ptr())
            total[1] += size
        return tensor

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor):
        yield total


@dataclass
class Chunking:
    """Rows per forward pass: ``internal_batch_size`` at a time, as captum chunks them; without it, as many as fit
    ``memory_budget`` bytes of what autograd keeps for the backward pass (measured on a first pass of one item, and
    remembered for the later calls on the same inputs) — or, if ``weight_floor``, as many as fit the bytes of the
    weights that pass keeps, when those are more; without either, everything at once.

    Every pass reads all the weights it multiplies by, however few its rows: a chunk whose rows keep fewer bytes
    than those weights spends its time reading weights. On SmolLM2-135M (513 MiB of weights in the path, 35 MiB of
    activations per point of a 36-token sequence) a 32 MiB budget cut 16 points into 16 passes, each backward pass
    through one point 0.38 s against 0.19 s a point through all 16 (benchmarks/RESULTS.md)."""

    internal_batch_size: int | None = None
    memory_budget: int | None = None
    weight_floor: bool = False
    """Whether chunks may grow to the bytes of the weights when those are more than ``memory_budget`` (a default
    budget may; one the user gave may not)."""
    row_bytes: int | None = field(default=None, init=False)
    """Bytes a row keeps for the backward pass, once measured."""
    weight_bytes: int = field(default=0, init=False)
    """Bytes of the weights a pass keeps for its backward pass (the same for any number of rows), once measured."""

    def chunks(
        self, count: int, rows_per_item: int = 1, work: Sequence[int] | None = None
    ) -> Iterator[tuple[slice, list[int] | None]]:
        """Slices of ``count`` items of ``rows_per_item`` rows each, each with a list for the bytes its pass keeps
        (``saved_bytes``) when it is the one that measures them, else None.

        ``work`` gives each item's backward passes, in descending order: every pass runs through all the rows of a
        slice, so a slice also ends where its idle rows would exceed the padding allowance (attrix.integration.batching).
        """
        first = 0
        while first < count:
            kept = [0, 0] if self.row_bytes is None and self.internal_batch_size is None and self.memory_budget else None
            size = min(count - first, 1 if kept is not None else self._items(count, rows_per_item))
            if work is not None:
                size = _busy_prefix(work[first : first + size])
            yield slice(first, first + size), kept
            first += size
            if kept is not None:
                self.row_bytes, self.weight_bytes = max(1, kept[0] // rows_per_item), kept[1]

    def _items(self, count: int, rows_per_item: int) -> int:
        if self.internal_batch_size is not None:
            return max(1, self.internal_batch_size // rows_per_item)
        if self.row_bytes is not None and self.memory_budget:
            budget = max(self.memory_budget, self.weight_bytes) if self.weight_floor else self.memory_budget
            return max(1, budget // (self.row_bytes * rows_per_item))
        return count


def _busy_prefix(work: Sequence[int]) -> int:
    """The length of the longest prefix of ``work`` (descending) whose idle share stays within the allowance."""
    size, total = 1, work[0]
    while size < len(work) and within_allowance(size + 1, work[0], total + work[size]):
        total += work[size]
        size += 1
    return size


@contextmanager
def counted(rows: int, kept: list[int] | None) -> Iterator[None]:
    """Add the bytes the block keeps for the backward pass (``saved_bytes``: per row, and of weights) to ``kept``, if
    given."""
    if kept is None:
        yield
        return
    with saved_bytes(rows) as total:
        yield
    kept[0] += total[0]
    kept[1] = max(kept[1], total[1])
