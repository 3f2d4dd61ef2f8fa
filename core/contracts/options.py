"""The options of a plugin class: the keyword-only parameters of its constructor and its bases', and the error a
plugin's ``validate_options`` raises for one of them (``attrix.host.option_checks`` runs the checks)."""

from __future__ import annotations

import inspect
from typing import Any

from attrix.errors import InputError


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
