"""The base class of renderers."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from pathlib import Path
from typing import ClassVar

from attrix.contracts.explanation import Explanation
from attrix.contracts.options import CheckedOptions


class Renderer(CheckedOptions, ABC):
    """Draws explanations as text or bytes; options are keyword-only constructor arguments."""

    plugin_kind: ClassVar[str] = "renderer"
    name: ClassVar[str]
    suffix: ClassVar[str]

    @abstractmethod
    def render(self, explanations: Sequence[Explanation]) -> str | bytes:
        """The rendered document."""

    def write(self, explanations: Sequence[Explanation], path: str | Path) -> Path:
        """Render into ``path``, creating its directory; the path written."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        document = self.render(explanations)
        if isinstance(document, bytes):
            path.write_bytes(document)
        else:
            path.write_text(document, encoding="utf-8")
        return path
