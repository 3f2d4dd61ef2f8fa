"""Errors attrix raises, each saying what was wrong and what would be right."""

from __future__ import annotations

from collections.abc import Iterable


class AttrixError(Exception):
    """Base class of every error attrix raises on purpose."""


class InputError(AttrixError, ValueError):
    """An input (text, target, option value) that attrix cannot explain."""


class UnknownNameError(AttrixError, KeyError):
    """A name (plugin, label, option) that is not among the valid ones."""

    def __init__(self, what: str, name: object, valid: Iterable[object], where: str = "") -> None:
        self.what, self.name, self.valid = what, name, sorted(map(str, valid))
        place = f" {where}" if where else ""
        super().__init__(f"unknown {what} {name!r}{place}; valid: {', '.join(self.valid) or '(none)'}")

    def __str__(self) -> str:
        return str(self.args[0])


class PluginClashError(AttrixError):
    """Two plugins registered the same name."""


class TaskMismatchError(AttrixError, ValueError):
    """A model whose head does not fit the chosen task."""


class InputTypeError(InputError, TypeError):
    """An input of the wrong type."""
