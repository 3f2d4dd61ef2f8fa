"""Built-in renderers."""

from attrix.renderers.html import HtmlRenderer
from attrix.renderers.json import JsonRenderer
from attrix.renderers.jsonl import JsonlRenderer
from attrix.renderers.png import PngRenderer
from attrix.renderers.terminal import TerminalRenderer

__all__ = ["HtmlRenderer", "JsonRenderer", "JsonlRenderer", "PngRenderer", "TerminalRenderer"]
