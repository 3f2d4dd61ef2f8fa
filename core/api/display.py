"""``display``: explanations drawn by the html renderer, shown inline when running under IPython (Jupyter)."""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from typing import Any

from attrix.contracts.explanation import Explanation, set_notebook_view
from attrix.errors import InputTypeError
from attrix.host.registry import create


def display(explanations: Explanation | Sequence[Explanation], **html_options: Any) -> str | None:
    """Show ``explanations`` (one or a list) in the running IPython shell; outside IPython, return their HTML.

    ``html_options`` are the html renderer's (``title``, ``index``, ``page_size``); unknown ones are an error.
    """
    items = [explanations] if isinstance(explanations, Explanation) else explanations
    if not isinstance(items, (list, tuple)) or not all(isinstance(item, Explanation) for item in items):
        raise InputTypeError(
            f"display takes an Explanation or a list of them, got {type(explanations).__name__} {explanations!r:.80}"
        )
    html = html_fragment(items, **html_options)
    shell = _ipython()
    if shell is None:
        return html
    ipython_display = importlib.import_module("IPython.display")
    ipython_display.display(ipython_display.HTML(html))
    return None


def html_fragment(explanations: Sequence[Explanation], **html_options: Any) -> str:
    """``explanations`` drawn by the registered html renderer as one ``<div>`` with its own style."""
    return create("renderer", "html", **{"title": "", **html_options}).fragment(explanations)


set_notebook_view(html_fragment)


def _ipython() -> Any:
    """The running IPython shell, or None when IPython is not installed or not running."""
    try:
        ipython = importlib.import_module("IPython")
    except ImportError:
        return None
    return ipython.get_ipython()
