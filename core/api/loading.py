"""Choosing the task for a model and loading a model and its tokenizer or processor by name."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from transformers import (
    AutoConfig,
    AutoProcessor,
    AutoTokenizer,
    PretrainedConfig,
    PreTrainedModel,
)
from transformers.utils import logging as transformers_logging

from attrix.errors import AttrixError, TaskMismatchError
from attrix.host.registry import Entry, get_registry


class ModelLoadError(AttrixError, OSError):
    """A model or tokenizer that could not be loaded."""


def architecture_of(model: PreTrainedModel | PretrainedConfig) -> str:
    """The class name of a model, or the first architecture its config names."""
    if isinstance(model, PretrainedConfig):
        return (model.architectures or ["(no architecture in config.json)"])[0]
    return type(model).__name__


def choose_task(task: str, architecture: str, config: PretrainedConfig) -> Entry:
    """The registered task ``task`` names, or for ``"auto"`` the one task that fits the model's head."""
    tasks = get_registry().entries["task"]
    fitting = [entry.name for entry in tasks.values() if entry.obj.accepts(architecture, config)]
    if task != "auto":
        chosen = get_registry().get("task", task)
        if chosen.name not in fitting:
            raise TaskMismatchError(
                f"task {task!r} explains models with a head ending in {', '.join(chosen.obj.heads)}, "
                f"but the model is {architecture}; "
                + (f"tasks that fit it: {', '.join(fitting)}" if fitting else "no registered task fits it")
            )
        return chosen
    automatic = [entry for entry in tasks.values() if entry.obj.auto_fits(architecture, config)]
    if len(automatic) == 1:
        return automatic[0]
    if not automatic:
        if fitting:
            raise TaskMismatchError(f"{architecture} needs a task named explicitly: task= one of {', '.join(fitting)}")
        heads = "; ".join(f"{e.name}: {', '.join(e.obj.heads)}" for e in tasks.values())
        raise TaskMismatchError(f"no registered task explains {architecture}; the tasks and the heads they take are {heads}")
    raise TaskMismatchError(f"several tasks fit {architecture}: {', '.join(e.name for e in automatic)}; pass task= one of them")


@contextmanager
def quiet_transformers(*, keep_warnings: bool = False) -> Iterator[None]:
    """Hide transformers' progress bars, and its load reports and warnings unless ``keep_warnings``, then restore them."""
    verbosity = transformers_logging.get_verbosity()
    bars = transformers_logging.is_progress_bar_enabled()
    if not keep_warnings:
        transformers_logging.set_verbosity_error()
    transformers_logging.disable_progress_bar()
    try:
        yield
    finally:
        transformers_logging.set_verbosity(verbosity)
        if bars:
            transformers_logging.enable_progress_bar()


def load_config(name: str, revision: str | None = None) -> PretrainedConfig:
    """The config of a local directory or Hub id (at ``revision``), with a clear error when it cannot be read."""
    try:
        return AutoConfig.from_pretrained(name, revision=revision)
    except (OSError, ValueError) as error:
        raise ModelLoadError(
            f"could not load a model from {name!r}: give a local directory with config.json or a Hub id ({error})"
        ) from None


def load_model(name: str, task: Entry, revision: str | None = None) -> PreTrainedModel:
    """The model at ``name`` (at ``revision``) with the head ``task`` needs."""
    try:
        with quiet_transformers(keep_warnings=True):
            return task.obj.auto_model.from_pretrained(name, revision=revision)
    except (OSError, ValueError) as error:
        raise ModelLoadError(f"could not load the {task.name} model {name!r}: {error}") from None


def load_processor(name: str, revision: str | None = None) -> Any:
    """The tokenizer (text models) or processor (vision models) stored with the model at ``name`` (at ``revision``)."""
    try:
        return AutoTokenizer.from_pretrained(name, revision=revision)
    except (OSError, ValueError, TypeError):
        try:
            return AutoProcessor.from_pretrained(name, revision=revision)
        except (OSError, ValueError, TypeError) as error:
            raise ModelLoadError(f"could not load a tokenizer or processor from {name!r}: {error}") from None
