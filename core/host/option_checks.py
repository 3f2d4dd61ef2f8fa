"""Checking a plugin's options before it is built: their types from its constructor, then its own ``validate_options``.

A task, backend or renderer may declare rules that type hints cannot say with a classmethod::

    @classmethod
    def validate_options(cls, options: Mapping[str, Any]) -> None:
        if options.get("n_steps", 50) % 2:
            raise OptionError("n_steps", "an even number of steps")

``options`` holds the options given (the defaults are not filled in). Raise ``OptionError(option, allowed)`` for
one bad option, naming what would be allowed, or ``ValueError(message)`` for a combination of options.
"""

from __future__ import annotations

import functools
import typing
from typing import Any, Mapping

from attrix.contracts.options import options_of
from attrix.errors import InputError, InputTypeError
from attrix.host.hints import choices, conforms, describe


class OptionError(InputError):
    """One option a plugin refuses: its name, what it allows instead, and the values it allows when it lists them."""

    def __init__(self, option: str, allowed: str, choices: tuple[Any, ...] | None = None) -> None:
        self.option, self.allowed, self.choices = option, allowed, choices
        super().__init__(f"option {option!r} allows {allowed}")


class OptionTypeError(OptionError, InputTypeError):
    """An option whose value is not of the type its hint names."""


@functools.cache
def option_hints(cls: type) -> dict[str, Any]:
    """The type hint of each keyword-only constructor option of ``cls`` (``Any`` where it cannot be resolved)."""
    hints: dict[str, Any] = {}
    for klass in reversed(cls.__mro__):
        init = vars(klass).get("__init__")
        if init is not None:
            try:
                hints.update(typing.get_type_hints(init))
            except (NameError, TypeError):  # an annotation naming what its module does not import at run time
                pass
    return {name: hints.get(name, Any) for name in options_of(cls)}


def check_options(cls: type, options: Mapping[str, Any]) -> None:
    """Raise ``OptionTypeError`` for a value of the wrong type, then let ``cls.validate_options`` check the rest.

    Every name in ``options`` must be an option of ``cls``; a ``ValueError`` from the plugin is passed on.
    """
    hints = option_hints(cls)
    for name, value in options.items():
        if not conforms(value, hints[name]):
            raise OptionTypeError(name, describe(hints[name]), choices(hints[name]))
    validate = getattr(cls, "validate_options", None)
    if validate is not None:
        validate(dict(options))
