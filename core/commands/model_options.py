"""The flags that choose a model, task, backend and target, shared by the commands that explain."""

from __future__ import annotations

import argparse


def add_model_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--model",
        help="model directory or Hub id (default: the embedded sentiment model; SmolLM2-135M-Instruct for --task generation)",
    )
    parser.add_argument("--task", default="auto", help="task name (default: auto, from the model's head)")
    parser.add_argument("--backend", help="attribution backend (default: the task's, layer_ig for text)")
    parser.add_argument("--target", help="label name or index to explain (default: the predicted label)")
    parser.add_argument(
        "--n-steps",
        type=steps_value,
        help="integration steps, a number or 'auto', for the backends that take them (default: the backend's; auto for --task generation)",
    )
    parser.add_argument("--max-new-tokens", type=int, help="generation tasks: how many tokens to generate at most (default: 20)")
    parser.add_argument("--top", type=int, default=5, help="how many words to print (default: 5)")
    parser.add_argument(
        "--long-inputs",
        choices=("truncate", "windows"),
        help="a text longer than the model accepts: truncate it (default) or explain all of it in overlapping windows",
    )
    parser.add_argument("--stride", type=int, help="with --long-inputs windows: tokens each window shares with the next")
    parser.add_argument(
        "--window-length", type=int, help="with --long-inputs windows: tokens per window (default: the most the model accepts)"
    )


GENERATION_PATH = {"n_steps": "auto", "max_steps": 1024}
"""The path generation explains along by default: language models need many points to add up (docs/generation.md)."""


def steps_value(value: str) -> int | str:
    """``--n-steps``: a whole number or ``auto``."""
    if value == "auto":
        return value
    try:
        return int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number or 'auto', got {value!r}") from None


def explainer_of(arguments: argparse.Namespace):
    """The ``Explainer`` the flags describe; the embedded default model when no ``--model`` (the embedded language
    model for ``--task generation``)."""
    from attrix.api.explainer import Explainer

    model, generation = arguments.model, arguments.task == "generation"
    if model is None and generation:
        from attrix.api.default_lm import default_lm_dir

        model = str(default_lm_dir())
    elif model is None:
        from attrix.api.default_model import default_model_dir

        model = str(default_model_dir())
    given = {
        "n_steps": arguments.n_steps,
        "long_inputs": arguments.long_inputs,
        "stride": arguments.stride,
        "window_length": arguments.window_length,
        "max_new_tokens": arguments.max_new_tokens,
    }
    options = {**(GENERATION_PATH if generation and arguments.n_steps is None else {})}
    options.update({name: value for name, value in given.items() if value is not None})
    return Explainer(model, task=arguments.task, backend=arguments.backend, **options)


def target_of(arguments: argparse.Namespace) -> str | int | None:
    """``--target`` as a label index (or step) when it is a number, else as a label name."""
    target = arguments.target
    return int(target) if target is not None and target.lstrip("-").isdigit() else target
