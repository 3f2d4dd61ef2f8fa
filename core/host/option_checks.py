"""Checking a plugin's options before it is built: their types from its constructor, then its own ``validate_options``.

What one option allows is declared with the parameter, in its type hint: ``Literal[...]`` for choices, and
``typing.Annotated`` with ``annotated_types`` constraints for bounds a type cannot say::

    def __init__(self, *, n_steps: Annotated[int, Ge(1)] | Literal["auto"] = 50,
                 tolerance: Annotated[float, Gt(0), Lt(1)] = 0.01, method: Literal["fast", "careful"] = "fast"): ...

(``Gt``, ``Ge``, ``Lt``, ``Le``, ``Interval``, ``MultipleOf``, ``MinLen``, ``MaxLen``, ``Len`` and ``Predicate`` are
checked; see ``attrix.host.hints``). A task, backend or renderer may declare rules between options, or others
that hints cannot say, with a classmethod::

    @classmethod
    def validate_options(cls, options: Mapping[str, Any]) -> None:
        if options.get("n_steps", 50) % 2:
            raise OptionError("n_steps", "an even number of steps")

``options`` holds the options given (the defaults are not filled in), each already of the type its hint names.
Raise ``OptionError(option, allowed)`` for one bad option, naming what would be allowed, or ``ValueError(message)``
for a combination of options. A plugin imports ``OptionError`` from ``attrix.contracts.options`` (plugins never
import ``attrix.host``).

The registry runs these checks for Python (``create``, the ``Explainer``), configs and the command line alike;
a plugin's constructor does not repeat them.
"""

from __future__ import annotations

import functools
import typing
from typing import Any, Mapping

from attrix.contracts.options import OptionError, options_of
from attrix.errors import InputTypeError
from attrix.host.hints import choices, conforms, describe

__all__ = ["OptionError", "OptionTypeError", "check_options", "check_value", "option_hints"]


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
                hints.update(typing.get_type_hints(init, include_extras=True))
            except (NameError, TypeError):  # an annotation naming what its module does not import at run time
                pass
    return {name: hints.get(name, Any) for name in options_of(cls)}


def check_value(name: str, value: Any, hint: Any) -> None:
    """Raise ``OptionTypeError`` for a value not of the type ``hint`` names, ``OptionError`` for one of that type
    that breaks a constraint ``hint`` declares (``Annotated[int, Ge(1)]`` and 0)."""
    if not conforms(value, hint):
        refusal = OptionError if conforms(value, hint, constraints=False) else OptionTypeError
        raise refusal(name, describe(hint), choices(hint))


def check_options(cls: type, options: Mapping[str, Any]) -> None:
    """Check each option against its type hint and constraints (``check_value``), then let ``cls.validate_options``
    check the rest.

    Every name in ``options`` must be an option of ``cls``; a ``ValueError`` from the plugin is passed on.
    """
    hints = option_hints(cls)
    for name, value in options.items():
        check_value(name, value, hints[name])
    validate = getattr(cls, "validate_options", None)
    if validate is not None:
        validate(dict(options))
