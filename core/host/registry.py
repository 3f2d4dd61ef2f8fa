"""What the plugins registered: tasks, backends, renderers, metrics and step scores by name, with where each came from."""

from __future__ import annotations

import functools
import inspect
import warnings
from dataclasses import dataclass
from typing import Any, Literal

from attrix.contracts.backend import Backend
from attrix.contracts.hints import describe
from attrix.contracts.inputs import check_fields
from attrix.contracts.metric import Metric
from attrix.contracts.options import options_of
from attrix.contracts.renderer import Renderer
from attrix.contracts.step_score import StepScore
from attrix.contracts.task import Task
from attrix.errors import (
    PluginClashError,
    UnknownNameError,
)
from attrix.host.manager import PluginManager, PluginWarning, plugin_manager

Kind = Literal["task", "backend", "renderer", "metric", "step_score"]
HOOKS: dict[Kind, str] = {
    "task": "register_tasks",
    "backend": "register_backends",
    "renderer": "register_renderers",
    "metric": "register_metrics",
    "step_score": "register_step_scores",
}
BASES: dict[Kind, type] = {"task": Task, "backend": Backend, "renderer": Renderer, "metric": Metric, "step_score": StepScore}


@dataclass(frozen=True)
class Entry:
    """One registered task, backend, renderer or metric."""

    kind: Kind
    name: str
    obj: type
    plugin: str
    distribution: str | None
    version: str | None

    @property
    def origin(self) -> str:
        """The plugin and the distribution it came from, for messages."""
        dist = f"{self.distribution} {self.version}" if self.distribution else "no distribution"
        return f"plugin {self.plugin!r} ({dist})"

    @property
    def description(self) -> str:
        """The first line of the registered class's docstring."""
        return (inspect.getdoc(self.obj) or "").partition("\n")[0]

    def option_names(self) -> list[str]:
        """The keyword options the registered class accepts."""
        return list(options_of(self.obj))

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready description, as ``attrix plugins --json`` prints it."""
        return {
            "kind": self.kind,
            "name": self.name,
            "plugin": self.plugin,
            "distribution": self.distribution,
            "version": self.version,
            "description": self.description,
            "options": self.option_names(),
            **({"inputs": self.inputs()} if self.kind == "task" else {}),
        }

    def inputs(self) -> list[dict[str, Any]]:
        """A task's declared inputs: name, what the value may be, the description, whether it is required."""
        return [
            {"name": field.name, "type": describe(field.type), "description": field.description, "required": field.required}
            for field in self.obj.inputs
        ]


class Registry:
    """Every registered name of every kind, collected from the plugin manager's hooks."""

    def __init__(self, pm: PluginManager) -> None:
        self.entries: dict[Kind, dict[str, Entry]] = {kind: {} for kind in HOOKS}
        for kind, hook_name in HOOKS.items():
            for impl in getattr(pm.hook, hook_name).get_hookimpls():
                self._collect(pm, kind, impl)

    def _collect(self, pm: PluginManager, kind: Kind, impl: Any) -> None:
        """Add what one plugin's hook registers, all of it or, if the hook fails, none of it."""
        source = pm.source_of(impl.plugin)
        collected: dict[str, Entry] = {}

        def register(obj: type, name: str | None = None) -> None:
            base = BASES[kind]
            if not (isinstance(obj, type) and issubclass(obj, base)):
                raise TypeError(f"a {kind} must be a subclass of attrix.{base.__name__}, got {obj!r}")
            name = name or getattr(obj, "name", None)
            if not isinstance(name, str) or not name:
                raise TypeError(f"{obj.__name__} needs a name: a class attribute 'name' or register(cls, name=...)")
            if kind == "task":
                check_fields(obj.inputs, obj.__name__)
            collected[name] = Entry(
                kind, name, obj, impl.plugin_name, source.name if source else None, source.version if source else None
            )

        try:
            impl.function(register)
        except Exception as error:  # a plugin whose hook fails must not break the others
            warnings.warn(
                f"attrix plugin {impl.plugin_name!r} failed in {HOOKS[kind]} and is skipped: {type(error).__name__}: {error}",
                PluginWarning,
                stacklevel=4,
            )
            return
        for name, entry in collected.items():
            existing = self.entries[kind].get(name)
            if existing is not None:
                raise PluginClashError(
                    f"{kind} {name!r} is registered twice: by {existing.origin} and by {entry.origin}; uninstall one of them"
                )
            self.entries[kind][name] = entry

    def get(self, kind: Kind, name: str) -> Entry:
        """The entry registered as ``name``; an error listing the valid names if there is none."""
        try:
            return self.entries[kind][name]
        except KeyError:
            raise UnknownNameError(kind, name, self.entries[kind]) from None

    def all(self) -> list[Entry]:
        """Every entry, grouped by kind, sorted by name."""
        return [entry for kind in HOOKS for _, entry in sorted(self.entries[kind].items())]


def get_registry() -> Registry:
    """The registry as the plugins currently registered define it, rebuilt only when they change."""
    pm = plugin_manager()
    return _registry_for(pm, pm.generation)


@functools.lru_cache(maxsize=1)
def _registry_for(pm: PluginManager, generation: int) -> Registry:
    return Registry(pm)


def create(kind: Kind, name: str, *args: Any, **options: Any) -> Any:
    """Instantiate the ``kind`` registered as ``name`` with ``options``: an unknown option is an error listing the
    valid ones; the class checks the values as it is built (``attrix.contracts.options``)."""
    entry = get_registry().get(kind, name)
    valid = options_of(entry.obj)
    for key in options:
        if key not in valid:
            raise UnknownNameError("option", key, valid, f"for {kind} {name!r}")
    return entry.obj(*args, **options)
