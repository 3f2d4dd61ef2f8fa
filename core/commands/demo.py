"""``attrix demo``: a few sentences explained by the embedded default model, and a prompt's continuation by the
embedded language model, written as JSON, HTML and PNG heatmaps."""

from __future__ import annotations

import argparse
from pathlib import Path

from attrix.commands.explain import add_terminal_options, terminal_of
from attrix.commands.model_options import add_model_options, explainer_of, target_of
from attrix.experiments.schema import Component

DEMO_TEXTS = (
    "I love this movie, it is wonderful",
    "The food was awful",
    "The service was slow and the staff were rude",
    "What a delightful, charming little book",
)
DEMO_PROMPT = "The capital of France is"
"""What the embedded language model continues (greedily, two tokens: " Paris.") when no ``--model`` is given."""
REPORTS = (Component("json"), Component("html", {"title": "attrix demo"}), Component("png"))


def add_command(commands) -> None:
    command = commands.add_parser(
        "demo", help="explain a few sentences with the embedded default model, and a prompt's continuation with the embedded LM"
    )
    command.add_argument("--out", type=Path, default=Path("attrix-demo"), help="directory for the results (default: attrix-demo)")
    add_model_options(command)
    add_terminal_options(command)
    command.set_defaults(run=run)


def run(arguments: argparse.Namespace) -> int:
    from attrix.runs.reports import write_reports

    explanations = explainer_of(arguments)(list(DEMO_TEXTS), target=target_of(arguments))
    if arguments.model is None and arguments.task == "auto":
        explanations.append(generation_example(arguments))
    print(terminal_of(arguments).render(explanations))
    for path in write_reports(explanations, REPORTS, arguments.out):
        print(f"wrote {len(explanations)} explanations to {path}")
    return 0


def generation_example(arguments: argparse.Namespace):
    """``DEMO_PROMPT`` continued and explained by the embedded language model."""
    language = argparse.Namespace(**{**vars(arguments), "task": "generation", "max_new_tokens": 2, "target": None})
    return explainer_of(language)(DEMO_PROMPT)
