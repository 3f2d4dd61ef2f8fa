"""What the web demo (``attrix app``) does, free of Streamlit: models, choices, inputs, explaining, metrics, downloads,
errors."""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import cached_property
from io import BytesIO
from pathlib import Path
from typing import Any

from PIL import Image, UnidentifiedImageError
from transformers import PreTrainedModel

from attrix.api.evaluation import evaluate
from attrix.api.explainer import Explainer
from attrix.api.loading import (
    architecture_of,
    choose_task,
    load_config,
    load_model,
    load_processor,
)
from attrix.contracts.explanation import Explanation, TargetAttribution
from attrix.contracts.inputs import InputField
from attrix.contracts.options import options_of
from attrix.contracts.targets import Target
from attrix.contracts.task import Task
from attrix.errors import AttrixError, InputError
from attrix.host.registry import create, get_registry
from attrix.text.encoding import check_text

PAGE = Path(__file__).with_name("page.py")
"""The Streamlit script ``attrix app`` serves."""
MODEL_ENV_VAR = "ATTRIX_APP_MODEL"
"""The model preselected in the page; the embedded default model when unset."""
PREDICTED, ALL = "predicted", "all"
TOP_K = 10
"""Words per target in the bar chart."""
AUTO = "auto"
NUMBER_BESIDE_AUTO = 50
"""What a number option whose default is ``"auto"`` (``n_steps``) shows when its *auto* switch is turned off:
transformers-interpret's 50 steps."""
METRICS_DOCS = "docs/metrics.md"
"""Where the faithfulness metrics are described."""
CURVE_METRICS = ("deletion_auc", "insertion_auc")
"""The metrics whose curves the page draws: the score at 0, 1/steps, …, 1 of the features removed or put back."""
CURVE_AXIS = "fraction of features"
"""The x axis of those curves: the share of the features removed (deletion) or put back (insertion)."""

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ModelInfo:
    """What a model's config says: its architecture, its labels, every task and the one proposed for its head."""

    name: str
    architecture: str
    labels: tuple[str, ...]
    tasks: tuple[str, ...]
    fitting: tuple[str, ...]
    proposed: str


@dataclass(frozen=True)
class LoadedModel:
    """A model loaded with the head a task needs, its tokenizer or processor, and a lock: one explanation at a time."""

    name: str
    task: str
    model: PreTrainedModel
    processor: Any
    lock: threading.Lock = field(default_factory=threading.Lock, compare=False)


@dataclass(frozen=True)
class OptionField:
    """A backend or task option the page offers: its name, default, and whether ``"auto"`` is also accepted."""

    name: str
    default: bool | int | float | str
    auto: bool = False

    @property
    def number(self) -> int | float | None:
        """The number its widget shows with *auto* off: the default, or ``NUMBER_BESIDE_AUTO`` when that is ``"auto"``."""
        if self.default == AUTO:
            return NUMBER_BESIDE_AUTO
        return self.default if isinstance(self.default, (int, float)) and not isinstance(self.default, bool) else None


@dataclass(frozen=True)
class Request:
    """Everything one explanation depends on, comparable so that an unchanged page is not explained twice."""

    model: str
    task: str
    backend: str
    options: tuple[tuple[str, Any], ...]
    inputs: tuple[tuple[str, Any], ...]
    target: str


@dataclass(frozen=True)
class Download:
    """A file offered for download."""

    label: str
    data: str | bytes
    file_name: str
    mime: str


@dataclass
class Result:
    """One explanation and the seconds it took, with what the page shows of it."""

    explanation: Explanation
    seconds: float

    @property
    def delta(self) -> float:
        """The largest convergence delta, in absolute value, over the explained targets."""
        return max((abs(target.delta) for target in self.explanation.targets), default=0.0)

    @property
    def unconverged(self) -> list[str]:
        """The labels of the targets that have not converged (their |delta| is above the method's tolerance)."""
        return [target.label for target in self.explanation.targets if target.converged is False]

    @property
    def convergence_warning(self) -> str | None:
        """What the page says when some targets have not converged; None when all have (or the method makes no claim)."""
        labels = self.unconverged
        if not labels:
            return None
        named = ", ".join(labels[:5]) + (f" and {len(labels) - 5} more" if len(labels) > 5 else "")
        tolerance = self.explanation.settings.get("tolerance")
        bound = f"{tolerance:.0%} of" if isinstance(tolerance, float) else "the tolerance of"
        return (
            f"Not converged: {named}. Their |delta| is above {bound} |f(x) − f(baseline)|, so their attributions "
            f"cannot be trusted; use n_steps='auto' or more steps."
        )

    @cached_property
    def html(self) -> str:
        """The explanation drawn by the ``html`` renderer."""
        return create("renderer", "html", title="attrix explanation", index=False).render([self.explanation])

    @cached_property
    def figure(self) -> bytes:
        """The ``png`` renderer's top-k bar chart; for an image, its attributions (over the image when it carries it)."""
        if not any(target.array is not None for target in self.explanation.targets):
            return create("renderer", "png", figure="bars", top_k=TOP_K).render([self.explanation])
        method = "overlay" if "image" in self.explanation.details else "heatmap"
        return create("renderer", "png", figure="image", method=method).render([self.explanation])

    def downloads(self, measurement: Measurement | None = None) -> list[Download]:
        """The explanation as HTML, JSON (with the metrics ``measurement`` holds, if any) and PNG (the figure shown)."""
        measured = measurement.explanation if measurement is not None and measurement.explanation else self.explanation
        return [
            Download("HTML", self.html, "explanation.html", "text/html"),
            Download("JSON", create("renderer", "json").render([measured]), "explanation.json", "application/json"),
            Download("PNG", self.figure, "explanation.png", "image/png"),
        ]


@dataclass(frozen=True)
class Measurement:
    """The faithfulness metrics ``attrix.evaluate`` measured for an explanation, or why they could not be measured."""

    metrics: tuple[str, ...]
    explanation: Explanation | None = None
    """A copy of the explanation shown, holding the metrics in its ``metrics``; None when they could not be measured."""
    error: str | None = None

    def table(self) -> list[dict[str, Any]]:
        """Per target, each metric's value beside the random ranking's (None for a metric that does not rank) and
        which way is better."""
        explanation = self.explanation
        if explanation is None:
            return []
        return [
            {
                "target": target_name(target),
                "metric": name,
                "value": measured["values"][index],
                "random": None if measured["random"] is None else measured["random"][index],
                "better": "higher" if higher_is_better(name) else "lower",
            }
            for index, target in enumerate(explanation.targets)
            for name, measured in explanation.metrics.items()
        ]

    @property
    def directions(self) -> str:
        """A line saying which way each metric is better, what *random* is, and where the metrics are described."""
        higher = [name for name in self.metrics if higher_is_better(name)]
        lower = [name for name in self.metrics if not higher_is_better(name)]
        better = "; ".join(
            f"{way} is better for {', '.join(names)}" for way, names in (("higher", higher), ("lower", lower)) if names
        )
        return (
            f"{better[0].upper()}{better[1:]}. *random* is the same metric for a random ranking of the same features: "
            f"faithful attributions beat it. See {METRICS_DOCS}."
        )

    def curves(self) -> dict[str, dict[str, list[float]]]:
        """Per metric of ``CURVE_METRICS`` measured: the score of each target at each fraction of the features
        removed or put back, with those fractions as ``CURVE_AXIS``."""
        explanation = self.explanation
        if explanation is None:
            return {}
        return {
            name: _chart(explanation.targets, measured["curves"])
            for name, measured in explanation.metrics.items()
            if name in CURVE_METRICS
        }


def _chart(targets: list[TargetAttribution], curves: list[list[float]]) -> dict[str, list[float]]:
    """One curve per target, over evenly spaced fractions from 0 to 1."""
    points = len(curves[0])
    fractions = [step / (points - 1) for step in range(points)]
    return {CURVE_AXIS: fractions, **{target_name(target): curve for target, curve in zip(targets, curves)}}


def target_name(target: TargetAttribution) -> str:
    """A target's label, with its token position when it has one (a NER token, a QA start or end, a generated step)."""
    return target.label if target.position is None else f"{target.label} @ {target.position}"


def higher_is_better(metric: str) -> bool:
    """Whether a larger value of the registered metric means more faithful attributions."""
    return get_registry().get("metric", metric).obj.higher_is_better


def initial_model() -> str:
    """The model the page starts with: ``$ATTRIX_APP_MODEL``, else the embedded default sentiment model."""
    from attrix.api.default_model import default_model_dir

    return os.environ.get(MODEL_ENV_VAR) or str(default_model_dir())


def describe(name: str) -> ModelInfo:
    """What the config at ``name`` (a directory or Hub id) says; a ``ModelLoadError`` when there is none."""
    name = name.strip()
    if not name:
        raise InputError("no model given: enter a local model directory or a Hub id")
    config = load_config(name)
    architecture = architecture_of(config)
    entries = get_registry().entries["task"]
    fitting = tuple(entry.name for entry in entries.values() if entry.obj.accepts(architecture, config))
    try:
        proposed = choose_task("auto", architecture, config).name
    except AttrixError:
        proposed = (fitting or tuple(entries))[0]
    labels = tuple(config.id2label[index] for index in sorted(config.id2label or {}))
    return ModelInfo(name, architecture, labels, tuple(entries), fitting, proposed)


def load(name: str, task: str) -> LoadedModel:
    """The model at ``name`` with ``task``'s head; a ``TaskMismatchError`` before loading when the head does not fit."""
    config = load_config(name)
    entry = choose_task(task, architecture_of(config), config)
    return LoadedModel(name, entry.name, load_model(name, entry), load_processor(name))


def default_backend(task: str) -> str:
    """The backend ``task`` uses when none is named."""
    return get_registry().get("task", task).obj.default_backend


def backends() -> list[str]:
    """Every registered backend, third-party ones included, by name."""
    return sorted(get_registry().entries["backend"])


def metrics() -> list[str]:
    """Every registered metric the page can measure, third-party ones included, by name: those that compare with
    human rationales are left out (the page takes none)."""
    return sorted(name for name, entry in get_registry().entries["metric"].items() if not entry.obj.needs_rationales)


def option_fields(backend: str) -> list[OptionField]:
    """The backend's options the page can edit: those whose default is a bool, number or string."""
    return [
        OptionField(name, parameter.default, auto=_accepts_auto(backend, name, parameter.default))
        for name, parameter in options_of(get_registry().get("backend", backend).obj).items()
        if isinstance(parameter.default, (bool, int, float, str))
    ]


def task_option_fields(task: str) -> list[OptionField]:
    """The task's options the page can edit (``max_new_tokens`` for generation, ``long_inputs`` for text, …): those
    whose default is a bool, number or string."""
    return [
        OptionField(name, parameter.default)
        for name, parameter in options_of(task_class(task)).items()
        if isinstance(parameter.default, (bool, int, float, str))
    ]


def _accepts_auto(backend: str, option: str, default: Any) -> bool:
    """Whether ``option`` is ``AUTO`` by default, or is numeric and may also be ``AUTO``: the backend accepts it."""
    if default == AUTO:
        return True
    if isinstance(default, bool) or not isinstance(default, (int, float)):
        return False
    try:
        create("backend", backend, **{option: AUTO})
    except (AttrixError, TypeError, ValueError):
        return False
    return True


def unused_options(backend: str, fields: list[OptionField], values: dict[str, Any]) -> set[str]:
    """The options the backend, built with ``values`` (the rest at their defaults), keeps but does not use: those
    its ``settings()`` leaves out (``tolerance`` and ``max_steps`` when ``n_steps`` is fixed). None when it cannot
    be built with them (its error shows when explaining)."""
    known = {field.name: values.get(field.name, field.default) for field in fields}
    try:
        instance = create("backend", backend, **dict(changed_options(fields, known)))
    except (AttrixError, TypeError, ValueError):
        return set()
    return set(vars(instance)) - set(instance.settings())


def changed_options(fields: list[OptionField], values: dict[str, Any]) -> tuple[tuple[str, Any], ...]:
    """The options set away from their defaults, as passed to the backend."""
    return tuple(
        (field.name, values[field.name]) for field in fields if field.name in values and values[field.name] != field.default
    )


def task_class(task: str) -> type[Task]:
    """The task class registered as ``task``, third-party ones included."""
    return get_registry().get("task", task).obj


def input_fields(task: str) -> tuple[InputField, ...]:
    """The inputs ``task`` declares, one widget each."""
    return task_class(task).inputs


def target_choices(info: ModelInfo, task: str, inputs: dict[str, Any]) -> list[str]:
    """``predicted``, ``all``, then what the task says can be explained for ``inputs`` (by default the model's labels)."""
    return [PREDICTED, ALL, *task_class(task).target_names(inputs, info.labels)]


def target_of(choice: str) -> Target:
    """The ``target`` a choice of the target menu names: None for the prediction."""
    return None if choice == PREDICTED else choice


def make_input(task: str, values: dict[str, Any]) -> Any:
    """``task``'s input from the page's fields (by name): uploads read as images, texts checked to be non-empty
    (an optional field that starts empty, such as a generation's ``target_text``, is left out when left so); the task
    checks it further."""
    cls = task_class(task)
    fields = {field.name: field for field in cls.inputs}
    given = {name: value for name, value in values.items() if not (name in fields and _left_empty(fields[name], value))}
    return cls.input_item({name: _read(getattr(fields.get(name), "widget", None), name, value) for name, value in given.items()})


def _left_empty(field: InputField, value: Any) -> bool:
    """Whether ``field`` is optional, starts empty and was left so."""
    blank = value is None or (isinstance(value, str) and not value.strip())
    return not field.required and not field.example and blank


def _read(widget: str | None, name: str, value: Any) -> Any:
    """A field's value as the task takes it: an upload read as an image, a text checked to be non-empty."""
    if widget == "image":
        return read_image(value)
    return value if widget is None else check_text(value, name)


def read_image(data: bytes | None) -> Image.Image:
    """An uploaded file as an image; a clear error when there is none or it is no image."""
    if data is None:
        raise InputError("no image uploaded: upload a PNG, JPEG, GIF, BMP or WebP image to explain")
    try:
        image = Image.open(BytesIO(data))
        image.load()
    except (UnidentifiedImageError, OSError) as error:
        raise InputError(f"the uploaded file is not an image that can be read: {error}") from None
    return image


def explain(request: Request, loader: Callable[[str, str], LoadedModel] = load) -> Result:
    """The explanation ``request`` asks for, its model from ``loader`` (the page passes a cached one), timed."""
    item = make_input(request.task, dict(request.inputs))
    loaded = loader(request.model, request.task)
    with loaded.lock:
        explainer = _explainer(request, loaded)
        start = time.perf_counter()
        explanation = explainer(item, target=target_of(request.target))
        return Result(explanation, time.perf_counter() - start)


def measure(
    request: Request, chosen: tuple[str, ...], result: Result, loader: Callable[[str, str], LoadedModel] = load
) -> Measurement | None:
    """The metrics ``chosen`` of ``result`` (explained for ``request``), as ``attrix.evaluate`` measures them with the
    same explainer, on a copy of its explanation; None when no metric is chosen (nothing is measured). A metric that
    cannot be measured gives the reason as ``error``."""
    if not chosen:
        return None
    try:
        loaded = loader(request.model, request.task)
        with loaded.lock:
            copy = replace(result.explanation, metrics={})
            (measured,) = evaluate([copy], _explainer(request, loaded), list(chosen)).explanations
    except Exception as error:  # noqa: BLE001 - the page shows the reason beside the explanation
        return Measurement(chosen, error=error_message(error))
    return Measurement(chosen, measured)


def _explainer(request: Request, loaded: LoadedModel) -> Explainer:
    """The explainer ``request`` asks for, on the loaded model."""
    return Explainer(loaded.model, loaded.processor, task=request.task, backend=request.backend, **dict(request.options))


def error_message(error: Exception) -> str:
    """The message the page shows for ``error``; an unexpected one is also logged with its traceback."""
    if isinstance(error, AttrixError):
        return str(error)
    logger.error("the attrix app failed unexpectedly", exc_info=error)
    return f"unexpected error ({type(error).__name__}): {error}"
