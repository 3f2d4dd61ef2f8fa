"""Turning what a user asks to explain (a label name, an index, ``"all"``) into output indices."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from numbers import Integral
from typing import Union

from attrix.errors import InputError, UnknownNameError

Target = Union[None, str, int, Sequence[str | int]]


def resolve_targets(target: Target, labels: Mapping[int, str], predicted: Sequence[int]) -> list[int]:
    """The output indices ``target`` names: the ``predicted`` ones when it is None, every label for ``"all"``, each of
    a list or tuple of labels."""
    if target is None:
        return list(predicted)
    if isinstance(target, str) and target == "all" and "all" not in labels.values():
        return sorted(labels)
    if isinstance(target, Sequence) and not isinstance(target, (str, bytes, bytearray)):
        return [resolve_label(one, labels) for one in target]
    return [resolve_label(target, labels)]


def resolve_label(label: str | int, labels: Mapping[int, str]) -> int:
    """The output index of ``label``, given as a name (case-insensitive if unambiguous) or an integer index (a numpy
    integer too); a float, a bool or anything else is refused with an ``InputError``."""
    if isinstance(label, float) and label.is_integer():
        raise InputError(
            f"a target must be a label name or an integer index, got float {label!r}: write {int(label)} for the index"
        )
    if isinstance(label, bool) or not isinstance(label, (str, Integral)):
        raise InputError(f"a target must be a label name or an integer index, got {type(label).__name__} {label!r:.80}")
    if isinstance(label, Integral):
        label = int(label)
        if label in labels:
            return label
        raise InputError(f"target index {label} is out of range; valid indices: 0..{len(labels) - 1} ({_listing(labels)})")
    exact = [index for index, name in labels.items() if name == label]
    folded = [index for index, name in labels.items() if name.casefold() == label.casefold()]
    matches = exact or folded
    if len(matches) == 1:
        return matches[0]
    raise UnknownNameError("label", label, labels.values())


def _listing(labels: Mapping[int, str]) -> str:
    return ", ".join(f"{index}={name}" for index, name in sorted(labels.items()))
