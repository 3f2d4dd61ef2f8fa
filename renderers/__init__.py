"""Built-in renderers."""

from attrix.renderers.html import HtmlRenderer
from attrix.renderers.json import JsonRenderer

__all__ = ["HtmlRenderer", "JsonRenderer"]
