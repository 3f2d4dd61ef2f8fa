"""What the plugins registered: tasks, backends and renderers by name, with where each came from."""

from __future__ import annotations

import inspect
import warnings
from dataclasses import dataclass
from typing import Any, Literal

from attrix.errors import AttrixError, PluginClashError, UnknownNameError
from attrix.manager import PluginManager, PluginWarning, plugin_manager

Kind = Literal["task", "backend", "renderer"]
HOOKS: dict[Kind, str] = {
    "task": "register_tasks",
    "backend": "register_backends",
    "renderer": "register_renderers",
}


@dataclass(frozen=True)
class Entry:
    """One registered task, backend or renderer."""

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
        }


def options_of(cls: type) -> dict[str, inspect.Parameter]:
    """The keyword-only parameters of ``cls``'s constructor: the options a user may set."""
    parameters = inspect.signature(cls.__init__).parameters.values()
    return {p.name: p for p in parameters if p.kind is inspect.Parameter.KEYWORD_ONLY}


class Registry:
    """Every registered name of every kind, collected from the plugin manager's hooks."""

    def __init__(self, pm: PluginManager) -> None:
        self.entries: dict[Kind, dict[str, Entry]] = {kind: {} for kind in HOOKS}
        for kind, hook_name in HOOKS.items():
            for impl in getattr(pm.hook, hook_name).get_hookimpls():
                self._collect(pm, kind, impl)

    def _collect(self, pm: PluginManager, kind: Kind, impl: Any) -> None:
        source = pm.source_of(impl.plugin)

        def register(obj: type, name: str | None = None) -> None:
            entry = Entry(
                kind=kind,
                name=name or getattr(obj, "name"),
                obj=obj,
                plugin=impl.plugin_name,
                distribution=source.name if source else None,
                version=source.version if source else None,
            )
            existing = self.entries[kind].get(entry.name)
            if existing is not None:
                raise PluginClashError(
                    f"{kind} {entry.name!r} is registered twice: by {existing.origin} and by "
                    f"{entry.origin}; uninstall or disable one of them"
                )
            self.entries[kind][entry.name] = entry

        try:
            impl.function(register)
        except AttrixError:
            raise
        except Exception as error:  # a plugin whose hook fails must not break the others
            warnings.warn(
                f"attrix plugin {impl.plugin_name!r} failed in {HOOKS[kind]} and is skipped: "
                f"{type(error).__name__}: {error}",
                PluginWarning,
                stacklevel=3,
            )

    def get(self, kind: Kind, name: str) -> Entry:
        """The entry registered as ``name``; an error listing the valid names if there is none."""
        try:
            return self.entries[kind][name]
        except KeyError:
            raise UnknownNameError(kind, name, self.entries[kind]) from None

    def all(self) -> list[Entry]:
        """Every entry, grouped by kind, sorted by name."""
        return [entry for kind in HOOKS for _, entry in sorted(self.entries[kind].items())]


def registry() -> Registry:
    """The registry as the plugins currently registered define it."""
    return Registry(plugin_manager())


def create(kind: Kind, name: str, *args: Any, **options: Any) -> Any:
    """Instantiate the ``kind`` registered as ``name`` with ``options``, rejecting unknown options."""
    entry = registry().get(kind, name)
    valid = options_of(entry.obj)
    for key in options:
        if key not in valid:
            raise UnknownNameError(f"option of {kind} {name!r}", key, valid)
    return entry.obj(*args, **options)
