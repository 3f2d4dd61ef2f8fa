"""``json``: explanations as a JSON document that ``read_json`` (or ``Explanation.from_dict``) reads back."""

from __future__ import annotations

import json
from typing import Any, Sequence

from attrix.contracts.explanation import SCHEMA_VERSION, Explanation, check_schema_version
from attrix.contracts.hookspecs import hookimpl
from attrix.contracts.renderer import Renderer
from attrix.errors import InputError


class JsonRenderer(Renderer):
    """A JSON document: ``{"schema_version": N, "explanations": [...]}``; standard JSON, a non-finite score written as ``null``."""

    name = "json"
    suffix = ".json"

    def __init__(self, *, indent: int | None = 2) -> None:
        self.indent = indent

    def render(self, explanations: Sequence[Explanation]) -> str:
        document = {"schema_version": SCHEMA_VERSION, "explanations": [e.to_dict() for e in explanations]}
        return json.dumps(document, indent=self.indent, ensure_ascii=False, allow_nan=False)


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
    except RecursionError:
        raise InputError(f"{where} is not JSON attrix reads: it is nested too deeply") from None


def explanation_of(data: Any, where: str) -> Explanation:
    """The explanation ``data`` (an ``Explanation.to_dict`` dict) describes; an error naming ``where`` if it is none."""
    return Explanation.from_dict(data, where)


@hookimpl
def register_renderers(register):
    register(JsonRenderer)
