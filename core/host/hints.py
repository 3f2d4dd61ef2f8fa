"""Checking plain data (what YAML gives, or a Python caller) against type hints, and saying in words what a hint allows."""

from __future__ import annotations

import collections.abc
import numbers
import types
import typing
from typing import Any, Literal, Union

SEQUENCES = (list, tuple, collections.abc.Sequence)
MAPPINGS = (dict, collections.abc.Mapping)
WORDS = {int: "an integer", float: "a number", bool: "true or false", str: "a string", type(None): "null"}


def conforms(value: Any, hint: Any) -> bool:
    """Whether ``value`` is of type ``hint``: lists stand for sequences and tuples, integers for floats, and NumPy's
    numbers for Python's."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if hint is Any or hint is object or isinstance(hint, (str, typing.ForwardRef)):
        return True
    if hint is None or hint is type(None):
        return value is None
    if origin is Literal:
        return any(value == arg and type(value) is type(arg) for arg in args)
    if origin in (Union, types.UnionType):
        return any(conforms(value, arg) for arg in args)
    if hint is bool:
        return isinstance(value, bool)
    if hint is int:
        return isinstance(value, numbers.Integral) and not isinstance(value, bool)
    if hint is float:
        return isinstance(value, numbers.Real) and not isinstance(value, bool)
    if origin in SEQUENCES or hint in SEQUENCES:
        return isinstance(value, (list, tuple)) and _items_conform(value, args)
    if origin in MAPPINGS or hint in MAPPINGS:
        key, item = args or (Any, Any)
        return isinstance(value, dict) and all(conforms(k, key) and conforms(v, item) for k, v in value.items())
    return isinstance(value, origin or hint)


def _items_conform(value: list | tuple, args: tuple[Any, ...]) -> bool:
    if len(args) == 2 and args[1] is Ellipsis or len(args) == 1:
        return all(conforms(item, args[0]) for item in value)
    if args:  # a fixed-length tuple
        return len(value) == len(args) and all(conforms(item, arg) for item, arg in zip(value, args))
    return True


def choices(hint: Any) -> tuple[Any, ...] | None:
    """The values a ``Literal`` hint lists (with ``None`` where the hint allows it); ``None`` for any other hint."""
    args = typing.get_args(hint)
    if typing.get_origin(hint) is Literal:
        return args
    if typing.get_origin(hint) in (Union, types.UnionType):
        listed = [choices(arg) if arg is not type(None) else (None,) for arg in args]
        if all(values is not None for values in listed):
            return tuple(value for values in listed for value in values)
    return None


def describe(hint: Any) -> str:
    """What ``hint`` allows, in words: ``"an integer or null"``, ``"word, position, embeddings"``."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
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
    return f"a {getattr(hint, '__name__', hint)}"
