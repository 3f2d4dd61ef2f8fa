"""Feature groups of a problem's continuous input, for the perturbation backends: the grouping a backend is asked
for, the size of each group, and attributions per group spread over the group's elements."""

from __future__ import annotations

import torch

from attrix.contracts.problem import Problem
from attrix.errors import InputError, UnknownNameError

DEFAULT_FEATURES = ("word", "patch")
"""The grouping used when none is asked for: the first of these the task gives (words of text, patches of images)."""


def feature_ids(problem: Problem, name: str | None) -> torch.Tensor:
    """The feature ids of grouping ``name`` (or the default one), ``[batch, ...]``; an error lists the task's groupings
    when it has no such one."""
    if not problem.features:
        raise InputError("this task gives no features to remove; the perturbation backends need Problem.features")
    if name is None:
        name = next((default for default in DEFAULT_FEATURES if default in problem.features), None)
        if name is None:
            raise InputError(f"choose the features to remove with features=...; this task gives: {', '.join(problem.features)}")
    if name not in problem.features:
        raise UnknownNameError("features", name, problem.features, "for this task")
    return problem.features[name].contiguous()


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


def first_removable(ids: torch.Tensor, end: torch.Tensor, start: torch.Tensor) -> int:
    """The first feature id worth removing: 1 where the baseline equals the input on all of feature 0 (the special
    tokens and padding of text, which removing would not change), else 0 (a patch or pixel of an image)."""
    return 0 if ((end != start) & (ids == 0)).any() else 1


def spread_table(table: torch.Tensor, ids: torch.Tensor, value: torch.Tensor, first: int) -> torch.Tensor:
    """Attributions per feature ``[batch, n_targets, n]`` of features ``first``, ``first + 1``, … (the features
    before ``first`` get none) spread evenly over each feature's elements: ``[batch, n_targets, *value]``."""
    batch, n_targets = table.shape[:2]
    padded = torch.cat([table.new_zeros(batch, n_targets, first), table], -1).to(value.dtype)
    flat = ids.flatten(1).unsqueeze(1).expand(batch, n_targets, -1)
    per_element = padded.gather(2, flat).view(batch, n_targets, *ids.shape[1:]) / element_sizes(ids, value)
    return torch.broadcast_to(per_element, (batch, n_targets, *value.shape[1:])).contiguous()


def kept_elements(present: torch.Tensor, ids: torch.Tensor, first: int) -> torch.Tensor:
    """Which elements are kept, ``[n, *ids.shape[1:]]``, given which of features ``first``, ``first + 1``, … are
    (``present``, ``[n, n]``, 1 or 0): the features before ``first`` always are."""
    with_fixed = torch.cat([torch.ones_like(present[:, :1]).expand(-1, first), present], 1)
    return with_fixed.gather(1, ids.flatten(1)).view(ids.shape)
