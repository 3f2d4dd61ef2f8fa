"""``jsonl``: one explanation per line, each line the ``Explanation.to_dict`` object with its ``schema_version``."""

from __future__ import annotations

import json
from typing import Sequence

from attrix.contracts.explanation import Explanation
from attrix.contracts.hookspecs import hookimpl
from attrix.contracts.renderer import Renderer
from attrix.renderers.json import explanation_of, loaded


class JsonlRenderer(Renderer):
    """JSON Lines: one explanation per line, to stream and append."""

    name = "jsonl"
    suffix = ".jsonl"

    def render(self, explanations: Sequence[Explanation]) -> str:
        return "".join(jsonl_line(explanation) for explanation in explanations)


def jsonl_line(explanation: Explanation) -> str:
    """One line of JSON Lines for ``explanation``, newline included."""
    return json.dumps(explanation.to_dict(), ensure_ascii=False, allow_nan=False) + "\n"


def read_jsonl(text: str) -> list[Explanation]:
    """The explanations of a JSON Lines text ``JsonlRenderer`` (or ``jsonl_line``) wrote; blank lines are skipped.

    Lines end at ``\n`` only: texts may hold other line separators (U+2028, U+0085), which JSON leaves as they are.
    """
    return [
        explanation_of(loaded(line, f"line {number}"), f"line {number}")
        for number, line in enumerate(text.split("\n"), start=1)
        if line.strip()
    ]


@hookimpl
def register_renderers(register):
    register(JsonlRenderer)
