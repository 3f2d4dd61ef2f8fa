"""Checking plain data (what YAML gives, or a Python caller) against type hints, and saying in words what a hint allows.

A hint may carry constraints that a type cannot say, as ``typing.Annotated`` metadata from ``annotated_types``:
``Annotated[int, Ge(1)]``, ``Annotated[float, Gt(0), Lt(1)]``, ``Annotated[float, Interval(ge=0, le=1)]``,
``Annotated[list[str], Len(1)]``. ``Gt``, ``Ge``, ``Lt``, ``Le``, ``Interval``, ``MultipleOf``, ``MinLen``,
``MaxLen``, ``Len`` and ``Predicate`` are checked and described; other metadata is left alone.
"""

from __future__ import annotations

import collections.abc
import numbers
import operator
import types
import typing
from collections.abc import Iterator
from typing import Annotated, Any, Literal, Union

import annotated_types

SEQUENCES = (list, tuple, collections.abc.Sequence)
MAPPINGS = (dict, collections.abc.Mapping)
WORDS = {int: "an integer", float: "a number", bool: "true or false", str: "a string", type(None): "null"}
COMPARISONS = {
    annotated_types.Gt: (">", "gt", operator.gt),
    annotated_types.Ge: (">=", "ge", operator.ge),
    annotated_types.Lt: ("<", "lt", operator.lt),
    annotated_types.Le: ("<=", "le", operator.le),
}
"""Each comparison ``annotated_types`` offers: its symbol, the attribute that holds its bound, and the comparison."""


def conforms(value: Any, hint: Any, constraints: bool = True) -> bool:
    """Whether ``value`` is of type ``hint``: lists stand for sequences and tuples, integers for floats, and NumPy's
    numbers for Python's; with ``constraints``, it must also meet those ``Annotated`` adds (see the module's doc)."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is Annotated:
        if not conforms(value, hint.__origin__, constraints):
            return False
        return not constraints or all(_meets(value, constraint) for constraint in constraints_of(hint))
    if hint is Any or hint is object or isinstance(hint, (str, typing.ForwardRef)):
        return True
    if hint is None or hint is type(None):
        return value is None
    if origin is Literal:
        return any(value == arg and type(value) is type(arg) for arg in args)
    if origin in (Union, types.UnionType):
        return any(conforms(value, arg, constraints) for arg in args)
    if hint is bool:
        return isinstance(value, bool)
    if hint is int:
        return isinstance(value, numbers.Integral) and not isinstance(value, bool)
    if hint is float:
        return isinstance(value, numbers.Real) and not isinstance(value, bool)
    if origin in SEQUENCES or hint in SEQUENCES:
        return isinstance(value, (list, tuple)) and _items_conform(value, args, constraints)
    if origin in MAPPINGS or hint in MAPPINGS:
        key, item = args or (Any, Any)
        return isinstance(value, dict) and all(
            conforms(k, key, constraints) and conforms(v, item, constraints) for k, v in value.items()
        )
    return isinstance(value, origin or hint)


def _items_conform(value: list | tuple, args: tuple[Any, ...], constraints: bool) -> bool:
    if len(args) == 2 and args[1] is Ellipsis or len(args) == 1:
        return all(conforms(item, args[0], constraints) for item in value)
    if args:  # a fixed-length tuple
        return len(value) == len(args) and all(conforms(item, arg, constraints) for item, arg in zip(value, args))
    return True


def constraints_of(hint: Any) -> Iterator[Any]:
    """The metadata of an ``Annotated`` hint, ``Interval`` and ``Len`` taken apart into their single bounds."""
    for metadata in getattr(hint, "__metadata__", ()):
        if isinstance(metadata, annotated_types.GroupedMetadata):
            yield from metadata
        else:
            yield metadata


def _meets(value: Any, constraint: Any) -> bool:
    """Whether ``value`` meets one ``annotated_types`` constraint; metadata that is not one is no constraint."""
    if type(constraint) in COMPARISONS:
        _, bound, compare = COMPARISONS[type(constraint)]
        return compare(value, getattr(constraint, bound))
    if isinstance(constraint, annotated_types.MultipleOf):
        return value % constraint.multiple_of == 0
    if isinstance(constraint, annotated_types.MinLen):
        return len(value) >= constraint.min_length
    if isinstance(constraint, annotated_types.MaxLen):
        return len(value) <= constraint.max_length
    if isinstance(constraint, annotated_types.Predicate):
        return bool(constraint.func(value))
    return True


def choices(hint: Any) -> tuple[Any, ...] | None:
    """The values a ``Literal`` hint lists (with ``None`` where the hint allows it); ``None`` for any other hint."""
    args = typing.get_args(hint)
    if typing.get_origin(hint) is Annotated:
        return choices(hint.__origin__)
    if typing.get_origin(hint) is Literal:
        return args
    if typing.get_origin(hint) in (Union, types.UnionType):
        listed = [choices(arg) if arg is not type(None) else (None,) for arg in args]
        if all(values is not None for values in listed):
            return tuple(value for values in listed for value in values)
    return None


def describe(hint: Any) -> str:
    """What ``hint`` allows, in words: ``"an integer or null"``, ``"word, position, embeddings"``, ``"an integer >= 1"``,
    ``"a number > 0 and < 1"``."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is Annotated:
        base, bounds = hint.__origin__, _bounds(hint)
        listed = base in SEQUENCES or typing.get_origin(base) in SEQUENCES  # "a list, each item a string, with ..."
        return describe(base) + ((", " if listed else " ") + bounds if bounds else "")
    if hint is Any or hint is object or isinstance(hint, (str, typing.ForwardRef)):
        return "anything"
    if hint is None:
        return "null"
    if origin is Literal:
        return ", ".join(str(arg) for arg in args)
    if origin in (Union, types.UnionType):
        return " or ".join(describe(arg) for arg in args)
    if hint in WORDS:
        return WORDS[hint]
    if origin in SEQUENCES or hint in SEQUENCES:
        return "a list" + (f", each item {describe(args[0])}" if args and args[0] is not Any else "")
    if origin in MAPPINGS or hint in MAPPINGS:
        return "a mapping" + (f" of strings to {describe(args[1])}" if args and args[1] is not Any else "")
    name = getattr(hint, "__name__", str(hint))
    return f"{'an' if name[:1].lower() in 'aeiou' else 'a'} {name}"


def _bounds(hint: Any) -> str:
    """The constraints of an ``Annotated`` hint in words: ``">= 1"``, ``"> 0 and < 1"``, ``"with at least 1 item"``."""
    words, least, most = [], 0, None
    for constraint in constraints_of(hint):
        if type(constraint) in COMPARISONS:
            symbol, bound, _ = COMPARISONS[type(constraint)]
            words.append(f"{symbol} {getattr(constraint, bound)}")
        elif isinstance(constraint, annotated_types.MultipleOf):
            words.append(f"that is a multiple of {constraint.multiple_of}")
        elif isinstance(constraint, annotated_types.MinLen):
            least = constraint.min_length
        elif isinstance(constraint, annotated_types.MaxLen):
            most = constraint.max_length
        elif isinstance(constraint, annotated_types.Predicate):
            words.append(f"for which {getattr(constraint.func, '__qualname__', constraint.func)} holds")
    if least or most is not None:
        words.append(_length_words(least, most, hint.__origin__))
    return " and ".join(words)


def _length_words(least: int, most: int | None, base: Any) -> str:
    """A length between ``least`` and ``most`` in words: in characters for a string, items for a list."""
    unit = "character" if base is str else "item" if base in SEQUENCES or typing.get_origin(base) in SEQUENCES else ""
    if not unit:
        return f"of length >= {least}" if most is None else f"of length {least}" + ("" if least == most else f" to {most}")
    plural = "" if (most if most is not None else least) == 1 else "s"
    if most is None:
        return f"with at least {least} {unit}{plural}"
    if least == most:
        return f"with {most} {unit}{plural}"
    return f"with at most {most} {unit}{plural}" if not least else f"with {least} to {most} {unit}{plural}"
