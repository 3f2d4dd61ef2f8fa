"""Human rationales: a list of word indexes or a 0/1 mask per word, checked and put on a feature grouping's columns."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from attrix.contracts.problem import Problem
from attrix.errors import InputError

Rationale = Sequence[int] | Sequence[bool]


def word_mask(rationale: Rationale, n_words: int) -> torch.Tensor:
    """The rationale as a 0/1 float per word: a mask (bools, or 0/1 values as many as the words) as it is, else a list
    of word indexes; an error says what was wrong and what would be right."""
    values = list(rationale)
    if not all(isinstance(value, (bool, int)) for value in values):
        raise InputError(f"a rationale is a list of word indexes or a 0/1 mask per word, not {rationale!r}")
    as_mask = values and (all(isinstance(value, bool) for value in values) or (len(values) == n_words and set(values) <= {0, 1}))
    if as_mask:
        if len(values) != n_words:
            raise InputError(f"a rationale mask has one value per word: the input has {n_words} words, the mask {len(values)}")
        return torch.tensor([float(value) for value in values])
    outside = [index for index in values if not 0 <= index < n_words]
    if outside:
        raise InputError(f"rationale word indexes {outside} are outside the input's {n_words} words (indexes 0 to {n_words - 1})")
    mask = torch.zeros(n_words)
    mask[list(values)] = 1.0
    return mask


def feature_rationales(
    problem: Problem, ids: torch.Tensor, first: int, count: int, masks: Sequence[torch.Tensor | None]
) -> torch.Tensor | None:
    """Each problem row's rationale on the feature columns of grouping ``ids`` (``first``, …, ``first + count - 1``):
    a feature is marked when a word it covers is; NaN rows where ``masks`` (one per row, per word) has None; None when
    no row has a rationale."""
    if all(mask is None for mask in masks):
        return None
    words = problem.features.get("word")
    if words is None:
        raise InputError("rationales are marked on words, and this task's inputs have no words (text tasks have them)")
    marked = torch.full((len(masks), count), torch.nan)
    for row, mask in enumerate(masks):
        if mask is None:
            continue
        word, feature = words[row].flatten().cpu(), ids[row].flatten().cpu()
        inside = (word > 0) & (feature >= first)
        own = torch.zeros(count)
        own.scatter_reduce_(0, feature[inside] - first, mask[word[inside] - 1], "amax")
        marked[row] = own
    return marked.to(ids.device)


def rationale_list(rationales: Sequence[Rationale | None] | None, n_items: int) -> list[Any]:
    """One rationale (or None) per item; an error when their number is not the items'."""
    if rationales is None:
        return [None] * n_items
    if len(rationales) != n_items:
        raise InputError(f"give one rationale (or None) per item: {n_items} items, {len(rationales)} rationales")
    return list(rationales)
