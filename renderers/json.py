"""``json``: explanations as a JSON document that ``Explanation.from_dict`` reads back."""

from __future__ import annotations

import json
from typing import Sequence

from attrix.explanation import SCHEMA_VERSION, Explanation
from attrix.hookspecs import hookimpl
from attrix.renderer import Renderer


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
    return [Explanation.from_dict(item) for item in json.loads(text)["explanations"]]


@hookimpl
def register_renderers(register):
    register(JsonRenderer)
