"""How an explanation was made, stamped on it by the ``Explainer`` for every task: the task, the model, the backend
(``method``), the settings in force and the versions of the libraries that made it."""

from __future__ import annotations

import functools
import importlib.metadata
from collections.abc import Sequence

from attrix.contracts.backend import Attributions, Backend
from attrix.contracts.explanation import Explanation
from attrix.contracts.task import Task

PACKAGES = ("attrix", "torch", "transformers", "captum")


def versions() -> dict[str, str]:
    """The installed versions of attrix and the libraries its results depend on."""
    return dict(_versions())


@functools.cache
def _versions() -> dict[str, str]:
    return {package: importlib.metadata.version(package) for package in PACKAGES}


def stamp(
    explanations: Sequence[Explanation],
    task: Task,
    backend: Backend,
    attributions: Attributions,
    rows: Sequence[Sequence[int]] | None = None,
) -> None:
    """Record on each explanation of a batch how it was made: ``task``, ``model``, ``method``, ``settings`` (the
    backend's options, what it recorded for the explanation's problem ``rows``, the task's options, then any the
    task set itself), ``details["versions"]`` and whether each target converged (by the backend's tolerance). ``rows`` defaults to row n for the n-th explanation."""
    backend_settings, task_settings = backend.settings(), task.settings()
    tolerance = backend.completeness_tolerance()
    rows = [[row] for row in range(len(explanations))] if rows is None else rows
    if len(rows) != len(explanations):
        raise ValueError(f"task {task.name!r} made {len(explanations)} explanations for a batch of {len(rows)} inputs")
    for explanation, own in zip(explanations, rows):
        explanation.task, explanation.model, explanation.method = task.name, task.model_name, backend.name
        explanation.settings = {**backend_settings, **attributions.settings_of(own), **task_settings, **explanation.settings}
        explanation.details["versions"] = versions()
        if tolerance is not None:
            for target, converged in zip(explanation.targets, task.converged(explanation, tolerance)):
                target.converged = converged
