"""The hooks an attrix plugin can implement."""

from __future__ import annotations

from collections.abc import Callable

from pluggy import HookimplMarker, HookspecMarker

hookspec = HookspecMarker("attrix")
hookimpl = HookimplMarker("attrix")

Register = Callable[..., None]


@hookspec
def register_tasks(register: Register) -> None:
    """Register task adapters: call ``register(TaskClass)`` once per task (the name is ``TaskClass.name``)."""


@hookspec
def register_backends(register: Register) -> None:
    """Register attribution backends: call ``register(BackendClass)`` once per backend."""


@hookspec
def register_renderers(register: Register) -> None:
    """Register renderers: call ``register(RendererClass)`` once per renderer."""


@hookspec
def register_metrics(register: Register) -> None:
    """Register faithfulness metrics: call ``register(MetricClass)`` once per metric."""


@hookspec
def register_step_scores(register: Register) -> None:
    """Register what generation tasks may explain at each step: call ``register(StepScoreClass)`` once per score."""
