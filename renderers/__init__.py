"""Built-in renderers."""

from attrix.renderers.json import JsonRenderer

__all__ = ["JsonRenderer"]
