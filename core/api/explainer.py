"""``Explainer``: a model, a task and a backend composed into one callable."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

import torch
from annotated_types import Ge
from torch import nn
from transformers import PreTrainedModel

from attrix.api.heap import release_free_heap
from attrix.api.loading import (
    architecture_of,
    choose_task,
    load_config,
    load_model,
    load_processor,
)
from attrix.api.placement import compile_in_place, resolve_device, resolve_dtype
from attrix.api.provenance import stamp
from attrix.contracts.backend import Attributions, Backend
from attrix.contracts.explanation import Explanation
from attrix.contracts.options import check_arguments, options_of
from attrix.contracts.step_score import set_step_score_lookup
from attrix.contracts.targets import Target
from attrix.contracts.task import Prepared
from attrix.errors import InputError, UnknownNameError
from attrix.host.registry import create, get_registry
from attrix.integration.batching import length_batches

set_step_score_lookup(lambda name: get_registry().get("step_score", name).obj)


@contextmanager
def frozen_parameters(model: nn.Module) -> Iterator[None]:
    """No gradient for the model's weights while attributing: only the inputs need one."""
    trainable = [p for p in model.parameters() if p.requires_grad]
    for parameter in trainable:
        parameter.requires_grad_(False)
    try:
        yield
    finally:
        for parameter in trainable:
            parameter.requires_grad_(True)


class Explainer:
    """Explains a model's predictions: call it with one input for an ``Explanation``, a list for a list.

    ``model`` is a loaded model or a local directory / Hub id (at ``revision``, a branch, tag or commit);
    ``task="auto"`` picks the task from its head, and ``backend=None`` the task's default backend (``layer_ig``
    for text). ``device`` (``"cpu"``, ``"cuda"``, ``"cuda:1"``, ``"auto"`` for the GPU if there is one, or a
    torch.device) and ``dtype`` (``"float32"``, ``"float16"``, ``"bfloat16"`` or a torch dtype) move the model;
    left out, a model loaded by name runs on the CPU in the dtype it was saved in, a loaded one stays as it is.
    ``compile=True`` compiles the model's forward (and so backward) passes in place with ``torch.compile``: each
    new input shape compiles first (docs/speed.md says when that pays back). Inputs go to the model's device.
    Other keyword options go to the task or the backend, whichever declares them.
    """

    def __init__(
        self,
        model: PreTrainedModel | str,
        tokenizer: Any = None,
        task: str = "auto",
        backend: str | None = None,
        *,
        batch_size: Annotated[int, Ge(1)] = 8,
        device: str | torch.device | None = None,
        dtype: str | torch.dtype | None = None,
        revision: str | None = None,
        compile: bool = False,
        **options: Any,
    ) -> None:
        if isinstance(model, str):
            config = load_config(model, revision)
            task_entry = choose_task(task, architecture_of(config), config)
            tokenizer = tokenizer if tokenizer is not None else load_processor(model, revision)
            model = load_model(model, task_entry, revision)
        else:
            if revision is not None:
                raise InputError("revision= picks a version of a model given by name; this model is already loaded")
            task_entry = choose_task(task, architecture_of(model), model.config)
        if device is not None or dtype is not None:
            model = model.to(
                device=None if device is None else resolve_device(device), dtype=None if dtype is None else resolve_dtype(dtype)
            )
        if tokenizer is None:
            raise InputError("a loaded model needs its tokenizer or processor: Explainer(model, tokenizer)")
        check_arguments(Explainer, "the Explainer", {"batch_size": batch_size, "compile": compile})
        if compile:
            model = compile_in_place(model)
        backend = backend or task_entry.obj.default_backend
        backend_entry = get_registry().get("backend", backend)
        task_options = {k: v for k, v in options.items() if k in options_of(task_entry.obj)}
        backend_options = {k: v for k, v in options.items() if k not in task_options}
        for key in backend_options:
            if key not in options_of(backend_entry.obj):
                valid = {*options_of(task_entry.obj), *options_of(backend_entry.obj), "batch_size"}
                raise UnknownNameError("option", key, valid, f"for task {task_entry.name!r} and backend {backend!r}")
        self.task = create("task", task_entry.name, model, tokenizer, **task_options)
        self.backend: Backend = create("backend", backend, **backend_options)
        self.batch_size = batch_size

    @property
    def model(self) -> PreTrainedModel:
        """The model being explained."""
        return self.task.model

    def __call__(self, inputs: Any, target: Target = None) -> Explanation | list[Explanation]:
        """Explain one input, or a list of inputs batched by similar length; ``target`` defaults to the prediction.
        After each batch the memory it freed is given back to the system (attrix.api.heap)."""
        single = not isinstance(inputs, list)
        items = [inputs] if single else inputs
        checked = []
        for number, item in enumerate(items):
            try:
                checked.append(self.task.check(item))
            except InputError as error:
                raise type(error)(str(error) if single else f"input {number}: {error}") from None
        results: list[Explanation | None] = [None] * len(checked)
        for batch in length_batches([self.task.length(item) for item in checked], self.batch_size):
            for number, explanation in zip(batch, self._explain([checked[n] for n in batch], target)):
                results[number] = explanation
            release_free_heap()
        return results[0] if single else results

    def _explain(self, items: list[Any], target: Target) -> list[Explanation]:
        return self.explain_batch(items, target)[2]

    def explain_batch(self, items: list[Any], target: Target) -> tuple[Prepared, Attributions, list[Explanation]]:
        """A batch of checked inputs explained, with the prepared problem and the raw attributions it came from."""
        prepared = self.task.prepare(items, target)
        prepared.problem = prepared.problem.to(self.model.device)
        with frozen_parameters(self.model):
            attributions = self.backend.attribute(prepared.problem)
        explanations = self.task.explanations(prepared, attributions)
        stamp(explanations, self.task, self.backend, attributions, prepared.rows)
        return prepared, attributions, explanations
