"""The options of a plugin class: the keyword-only parameters of its constructor and its bases'."""

from __future__ import annotations

import inspect


def options_of(cls: type) -> dict[str, inspect.Parameter]:
    """The keyword-only constructor parameters of ``cls`` and of the bases it passes ``**options`` on to."""
    options: dict[str, inspect.Parameter] = {}
    for klass in reversed(cls.__mro__):
        init = vars(klass).get("__init__")
        if init is not None:
            parameters = inspect.signature(init).parameters.values()
            options.update({p.name: p for p in parameters if p.kind is inspect.Parameter.KEYWORD_ONLY})
    return options
