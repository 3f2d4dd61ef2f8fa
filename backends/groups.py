"""Feature groups of a problem's continuous input, for the perturbation backends: the size of each group, and
attributions per group spread over the group's elements (the grouping itself: attrix.integration.removal)."""

from __future__ import annotations

import torch


def highest_id(ids: torch.Tensor) -> int:
    """The highest feature id of any row."""
    return int(ids.max())


def element_sizes(ids: torch.Tensor, value: torch.Tensor) -> torch.Tensor:
    """The number of elements of ``value`` in each element's group, ``[batch, 1, *ids.shape[1:]]``: a group's
    positions times the elements each position holds (a token's hidden size, a pixel's channels)."""
    flat = ids.flatten(1)
    positions = torch.zeros(flat.shape[0], highest_id(ids) + 1, dtype=value.dtype, device=value.device)
    positions.scatter_add_(1, flat, torch.ones_like(flat, dtype=value.dtype))
    per_position = value[0].numel() // ids[0].numel()
    return (positions.gather(1, flat) * per_position).view(ids.shape).unsqueeze(1)


def spread_totals(totals: torch.Tensor, ids: torch.Tensor, value: torch.Tensor) -> torch.Tensor:
    """Attributions ``[batch, n_targets, *value]`` in which every element holds its whole group's attribution (as
    captum gives them), spread evenly over the group's elements."""
    return totals.to(value.dtype) / element_sizes(ids, value)


def spread_table(table: torch.Tensor, ids: torch.Tensor, value: torch.Tensor, first: int) -> torch.Tensor:
    """Attributions per feature ``[batch, n_targets, n]`` of features ``first``, ``first + 1``, … (the features
    before ``first`` get none) spread evenly over each feature's elements: ``[batch, n_targets, *value]``."""
    batch, n_targets = table.shape[:2]
    padded = torch.cat([table.new_zeros(batch, n_targets, first), table], -1).to(value.dtype)
    flat = ids.flatten(1).unsqueeze(1).expand(batch, n_targets, -1)
    per_element = padded.gather(2, flat).view(batch, n_targets, *ids.shape[1:]) / element_sizes(ids, value)
    return torch.broadcast_to(per_element, (batch, n_targets, *value.shape[1:])).contiguous()


