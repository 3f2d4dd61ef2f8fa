"""A YAML config as plain data that remembers where each key was set, and ``--set key.path=value`` overrides."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Union

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from attrix.errors import AttrixError

Key = Union[str, int]
KeyPath = tuple[Key, ...]
MERGE = "tag:yaml.org,2002:merge"
MAX_NODES = 100_000
"""At most this many values built again through aliases (``*name``) in a config: no "billion laughs"."""
MAX_DEPTH = 64
"""At most this deep a nesting of mappings and lists in a config."""


class ConfigError(AttrixError, ValueError):
    """A config that attrix cannot run: the key path, the bad value, what is allowed, and where it was set."""

    def __init__(self, message: str, key_path: str = "", location: str = "") -> None:
        self.key_path, self.location = key_path, location
        super().__init__(message)


def dotted(path: KeyPath) -> str:
    """``("renderers", 0, "options")`` as ``renderers[0].options``."""
    text = ""
    for key in path:
        text += f"[{key}]" if isinstance(key, int) else f".{key}" if text else str(key)
    return text


@dataclass
class Located:
    """Config data as YAML gives it, with where each key was set: ``file:line``, or the ``--set`` that set it."""

    data: dict[str, Any]
    source: str
    locations: dict[KeyPath, str] = field(default_factory=dict)

    def where(self, path: KeyPath) -> str:
        """Where ``path`` or, if it was not set itself, its nearest parent was set; the source if none was."""
        for end in range(len(path), 0, -1):
            if path[:end] in self.locations:
                return self.locations[path[:end]]
        return self.source

    def error(self, path: KeyPath, problem: str) -> ConfigError:
        """An error at ``path``: ``backend.options.n_steps (config.yaml:7): problem``."""
        where = self.where(path)
        return ConfigError(f"{dotted(path) or 'the config'} ({where}): {problem}", dotted(path), where)

    def bad_value(self, path: KeyPath, value: Any, allowed: str, problem: str = "is not allowed") -> ConfigError:
        """An error naming the key path, the value, where it was set and what is allowed."""
        return self.error(path, f"{value!r} {problem}; allowed: {allowed}")

    def unknown_name(self, path: KeyPath, name: Any, valid: Iterable[str], what: str) -> ConfigError:
        """An error for a name at ``path`` that is not one of ``valid``, e.g. a backend that is not registered."""
        return self.bad_value(path, name, _listing(valid, name), f"is not {what}")

    def unknown_key(self, path: KeyPath, valid: Iterable[str], why: str = "") -> ConfigError:
        """An error for the key at ``path`` that its mapping does not take, listing the keys it takes."""
        key, parent = path[-1], path[:-1]
        where = self.where(path)
        place = f"at {dotted(parent)}" if parent else "at the top level"
        return ConfigError(f"unknown key {key!r} {place} ({where}){why}; valid: {_listing(valid, key)}", dotted(path), where)

    def override(self, assignment: str) -> None:
        """Apply ``key.path=value``, the value read as YAML, recording the assignment as where the key was set."""
        where = f"--set {assignment}"
        name, equals, text = assignment.partition("=")
        path = tuple(int(key) if key.isdigit() else key for key in name.strip().split("."))
        if not equals or not all(str(key) for key in path):
            raise ConfigError(f"{where}: an override is key.path=value, e.g. backend.options.n_steps=16", name, where)
        value = read_value(text, where, name)
        container: Any = self.data
        for depth in range(1, len(path)):
            container = _child(container, path[:depth], where, name)
        _index(container, path, where, name)
        container[path[-1]] = value
        self.locations = {key: place for key, place in self.locations.items() if key[: len(path)] != path}
        self.locations[path] = where


def _child(container: dict | list, path: KeyPath, where: str, name: str) -> dict | list:
    """The mapping or list at ``path`` inside ``container``, a new mapping where nothing is set yet."""
    _index(container, path, where, name)
    if isinstance(container, dict) and container.get(path[-1]) is None:
        container[path[-1]] = {}
    child = container[path[-1]]
    if not isinstance(child, (dict, list)):
        raise ConfigError(f"{where}: {dotted(path)} is {child!r}, which has no keys to set", name, where)
    return child


def _index(container: dict | list, path: KeyPath, where: str, name: str) -> None:
    """Refuse ``path[-1]`` as a key of a list unless it is an index the list has."""
    key = path[-1]
    if isinstance(container, list) and not (isinstance(key, int) and key < len(container)):
        raise ConfigError(f"{where}: {dotted(path[:-1])} is a list of {len(container)}; give an index below it", name, where)


def _listing(valid: Iterable[str], given: Any) -> str:
    """The valid names, sorted, and the one closest to ``given`` if one is close."""
    valid = sorted(valid)
    close = difflib.get_close_matches(str(given), valid, n=1)
    return (", ".join(valid) or "(none)") + (f"; did you mean {close[0]!r}?" if close else "")


def read_yaml(text: str, source: str) -> Located:
    """The mapping that ``text`` holds, with the line of every key in it."""
    located = Located({}, source)
    try:
        data = _loaded(text, source, located)
        data = {} if data is None else data
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        where = f"{source}:{mark.line + 1}" if mark else source
        raise ConfigError(f"{where}: not valid YAML: {error.problem or error.context}", "", where) from None
    if not isinstance(data, dict):
        raise ConfigError(
            f"{source}: a config is a mapping of keys (model:, task:, inputs: ...), got {type(data).__name__}", "", source
        )
    located.data = data
    return located


def read_value(text: str, where: str, name: str) -> Any:
    """The plain value ``text`` (of the key ``name``) holds as YAML, under a config's limits: depth, aliases, no Python tags."""
    try:
        return _loaded(text, where, Located({}, where))
    except yaml.MarkedYAMLError as error:
        raise ConfigError(
            f"{where}: the value {text!r} is not valid YAML ({error.problem or error.context})", name, where
        ) from None


def _loaded(text: str, source: str, located: Located) -> Any:
    """The plain data of the YAML document ``text``, recording the line of its keys in ``located``."""
    loader = yaml.SafeLoader(text)  # safe: tags such as !!python/object are refused, never constructed
    try:
        try:
            node = loader.get_single_node()
        except RecursionError:
            raise _too_deep(source, source) from None
        return None if node is None else _build(loader, node, (), located, _Budget())
    finally:
        loader.dispose()


@dataclass
class _Budget:
    """The nodes built so far (by id) and how many were built again through an alias."""

    seen: set[int] = field(default_factory=set)
    repeats: int = 0


def _too_deep(where: str, source: str) -> ConfigError:
    return ConfigError(f"{where}: the config nests mappings and lists more than {MAX_DEPTH} deep; flatten it", "", source)


def _build(loader: yaml.SafeLoader, node: Node, path: KeyPath, located: Located, budget: _Budget) -> Any:
    """Plain data from ``node``, recording the line of each key under ``path``; ``budget`` counts the values built.

    A config nested more than ``MAX_DEPTH`` deep, or whose aliases expand to more than ``MAX_NODES`` values, is an error.
    """
    if id(node) in budget.seen:
        budget.repeats += 1  # a node built again: reached through an alias
    budget.seen.add(id(node))
    where = f"{located.source}:{node.start_mark.line + 1}"
    if budget.repeats > MAX_NODES:
        raise ConfigError(
            f"{where}: the config's aliases (*name) expand to more than {MAX_NODES} values; use fewer aliases",
            dotted(path),
            where,
        )
    if len(path) > MAX_DEPTH:
        raise _too_deep(where, where)
    plain_tag = {SequenceNode: "tag:yaml.org,2002:seq", MappingNode: "tag:yaml.org,2002:map"}.get(type(node))
    if plain_tag and node.tag != plain_tag:
        raise ConfigError(
            f"{where}: not valid YAML: the tag {node.tag!r} is not allowed in a config; give plain data", dotted(path), where
        )
    if isinstance(node, SequenceNode):
        for index, item in enumerate(node.value):
            located.locations[path + (index,)] = f"{located.source}:{item.start_mark.line + 1}"
        return [_build(loader, item, path + (index,), located, budget) for index, item in enumerate(node.value)]
    if not isinstance(node, MappingNode):
        return loader.construct_object(node, deep=True)
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        if key_node.tag == MERGE:
            continue
        where = f"{located.source}:{key_node.start_mark.line + 1}"
        if not isinstance(key_node, ScalarNode):
            raise ConfigError(f"{where}: a key must be a plain name, not a list or mapping", dotted(path), where)
        key = loader.construct_object(key_node)
        if key in seen:
            raise ConfigError(
                f"{where}: key {key!r} at {dotted(path) or 'the top level'} is given twice (first on line {seen[key]})",
                dotted(path + (key,)),
                where,
            )
        seen[key] = key_node.start_mark.line + 1
    loader.flatten_mapping(node)  # merge keys (<<: *anchor) as PyYAML reads them
    data = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node)
        located.locations[path + (key,)] = f"{located.source}:{key_node.start_mark.line + 1}"
        data[key] = _build(loader, value_node, path + (key,), located, budget)
    return data
