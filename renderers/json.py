"""``json``: explanations as a JSON document that ``read_json`` (or ``Explanation.from_dict``) reads back."""

from __future__ import annotations

import json
from typing import Any, Sequence

from attrix.contracts.explanation import SCHEMA_VERSION, Explanation
from attrix.contracts.hookspecs import hookimpl
from attrix.contracts.renderer import Renderer
from attrix.errors import InputError


class JsonRenderer(Renderer):
    """A JSON document: ``{"schema_version": N, "explanations": [...]}``."""

    name = "json"
    suffix = ".json"

    def __init__(self, *, indent: int | None = 2) -> None:
        self.indent = indent

    def render(self, explanations: Sequence[Explanation]) -> str:
        document = {"schema_version": SCHEMA_VERSION, "explanations": [e.to_dict() for e in explanations]}
        return json.dumps(document, indent=self.indent, ensure_ascii=False)


def read_json(text: str) -> list[Explanation]:
    """The explanations of a document ``JsonRenderer`` wrote."""
    document = loaded(text, "the document")
    if not isinstance(document, dict) or not isinstance(document.get("explanations"), list):
        raise InputError('the document is not an attrix JSON document: expected {"schema_version": ..., "explanations": [...]}')
    check_schema_version(document, "the document")
    return [explanation_of(item, f"explanation {number}") for number, item in enumerate(document["explanations"])]


def loaded(text: str, where: str) -> Any:
    """``text`` parsed as JSON; an error naming ``where`` when it is not JSON."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise InputError(f"{where} is not JSON: {error}") from None


def check_schema_version(data: dict[str, Any], where: str) -> None:
    """Raise a clear error when ``data`` has no schema version, or one newer than this attrix reads."""
    version = data.get("schema_version")
    if isinstance(version, bool) or not isinstance(version, int):
        raise InputError(f"{where} has no schema_version (an integer); it was not written by attrix")
    if version > SCHEMA_VERSION:
        raise InputError(
            f"{where} has schema_version {version}, newer than the {SCHEMA_VERSION} this attrix reads: upgrade attrix"
        )


def explanation_of(data: Any, where: str) -> Explanation:
    """The explanation ``data`` (an ``Explanation.to_dict`` dict) describes; an error naming ``where`` if it is none."""
    if not isinstance(data, dict):
        raise InputError(f"{where} is not an explanation: expected an object, got {type(data).__name__}")
    check_schema_version(data, where)
    try:
        return Explanation.from_dict(data)
    except (TypeError, KeyError) as error:
        raise InputError(f"{where} is not an explanation of schema_version {data['schema_version']}: {error}") from None


@hookimpl
def register_renderers(register):
    register(JsonRenderer)
