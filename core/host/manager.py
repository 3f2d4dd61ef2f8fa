"""The plugin manager: built-in plugins and those installed under the ``attrix`` entry-point group."""

from __future__ import annotations

import functools
import importlib
import importlib.metadata
import pkgutil
import warnings
from dataclasses import dataclass
from types import ModuleType

import pluggy

from attrix.contracts import hookspecs

ENTRY_POINT_GROUP = "attrix"

BUILTIN_PACKAGES = ("attrix.plugins", "attrix.backends", "attrix.renderers", "attrix.metrics")
"""The packages of the built-in plugins: each module in them that implements a hook is registered, so a new built-in
task, backend, renderer or metric is a new file there and nothing else."""


class PluginWarning(UserWarning):
    """A plugin that could not be loaded or could not register; the others still work."""


@dataclass(frozen=True)
class Distribution:
    """The installed distribution a plugin came from."""

    name: str
    version: str


class PluginManager(pluggy.PluginManager):
    """A pluggy plugin manager that remembers which distribution each plugin came from."""

    def __init__(self) -> None:
        super().__init__(ENTRY_POINT_GROUP)
        self.add_hookspecs(hookspecs)
        self.sources: dict[str, Distribution] = {}
        self.generation = 0
        """Counts registrations and unregistrations, so that what is derived from them can be cached."""

    def register(self, plugin: object, name: str | None = None) -> str | None:
        self.generation += 1
        return super().register(plugin, name=name)

    def unregister(self, plugin: object | None = None, name: str | None = None) -> object | None:
        self.generation += 1
        return super().unregister(plugin, name=name)

    def register_from(self, plugin: object, name: str, source: Distribution | None) -> None:
        """Register ``plugin`` under ``name``, remembering the distribution it came from."""
        self.register(plugin, name=name)
        if source is not None:
            self.sources[name] = source

    def source_of(self, plugin: object) -> Distribution | None:
        """The distribution ``plugin`` came from, or the one that owns its top-level package."""
        name = self.get_name(plugin)
        if name in self.sources:
            return self.sources[name]
        module = getattr(plugin, "__name__", None) or type(plugin).__module__
        for dist_name in importlib.metadata.packages_distributions().get(module.split(".")[0], []):
            return Distribution(dist_name, importlib.metadata.version(dist_name))
        return None


@functools.cache
def plugin_manager() -> PluginManager:
    """The process-wide plugin manager, with built-ins and entry-point plugins loaded once."""
    pm = PluginManager()
    attrix = Distribution("attrix", importlib.metadata.version("attrix"))
    for module in builtin_plugins():
        pm.register_from(module, module.__name__, attrix)
    _load_entry_points(pm)
    return pm


def builtin_plugins() -> list[ModuleType]:
    """The modules of ``BUILTIN_PACKAGES`` that implement a hook, package by package, each package's in name order."""
    modules = []
    for package_name in BUILTIN_PACKAGES:
        package = importlib.import_module(package_name)
        for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda info: info.name):
            module = importlib.import_module(f"{package_name}.{info.name}")
            if any(hasattr(value, f"{ENTRY_POINT_GROUP}_impl") for value in vars(module).values()):
                modules.append(module)
    return modules


def _load_entry_points(pm: PluginManager) -> None:
    for entry_point in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        if pm.get_plugin(entry_point.name) is not None or pm.is_blocked(entry_point.name):
            continue
        dist = entry_point.dist
        source = Distribution(dist.name, dist.version) if dist else None
        try:
            plugin = entry_point.load()
        except Exception as error:  # a broken plugin must not break the others
            warnings.warn(
                f"attrix plugin {entry_point.name!r} ({entry_point.value}) from "
                f"{source.name + ' ' + source.version if source else 'an unknown distribution'} "
                f"could not be imported and is skipped: {type(error).__name__}: {error}",
                PluginWarning,
                stacklevel=2,
            )
            continue
        pm.register_from(plugin, entry_point.name, source)
