"""The base class of task adapters."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import torch
from transformers import PretrainedConfig, PreTrainedModel

from attrix.contracts.backend import Attributions
from attrix.contracts.explanation import Explanation
from attrix.contracts.inputs import TEXT, InputField, input_item
from attrix.contracts.options import CheckedOptions, options_of
from attrix.contracts.problem import Problem
from attrix.contracts.targets import Target


@dataclass
class Prepared:
    """A batch turned into a ``Problem``, with what the task needs to read the result back."""

    problem: Problem
    context: Any
    rows: list[list[int]] | None = None
    """The problem rows each input's explanation is made of, when they are not row n for input n (zero-shot: one
    row per candidate label); what the backend recorded for those rows (``steps_used``) goes to its settings."""


class Task(CheckedOptions, ABC):
    """A task adapter: raw inputs to a ``Problem``, attributions back to ``Explanation`` objects.

    Options are keyword-only constructor arguments after ``model`` and ``processor``.
    """

    plugin_kind: ClassVar[str] = "task"
    name: ClassVar[str]
    heads: ClassVar[tuple[str, ...]] = ()
    """Model class-name endings this task explains, e.g. ``"ForSequenceClassification"``."""
    auto_model: ClassVar[Any] = None
    """The ``transformers`` auto class that loads a checkpoint for this task."""
    default_backend: ClassVar[str] = "layer_ig"
    """The backend used when the user names none."""
    inputs: ClassVar[tuple[InputField, ...]] = (TEXT,)
    """The named inputs one item is made of: one field means the item is its bare value, several a dict by name."""

    def __init__(self, model: PreTrainedModel, processor: Any) -> None:
        self.model = model.eval()
        self.processor = processor

    @classmethod
    def accepts(cls, architecture: str, config: PretrainedConfig) -> bool:
        """Whether a model of class ``architecture`` with ``config`` fits this task."""
        return architecture.endswith(cls.heads)

    @classmethod
    def auto_fits(cls, architecture: str, config: PretrainedConfig) -> bool:
        """Whether ``task="auto"`` should pick this task for such a model; tasks needing special inputs say no."""
        return cls.accepts(architecture, config)

    @classmethod
    def input_names(cls) -> tuple[str, ...]:
        """The names of the declared ``inputs``, in order."""
        return tuple(field.name for field in cls.inputs)

    @classmethod
    def input_item(cls, values: Mapping[str, Any]) -> Any:
        """The item named ``values`` make (see ``inputs``); an error naming the inputs when one is unknown or missing."""
        return input_item(cls.inputs, values, f"task {getattr(cls, 'name', cls.__name__)!r}")

    @classmethod
    def target_names(cls, values: Mapping[str, Any], labels: Sequence[str]) -> tuple[str, ...]:
        """The targets a UI can offer for input ``values`` (by name) to a model with ``labels``: those labels."""
        return tuple(labels)

    def explained_target(self, explanation: Explanation) -> Target:
        """The ``target`` that explains ``explanation``'s input toward its targets again: their labels, by default."""
        return list(dict.fromkeys(one.label for one in explanation.targets))

    def converged(self, explanation: Explanation, tolerance: float) -> list[bool]:
        """Whether each target's completeness holds within ``tolerance``: by its own delta, by default."""
        return [target.meets(tolerance) for target in explanation.targets]

    def settings(self) -> dict[str, Any]:
        """The task options in force, recorded in every explanation."""
        return {name: getattr(self, name) for name in options_of(type(self))}

    @property
    def model_name(self) -> str:
        """The model's name or path, as recorded in explanations."""
        return getattr(self.model.config, "_name_or_path", "") or type(self.model).__name__

    def check(self, item: Any) -> Any:
        """``item`` if this task can explain it; otherwise a clear error."""
        return item

    def length(self, item: Any) -> int:
        """A cheap size of ``item``, used to batch inputs of similar length together."""
        return 0

    @abstractmethod
    def prepare(self, items: list[Any], target: Target) -> Prepared:
        """A batch of checked inputs as a problem whose targets are what ``target`` names."""

    def at_input(self, values: torch.Tensor, problem: Problem) -> torch.Tensor | None:
        """Attributions taken at the task's layer (``[batch, n_targets, ...]``) put at the model's continuous input so
        that each feature of ``problem`` keeps its total, where the task can place them; None where it cannot (the
        default): metrics then need attributions at the input."""
        return None

    @abstractmethod
    def explanations(self, prepared: Prepared, attributions: Attributions) -> list[Explanation]:
        """One explanation per input of the batch, saying what its attributions say; the ``Explainer`` stamps each
        with how it was made (task, model, method, settings, versions)."""
