"""Inputs grouped into batches of similar length, so that padding costs little."""

from __future__ import annotations

from collections.abc import Sequence

PADDING_ALLOWANCE = 0.1
"""The share of a batch's tokens that may be padding: a forward pass costs what its padded tokens cost, and on the
CPU a batch of a few inputs runs as fast per token as a large one, so a batch ends where padding would exceed it."""


def within_allowance(rows: int, longest: int, total: int) -> bool:
    """Whether ``rows`` items padded to ``longest`` add at most ``PADDING_ALLOWANCE`` of their ``total``."""
    return rows * longest <= (1 + PADDING_ALLOWANCE) * total


def length_batches(lengths: Sequence[int], batch_size: int) -> list[list[int]]:
    """The indices of ``lengths``, shortest first, cut into batches of at most ``batch_size`` in which padding to
    the longest adds at most ``PADDING_ALLOWANCE`` of the real lengths."""
    batches: list[list[int]] = []
    total = 0
    for index in sorted(range(len(lengths)), key=lengths.__getitem__):
        length = lengths[index]
        current = batches[-1] if batches else []
        if not current or len(current) == batch_size or not within_allowance(len(current) + 1, length, total + length):
            batches.append([index])
            total = length
            continue
        current.append(index)
        total += length
    return batches
