"""The plugin manager: built-in plugins and those installed under the ``attrix`` entry-point group."""

from __future__ import annotations

import functools
import importlib
import importlib.metadata
import warnings
from dataclasses import dataclass

import pluggy

from attrix.contracts import hookspecs

ENTRY_POINT_GROUP = "attrix"

BUILTIN_PLUGINS = (
    "attrix.plugins.sequence",
    "attrix.plugins.pairwise",
    "attrix.plugins.multilabel",
    "attrix.plugins.zero_shot",
    "attrix.plugins.image",
    "attrix.plugins.qa",
    "attrix.plugins.token",
    "attrix.backends.layer_ig",
    "attrix.backends.ig",
    "attrix.backends.grad_x_input",
    "attrix.renderers.json",
    "attrix.renderers.html",
    "attrix.renderers.png",
    "attrix.renderers.terminal",
    "attrix.renderers.jsonl",
)


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
    for module_name in BUILTIN_PLUGINS:
        pm.register_from(importlib.import_module(module_name), module_name, attrix)
    _load_entry_points(pm)
    return pm


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
