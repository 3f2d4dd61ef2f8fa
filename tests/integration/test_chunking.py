"""Rows cut into forward passes: a fixed number, a memory budget measured once, and no more idle rows than allowed."""

from __future__ import annotations

import random

import pytest
import torch

from attrix.integration.batching import PADDING_ALLOWANCE
from attrix.integration.chunking import Chunking, saved_bytes


def _slices(chunking: Chunking, count: int, rows_per_item: int = 1, work: list[int] | None = None, kept_bytes: int = 0):
    """The (start, stop, measured) of each slice, filling a measuring slice's list with ``kept_bytes``."""
    found = []
    for part, kept in chunking.chunks(count, rows_per_item, work):
        if kept is not None:
            kept[0] = kept_bytes
        found.append((part.start, part.stop, kept is not None))
    return found


def test_internal_batch_size_counts_rows_and_measures_nothing():
    assert _slices(Chunking(internal_batch_size=6), 7, rows_per_item=2) == [(0, 3, False), (3, 6, False), (6, 7, False)]
    assert _slices(Chunking(internal_batch_size=1), 2, rows_per_item=4) == [(0, 1, False), (1, 2, False)]


def test_without_size_or_budget_everything_runs_at_once():
    assert _slices(Chunking(), 9, rows_per_item=3) == [(0, 9, False)]


def test_a_budget_is_measured_on_one_item_then_fills_the_others_and_is_remembered():
    chunking = Chunking(memory_budget=1000)
    # one item of 2 rows keeps 200 bytes: 100 a row, so 1000 bytes hold 5 items of 2 rows
    assert _slices(chunking, 12, rows_per_item=2, kept_bytes=200) == [(0, 1, True), (1, 6, False), (6, 11, False), (11, 12, False)]
    assert chunking.row_bytes == 100
    assert _slices(chunking, 12, rows_per_item=1) == [(0, 10, False), (10, 12, False)]


@pytest.mark.parametrize(("weight_floor", "expected"), [(True, [(0, 1), (1, 11), (11, 12)]), (False, [(0, 1), (1, 6), (6, 11), (11, 12)])])
def test_weights_larger_than_a_default_budget_widen_the_chunks_to_their_size(weight_floor, expected):
    chunking = Chunking(memory_budget=1000, weight_floor=weight_floor)
    found = []
    for part, kept in chunking.chunks(12, 2):
        if kept is not None:
            kept[:] = [200, 2000]  # 100 bytes a row, 2000 of weights: chunks of 2000 bytes, 10 items of 2 rows
        found.append((part.start, part.stop))
    assert found == expected and chunking.weight_bytes == 2000


def test_the_weights_a_pass_keeps_are_measured_once_and_activations_per_row():
    weight = torch.randn(64, 32)
    rows = torch.randn(5, 64, requires_grad=True)
    with saved_bytes(5) as total:
        torch.tanh(rows @ weight @ weight.T)  # weight kept twice (once transposed, the same storage)
    assert total[1] == weight.numel() * 4
    assert total[0] >= rows.numel() * 4


def test_a_budget_below_one_row_still_runs_one_item_at_a_time():
    assert _slices(Chunking(memory_budget=1), 3, kept_bytes=500) == [(0, 1, True), (1, 2, False), (2, 3, False)]


@pytest.mark.parametrize("seed", range(5))
def test_slices_end_where_idle_rows_would_pass_the_allowance(seed):
    rng = random.Random(seed)
    work = sorted((rng.randint(1, 40) for _ in range(60)), reverse=True)
    found = _slices(Chunking(internal_batch_size=16), len(work), work=work)
    assert [start for start, _, _ in found] == [0] + [stop for _, stop, _ in found[:-1]] and found[-1][1] == len(work)
    for start, stop, _ in found:
        assert stop - start <= 16
        assert (stop - start) * work[start] <= (1 + PADDING_ALLOWANCE) * sum(work[start:stop])
        if stop < len(work) and stop - start < 16:  # one item more would have passed the allowance
            assert (stop + 1 - start) * work[start] > (1 + PADDING_ALLOWANCE) * sum(work[start:stop + 1])


def test_equal_work_fills_the_slices():
    assert _slices(Chunking(internal_batch_size=4), 6, work=[3] * 6) == [(0, 4, False), (4, 6, False)]
    assert _slices(Chunking(), 4, work=[2, 1, 1, 1]) == [(0, 1, False), (1, 4, False)]
