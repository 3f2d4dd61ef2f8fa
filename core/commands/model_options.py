"""The flags that choose a model, task, backend and target, shared by the commands that explain."""

from __future__ import annotations

import argparse


def add_model_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", help="model directory or Hub id (default: the embedded sentiment model)")
    parser.add_argument("--task", default="auto", help="task name (default: auto, from the model's head)")
    parser.add_argument("--backend", help="attribution backend (default: the task's, layer_ig for text)")
    parser.add_argument("--target", help="label name or index to explain (default: the predicted label)")
    parser.add_argument("--n-steps", type=int, help="integration steps, for the backends that take them")
    parser.add_argument("--top", type=int, default=5, help="how many words to print (default: 5)")
    parser.add_argument(
        "--long-inputs",
        choices=("truncate", "windows"),
        help="a text longer than the model accepts: truncate it (default) or explain all of it in overlapping windows",
    )
    parser.add_argument("--stride", type=int, help="with --long-inputs windows: tokens each window shares with the next")


def explainer_of(arguments: argparse.Namespace):
    """The ``Explainer`` the flags describe; the embedded default model when no ``--model``."""
    from attrix.api.explainer import Explainer

    model = arguments.model
    if model is None:
        from attrix.api.default_model import default_model_dir

        model = str(default_model_dir())
    given = {"n_steps": arguments.n_steps, "long_inputs": arguments.long_inputs, "stride": arguments.stride}
    options = {name: value for name, value in given.items() if value is not None}
    return Explainer(model, task=arguments.task, backend=arguments.backend, **options)


def target_of(arguments: argparse.Namespace) -> str | int | None:
    """``--target`` as a label index when it is a number, else as a label name."""
    target = arguments.target
    return int(target) if target is not None and target.isdigit() else target
