"""Rendering one set of explanations with several renderers at once, each with its own options, into a directory."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Union

from attrix.contracts.explanation import Explanation
from attrix.contracts.renderer import Renderer
from attrix.errors import InputError, InputTypeError
from attrix.experiments.schema import Component
from attrix.host.registry import create

RendererSpec = Union[Component, tuple[str, Mapping[str, Any]], str]
"""A renderer by name with its options: a ``Component``, a ``(name, options)`` pair, or a bare name."""


def renderers_of(specs: Iterable[RendererSpec]) -> list[Renderer]:
    """The renderers ``specs`` name, built with their options: an unknown name or option is an error listing the valid ones."""
    renderers = []
    for spec in specs:
        if isinstance(spec, str):
            name, options = spec, {}
        elif isinstance(spec, Component):
            name, options = spec.name, spec.options
        elif isinstance(spec, tuple) and len(spec) == 2 and isinstance(spec[1], Mapping):
            name, options = spec
        else:
            raise InputTypeError(f"a renderer must be a name, a (name, options) pair or a Component, got {spec!r:.80}")
        renderers.append(create("renderer", name, **dict(options)))
    return renderers


def write_reports(
    explanations: Sequence[Explanation],
    renderers: Iterable[RendererSpec],
    directory: str | Path,
    stem: str = "explanations",
) -> list[Path]:
    """Render ``explanations`` with each renderer into ``directory`` (created if missing); the paths written, in order.

    Each file is ``<stem><suffix>`` (``explanations.html``); a later renderer with the same suffix (two ``png``
    figures, say) writes ``<stem>-2<suffix>``, ``<stem>-3<suffix>``, ... Every renderer is built before anything
    is written, so that a bad name or option writes nothing.
    """
    built = renderers_of(renderers)
    directory = Path(directory)
    if directory.exists() and not directory.is_dir():
        raise InputError(f"cannot write reports into {str(directory)!r}: it is a file, not a directory")
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise InputError(f"cannot create the report directory {str(directory)!r}: {error.strerror or error}") from None
    seen: Counter[str] = Counter()
    paths = []
    for renderer in built:
        seen[renderer.suffix] += 1
        count = seen[renderer.suffix]
        path = directory / f"{stem}{'' if count == 1 else f'-{count}'}{renderer.suffix}"
        try:
            paths.append(renderer.write(explanations, path))
        except OSError as error:
            raise InputError(
                f"cannot write the report {str(path)!r}: {error.strerror or error}; choose a directory you can write to"
            ) from None
    return paths
