"""The options of a plugin class, and their checking.

A plugin's options are the keyword-only parameters of its constructor and its bases'; they are checked against
their type hints, then by the plugin's own ``validate_options``.

What one option allows is declared with the parameter, in its type hint: ``Literal[...]`` for choices, and
``typing.Annotated`` with ``annotated_types`` constraints for bounds a type cannot say::

    def __init__(self, *, n_steps: Annotated[int, Ge(1)] | Literal["auto"] = 50,
                 tolerance: Annotated[float, Gt(0), Lt(1)] = 0.01, method: Literal["fast", "careful"] = "fast"): ...

(``Gt``, ``Ge``, ``Lt``, ``Le``, ``Interval``, ``MultipleOf``, ``MinLen``, ``MaxLen``, ``Len`` and ``Predicate`` are
checked; see ``attrix.contracts.hints``). A task, backend or renderer may declare rules between options, or others
that hints cannot say, with a classmethod::

    @classmethod
    def validate_options(cls, options: Mapping[str, Any]) -> None:
        if options.get("n_steps", 50) % 2:
            raise OptionError("n_steps", "an even number of steps")

``options`` holds the options given (the defaults are not filled in), each already of the type its hint names.
Raise ``OptionError(option, allowed)`` for one bad option, naming what would be allowed, or ``ValueError(message)``
for a combination of options.

Every task, backend and renderer runs these checks when it is built (``CheckedOptions``), however it is built: by
the registry for Python, configs and the command line, or directly; configs run them before anything is built.
"""

from __future__ import annotations

import functools
import inspect
import typing
from collections.abc import Mapping
from typing import Any, ClassVar

from attrix.contracts.hints import choices, conforms, describe
from attrix.errors import AttrixError, InputError, InputTypeError, UnknownNameError


class OptionError(InputError):
    """One option a plugin refuses: its name, what it allows instead, and the values it allows when it lists them."""

    def __init__(self, option: str, allowed: str, choices: tuple[Any, ...] | None = None) -> None:
        self.option, self.allowed, self.choices = option, allowed, choices
        super().__init__(f"option {option!r} allows {allowed}")


def options_of(cls: type) -> dict[str, inspect.Parameter]:
    """The keyword-only constructor parameters of ``cls`` and of the bases it passes ``**options`` on to."""
    options: dict[str, inspect.Parameter] = {}
    for klass in reversed(cls.__mro__):
        init = vars(klass).get("__init__")
        if init is not None:
            parameters = inspect.signature(init).parameters.values()
            options.update({p.name: p for p in parameters if p.kind is inspect.Parameter.KEYWORD_ONLY})
    return options


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


def check_arguments(cls: type, owner: str, options: dict[str, Any]) -> None:
    """Check keyword ``options`` of ``cls``'s constructor as ``create`` checks a plugin's (type hints, their
    ``Annotated`` constraints, ``cls.validate_options``), refusing them with errors that name ``owner`` (``"backend
    'ig'"``, ``"the Explainer"``), the option, the value and what is allowed."""
    where = f"of {owner}"
    try:
        check_options(cls, options)
    except OptionError as error:
        if error.option not in options:
            raise InputError(f"option {error.option!r} {where} is not set, and it is needed; allowed: {error.allowed}") from None
        value = options[error.option]
        if error.choices is not None:
            raise UnknownNameError(error.option, value, error.choices) from None
        kind = InputTypeError if isinstance(error, TypeError) else InputError
        raise kind(f"option {error.option!r} {where} must be {error.allowed}, got {value!r:.80}") from None
    except AttrixError:
        raise
    except ValueError as error:
        raise InputError(f"{owner} refuses these options: {error}") from None


class CheckedOptions:
    """A plugin class whose keyword options are checked (``check_arguments``) whenever it is built."""

    plugin_kind: ClassVar[str]
    """What the plugin is, for messages: ``"task"``, ``"backend"``, ``"renderer"``, ``"metric"``."""

    def __new__(cls, *args: Any, **options: Any) -> CheckedOptions:
        known = options_of(cls)
        name = getattr(cls, "name", cls.__name__)
        check_arguments(cls, f"{cls.plugin_kind} {name!r}", {key: value for key, value in options.items() if key in known})
        return super().__new__(cls)
