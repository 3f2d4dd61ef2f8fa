"""Registering test classes as a plugin for the length of a test, as a third-party plugin would register them."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import attrix

KINDS = {
    attrix.Task: "task", attrix.Backend: "backend", attrix.Renderer: "renderer", attrix.Metric: "metric", attrix.StepScore: "step_score",
}


class ClassesPlugin:
    """A plugin object whose hooks register the given task, backend, renderer, metric and step-score classes."""

    def __init__(self, *classes: type) -> None:
        self.classes = classes

    def _register(self, base: type, register) -> None:
        for cls in self.classes:
            if issubclass(cls, base):
                register(cls)

    @attrix.hookimpl
    def register_tasks(self, register):
        self._register(attrix.Task, register)

    @attrix.hookimpl
    def register_backends(self, register):
        self._register(attrix.Backend, register)

    @attrix.hookimpl
    def register_renderers(self, register):
        self._register(attrix.Renderer, register)

    @attrix.hookimpl
    def register_metrics(self, register):
        self._register(attrix.Metric, register)

    @attrix.hookimpl
    def register_step_scores(self, register):
        self._register(attrix.StepScore, register)


@contextmanager
def plugged(*classes: type, name: str = "test-plugin") -> Iterator[None]:
    """``classes`` registered as the plugin ``name`` inside the block; gone from the registry afterwards."""
    pm = attrix.plugin_manager()
    pm.register(ClassesPlugin(*classes), name=name)
    try:
        yield
    finally:
        pm.unregister(name=name)
    for cls in classes:
        kind = next(kind for base, kind in KINDS.items() if issubclass(cls, base))
        assert cls.name not in attrix.get_registry().entries[kind], f"{cls.name} still registered after the test"
