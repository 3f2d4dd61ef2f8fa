"""Experiments from YAML configs: the schema of ``Experiment``, its shorthands, ``--set`` overrides and the plugins' checks.

Validating reads no weights and never the network: a model's ``config.json`` comes from its local directory or
the Hub cache; for a Hub model that is not cached, whether its head fits the task is left to the run (a
``ConfigWarning`` says so).
"""

from __future__ import annotations

import dataclasses
import importlib.util
import typing
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import torch

from attrix.api.loading import architecture_of, choose_task
from attrix.contracts.hints import conforms, describe
from attrix.contracts.options import OptionError, check_options, options_of
from attrix.errors import TaskMismatchError, UnknownNameError
from attrix.experiments.executors import RAY_OPTIONS, check_ray_options
from attrix.experiments.inputs import check_inputs
from attrix.experiments.located_yaml import ConfigError, KeyPath, Located, read_yaml
from attrix.experiments.model_config import ModelConfigError, offline_config
from attrix.experiments.schema import Component, EngineSpec, Experiment, InputsSpec
from attrix.host.registry import Entry, Kind, get_registry

__all__ = ["ConfigError", "ConfigWarning", "OptionError", "load_experiment", "parse_experiment"]

SHORTHANDS = {"model": "path", "task": "name", "backend": "name", "engine": "name"}
"""``model: PATH`` stands for ``model: {path: PATH}``, ``task: NAME`` for ``task: {name: NAME}``, and so on."""
LISTS = {"renderers": "renderer", "metrics": "metric"}
"""The keys that list plugins, each item ``{name, options}`` or just a name, and the kind of plugin they list."""
ALLOWED = {("targets",): "predicted, all, a label name or index, or a list of label names and indices"}
"""What a key allows, where its type hint says it less clearly."""
PACKAGES = {("output", "format", "parquet"): ("pyarrow", "parquet"), ("engine", "name", "ray"): ("ray", "ray")}
"""Values that need an optional package: the module to find and the attrix extra that installs it."""


class ConfigWarning(UserWarning):
    """Something a valid config leaves to the run to check."""


def load_experiment(path: str | Path, overrides: Sequence[str] = ()) -> Experiment:
    """The experiment the YAML file at ``path`` describes, with ``overrides`` (``key.path=value``) applied first."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"cannot read the config {str(path)!r}: {error}", "", str(path)) from None
    return parse_experiment(text, str(path), overrides, directory=path.parent)


def parse_experiment(
    text: str, source: str = "<string>", overrides: Sequence[str] = (), *, directory: str | Path | None = None
) -> Experiment:
    """The experiment the YAML ``text`` describes, resolved: the task and backend named, their options checked.

    ``source`` names the text in errors; relative paths in it are read from ``directory`` (default: the current one).
    """
    located = read_yaml(text, source)
    located.data = expand_shorthands(located.data)
    for assignment in overrides:
        located.override(assignment)
        located.data = expand_shorthands(located.data)
    experiment = build(Experiment, located.data, (), located)
    return resolve(experiment, located, Path.cwd() if directory is None else Path(directory))


def expand_shorthands(data: dict[str, Any]) -> dict[str, Any]:
    """``data`` with ``model: PATH``, ``task: NAME``, ``inputs: [...]``, ``inputs: FILE`` and the like spelled out."""
    expanded = dict(data)
    for key, inner in SHORTHANDS.items():
        if isinstance(data.get(key), str):
            expanded[key] = {inner: data[key]}
    for key in LISTS:
        if isinstance(data.get(key), list):
            expanded[key] = [{"name": one} if isinstance(one, str) else one for one in data[key]]
    inputs = data.get("inputs")
    if isinstance(inputs, (list, str)):
        expanded["inputs"] = {"items" if isinstance(inputs, list) else "path": inputs}
    return expanded


def build(cls: type, data: Any, path: KeyPath, located: Located) -> Any:
    """The dataclass ``cls`` from the mapping ``data``, each value checked against its field's type and the constraints
    its ``Annotated`` hint declares (``batch_size >= 1``); null keeps a default."""
    hints = typing.get_type_hints(cls, include_extras=True)
    if data is None:
        return cls()
    if not isinstance(data, dict):
        raise located.bad_value(path, data, f"a mapping with the keys {', '.join(hints)}", "is not a mapping")
    values = {}
    for key, value in data.items():
        if key not in hints:
            raise located.unknown_key(path + (key,), hints)
        if value is not None or conforms(None, hints[key]):
            values[key] = _field_value(hints[key], value, path + (key,), located)
    return cls(**values)


def _field_value(hint: Any, value: Any, path: KeyPath, located: Located) -> Any:
    if dataclasses.is_dataclass(hint):
        return build(hint, value, path, located)
    args = typing.get_args(hint)
    if typing.get_origin(hint) is tuple and dataclasses.is_dataclass(args[0]):
        if not isinstance(value, list):
            raise located.bad_value(
                path, value, f"a list, each item a name or a mapping with the keys {', '.join(typing.get_type_hints(args[0]))}"
            )
        return tuple(build(args[0], item, path + (index,), located) for index, item in enumerate(value))
    if not conforms(value, hint):
        raise located.bad_value(path, value, ALLOWED.get(path, describe(hint)))
    is_tuple = any(typing.get_origin(one) is tuple for one in (hint, *args))
    return tuple(value) if is_tuple and isinstance(value, list) else value


def resolve(experiment: Experiment, located: Located, directory: Path) -> Experiment:
    """``experiment`` checked beyond types, with its task and backend named and each option where it belongs."""
    _check_scalars(experiment, located)
    _check_engine(experiment.engine, located)
    task = _task(experiment, located)
    backend = _entry("backend", experiment.backend.name or task.obj.default_backend, ("backend", "name"), located)
    task_options, backend_options = _route_options(experiment, task, backend, located)
    _check_targets(experiment, task, task_options, located)
    renderers = tuple(_listed("renderers", renderer, index, located) for index, renderer in enumerate(experiment.renderers))
    metrics = tuple(_listed("metrics", metric, index, located) for index, metric in enumerate(experiment.metrics))
    _check_distinct_metrics(metrics, located)
    inputs = check_inputs(experiment.inputs, located, directory, task)
    _check_metrics_fit(metrics, backend, inputs, located)
    return dataclasses.replace(
        experiment,
        task=Component(task.name, task_options),
        backend=Component(backend.name, backend_options),
        renderers=renderers,
        metrics=metrics,
        inputs=inputs,
    )


def _check_scalars(experiment: Experiment, located: Located) -> None:
    """The checks of single values their type hints cannot say: a model, a device torch knows, optional packages installed."""
    if not experiment.model.path:
        raise located.bad_value(("model", "path"), "", "a model directory, a Hub id, or 'default' for the embedded model")
    try:
        torch.device(experiment.model.device)
    except (RuntimeError, ValueError):
        raise located.bad_value(
            ("model", "device"), experiment.model.device, "cpu, cuda, cuda:N, mps, or another torch device"
        ) from None
    if experiment.targets == []:
        raise located.bad_value(("targets",), [], ALLOWED[("targets",)])
    for (section, key, value), (module, extra) in PACKAGES.items():
        if getattr(getattr(experiment, section), key) == value and importlib.util.find_spec(module) is None:
            raise located.bad_value(
                (section, key),
                value,
                f"what is installed; {value} needs {module}: pip install attrix[{extra}]",
                "is not installed",
            )


def _check_engine(engine: EngineSpec, located: Located) -> None:
    """The Ray engine's options, checked at the keys that set them; the local engine reads none (a config may keep them)."""
    if engine.name != "ray":
        return
    path = ("engine", "options")
    try:
        check_ray_options(engine.options)
    except UnknownNameError as error:
        raise located.unknown_key(path + (error.name,), RAY_OPTIONS, ": not an option of engine 'ray'") from None
    except OptionError as error:
        raise located.bad_value(
            path + (error.option,), engine.options[error.option], error.allowed, "is not allowed by engine 'ray'"
        ) from None


def _entry(kind: Kind, name: str | None, path: KeyPath, located: Located) -> Entry:
    """The registered ``kind`` called ``name``; an error listing the registered names if there is none."""
    entries = get_registry().entries[kind]
    if name not in entries:
        raise located.unknown_name(path, name, entries, f"a registered {kind}")
    return entries[name]


def _task(experiment: Experiment, located: Located) -> Entry:
    """The task the config names, or for ``auto`` the one the model's head calls for; checked against the head."""
    name, path = experiment.task.name or "auto", ("task", "name")
    if name != "auto":
        _entry("task", name, path, located)
    try:
        config = offline_config(experiment.model)
    except ModelConfigError as error:
        raise located.error(("model", "path"), str(error)) from None
    if config is None:
        model = experiment.model.path
        if name == "auto":
            tasks = ", ".join(sorted(get_registry().entries["task"]))
            raise located.bad_value(
                path,
                name,
                f"a task name: {tasks}",
                f"needs the model's config.json, and {model!r} is neither a local directory nor in the Hub cache "
                f"(validating never downloads)",
            )
        warnings.warn(
            f"{model!r} is not in the Hub cache: whether its head fits task {name!r} is checked when it runs",
            ConfigWarning,
            stacklevel=2,
        )
        return get_registry().get("task", name)
    try:
        return choose_task(name, architecture_of(config), config)
    except TaskMismatchError as error:
        raise located.error(path, str(error)) from None


def _check_targets(experiment: Experiment, task: Entry, task_options: dict[str, Any], located: Located) -> None:
    """Each label or index in ``targets`` checked against what the task can explain, when that is known before loading
    the model: the model's labels (from its config.json), the candidate labels of the options (zero-shot), the ends of
    an answer (QA)."""
    targets = experiment.targets
    if targets in ("predicted", "all"):
        return
    try:
        config = offline_config(experiment.model)
    except ModelConfigError:
        config = None
    labels = dict(getattr(config, "id2label", None) or {}) if config is not None else {}
    names = task.obj.target_names(task_options, [labels[index] for index in sorted(labels)])
    if not names:
        return
    own = list(names) == [labels[index] for index in sorted(labels)]
    valid = labels if own else dict(enumerate(names))
    folded = {str(name).casefold() for name in valid.values()}
    listing = ", ".join(f"{index}={name}" for index, name in sorted(valid.items()))
    what = "the model's labels" if own else f"the targets of task {task.name!r}"
    for index, target in enumerate(targets if isinstance(targets, (list, tuple)) else [targets]):
        path = ("targets", index) if isinstance(targets, (list, tuple)) else ("targets",)
        known = target in valid if isinstance(target, int) and not isinstance(target, bool) else str(target).casefold() in folded
        if not known:
            raise located.bad_value(path, target, f"predicted, all, or {what}: {listing}", f"is not one of {what}")


def _route_options(
    experiment: Experiment, task: Entry, backend: Entry, located: Located
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The task's options and the backend's; backend.options may hold the task's too (baseline, embedding), as the Explainer routes them."""
    task_names, backend_names = options_of(task.obj), options_of(backend.obj)
    task_options: dict[str, Any] = {}
    backend_options: dict[str, Any] = {}
    paths: dict[str, KeyPath] = {}
    for key, value in experiment.task.options.items():
        path = ("task", "options", key)
        if key not in task_names:
            elsewhere = (
                f"; it is an option of backend {backend.name!r}: put it under backend.options" if key in backend_names else ""
            )
            raise located.unknown_key(path, task_names, f": not an option of task {task.name!r}{elsewhere}")
        task_options[key], paths[key] = value, path
    for key, value in experiment.backend.options.items():
        path = ("backend", "options", key)
        if key in backend_names:
            backend_options[key] = value
        elif key not in task_names:
            raise located.unknown_key(
                path, [*backend_names, *task_names], f": not an option of backend {backend.name!r} nor of task {task.name!r}"
            )
        elif key in task_options and task_options[key] != value:
            raise located.bad_value(
                path,
                value,
                f"{task_options[key]!r}, as task.options.{key} has it ({located.where(paths[key])})",
                "contradicts task.options",
            )
        else:
            task_options[key] = value
        paths[key] = path
    _check_options(task, task_options, paths, ("task", "options"), located)
    _check_options(backend, backend_options, paths, ("backend", "options"), located)
    return task_options, backend_options


def _listed(key: str, component: Component, index: int, located: Located) -> Component:
    """The plugin at ``key[index]`` (a renderer or a metric) with its name and options checked by the registered class."""
    path, kind = (key, index), LISTS[key]
    entry = _entry(kind, component.name, path + ("name",), located)
    valid = options_of(entry.obj)
    for option in component.options:
        if option not in valid:
            raise located.unknown_key(path + ("options", option), valid, f": not an option of {kind} {entry.name!r}")
    paths = {option: path + ("options", option) for option in component.options}
    _check_options(entry, component.options, paths, path + ("options",), located)
    return component


def _check_distinct_metrics(metrics: tuple[Component, ...], located: Located) -> None:
    """Each metric named once: a run stores a metric's values under its name, so a second one would replace the first."""
    first: dict[str | None, int] = {}
    for index, metric in enumerate(metrics):
        if metric.name in first:
            raise located.bad_value(
                ("metrics", index, "name"),
                metric.name,
                f"a metric not listed yet; it is metrics[{first[metric.name]}] already "
                "(each metric is measured once, with one set of options)",
                "is listed twice",
            )
        first[metric.name] = index


def _check_metrics_fit(metrics: tuple[Component, ...], backend: Entry, inputs: InputsSpec, located: Located) -> None:
    """Each metric able to measure the backend's attributions (``Metric.unfit``), and given the rows' human rationales
    (``inputs.rationale_field``) when it compares the attributions with them."""
    for index, metric in enumerate(metrics):
        path = ("metrics", index, "name")
        metric_class = _entry("metric", metric.name, path, located).obj
        reason = metric_class.unfit(backend.obj)
        if reason:
            raise located.bad_value(
                path,
                metric.name,
                f"a metric that measures backend {backend.name!r}",
                f"cannot measure backend {backend.name!r}: {reason}",
            )
        if metric_class.needs_rationales and inputs.rationale_field is None:
            raise located.error(
                path,
                f"metric {metric.name!r} compares the attributions with human rationales, and the config gives none: set "
                "inputs.rationale_field to the column holding each row's rationale (a list of word indexes or a 0/1 "
                "mask per word)",
            )


def _check_options(
    entry: Entry, options: Mapping[str, Any], paths: Mapping[str, KeyPath], where: KeyPath, located: Located
) -> None:
    """Let the plugin check its options' types and its own rules, as errors at the keys that set them."""
    try:
        check_options(entry.obj, options)
    except OptionError as error:
        path = paths.get(error.option, where + (error.option,))
        if error.option not in options:
            raise located.error(path, f"is not set, and {entry.kind} {entry.name!r} needs it; allowed: {error.allowed}") from None
        raise located.bad_value(
            path, options[error.option], error.allowed, f"is not allowed by {entry.kind} {entry.name!r}"
        ) from None
    except ValueError as error:
        raise located.error(where, f"{entry.kind} {entry.name!r} refuses these options: {error}") from None
