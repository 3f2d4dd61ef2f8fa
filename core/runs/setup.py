"""What a run builds from its experiment: where the model is, its task class, the seeded ``Explainer`` and the target."""

from __future__ import annotations

import random

import numpy as np
import torch

from attrix.api.explainer import Explainer
from attrix.api.loading import architecture_of, choose_task, load_config
from attrix.contracts.targets import Target
from attrix.experiments.schema import DEFAULT_LM, DEFAULT_MODEL, Experiment, ModelSpec
from attrix.host.registry import create
from attrix.runs.rows import BatchExplainer


def model_location(model: ModelSpec) -> str:
    """The model's directory or Hub id; ``default`` is the embedded sentiment model's directory, ``default-lm`` the
    embedded language model's (each built on first use)."""
    if model.path == DEFAULT_LM:
        from attrix.api.default_lm import default_lm_dir

        return str(default_lm_dir())
    if model.path != DEFAULT_MODEL:
        return model.path
    from attrix.api.default_model import default_model_dir

    return str(default_model_dir())


def task_class(experiment: Experiment, model: str) -> type:
    """The task that will explain the model, chosen from its config alone (no weights loaded)."""
    config = load_config(model, experiment.model.revision)
    return choose_task(experiment.task.name or "auto", architecture_of(config), config).obj


def seed_everything(seed: int) -> None:
    """Seed Python's, NumPy's and torch's generators."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


PLACEMENT_DEFAULTS = {"device": "cpu", "dtype": "float32", "revision": None, "compile": False}


def explainer_for(experiment: Experiment, model: str, device: str | None = None) -> Explainer:
    """The seeded ``Explainer`` of the experiment; ``device``, ``dtype``, ``revision`` and ``compile`` are passed only
    when not the defaults."""
    seed_everything(experiment.seed)
    spec = experiment.model
    placement = {"device": device or spec.device, "dtype": spec.dtype, "revision": spec.revision, "compile": spec.compile}
    options = {
        **experiment.task.options,
        **experiment.backend.options,
        **{key: value for key, value in placement.items() if value != PLACEMENT_DEFAULTS[key]},
    }
    return Explainer(
        model, task=experiment.task.name or "auto", backend=experiment.backend.name, batch_size=experiment.batch_size, **options
    )


def target_of(targets: str | int | list[str | int]) -> Target:
    """The ``target`` the Explainer takes for the config's ``targets``: None for ``predicted``."""
    if targets == "predicted":
        return None
    return list(targets) if isinstance(targets, (list, tuple)) else targets


def batch_explainer(experiment: Experiment, model: str, device: str | None = None) -> BatchExplainer:
    """What explains the experiment's batches: its seeded ``Explainer`` toward its targets, with its metrics if any."""
    metrics = tuple(create("metric", metric.name, **metric.options) for metric in experiment.metrics)
    return BatchExplainer(explainer_for(experiment, model, device), target_of(experiment.targets), metrics, experiment.seed)
