"""``InputField``: one named input a task declares, read by datasets, the app and ``attrix explain`` alike."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from attrix.errors import InputError, UnknownNameError

WIDGETS = ("line", "area", "image")
"""The widgets the app draws for an input: a one-line text box, a text area, an image upload."""


@dataclass(frozen=True)
class InputField:
    """One named input of a task, declared in ``Task.inputs``: what datasets, the app and the command line take.

    ``name`` is the key of the input (a dataset column, an app field, ``attrix explain --input NAME=VALUE``);
    ``type`` the type hint of its value (``str``, ``str | list[str]``, an image); ``description`` one line saying
    what it holds, shown as the app's help and in errors; ``widget`` the app's widget, ``"line"``, ``"area"`` or
    ``"image"``; ``example`` the value the app starts with; ``label`` the app's label (the name, capitalised, when
    empty); ``required=False`` lets a dataset row leave it out (the task then takes it from an option);
    ``relative_path=True`` reads a relative path in a data file relative to that file (images).
    """

    name: str
    type: Any = str
    description: str = "the text to explain"
    widget: str = "area"
    example: Any = ""
    label: str = ""
    required: bool = True
    relative_path: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.isidentifier():
            raise InputError(f"an input field's name must be an identifier such as 'text' or 'text_pair', got {self.name!r}")
        if self.widget not in WIDGETS:
            raise UnknownNameError("widget", self.widget, WIDGETS, f"for the input field {self.name!r}")
        if not self.label:
            object.__setattr__(self, "label", self.name.replace("_", " ").capitalize())


TEXT = InputField("text", str, "the text to explain", "area", "I love this movie, it is wonderful")
"""The one input of a task that explains a single text, and the default of ``Task.inputs``."""


def check_fields(fields: Any, owner: str) -> tuple[InputField, ...]:
    """``fields`` if it is a non-empty tuple of ``InputField`` with distinct names; else a ``TypeError`` saying why."""
    if not isinstance(fields, tuple) or not fields or not all(isinstance(field, InputField) for field in fields):
        raise TypeError(f"{owner}.inputs must be a non-empty tuple of attrix.InputField, got {fields!r:.120}")
    names = [field.name for field in fields]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise TypeError(f"{owner}.inputs names {', '.join(map(repr, repeated))} more than once; each input needs its own name")
    return fields


def input_item(fields: Iterable[InputField], values: Mapping[str, Any], owner: str = "the task") -> Any:
    """The input item ``values`` (by field name) make: the bare value of a single field, else a dict of those given.

    Unknown names and missing required fields are errors naming the valid fields; the task's ``check`` validates the rest.
    """
    fields = tuple(fields)
    names = [field.name for field in fields]
    for name in values:
        if name not in names:
            raise UnknownNameError("input", name, names, f"for {owner}")
    missing = [field.name for field in fields if field.required and field.name not in values]
    if missing:
        raise InputError(f"{owner} needs the input {', '.join(map(repr, missing))}; its inputs are {describe_fields(fields)}")
    if len(fields) == 1:
        return values.get(names[0])
    return {name: values[name] for name in names if name in values}


def describe_fields(fields: Iterable[InputField]) -> str:
    """The fields as an error lists them: ``question (the question to answer), context (...)``, optional ones marked."""
    return ", ".join(f"{field.name} ({field.description}{'' if field.required else '; optional'})" for field in fields)
