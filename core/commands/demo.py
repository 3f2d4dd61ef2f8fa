"""``attrix demo``: a few sentences explained by the embedded default model, written as JSON and HTML."""

from __future__ import annotations

import argparse
from pathlib import Path

from attrix.commands.explain import summary
from attrix.commands.model_options import add_model_options, explainer_of, target_of

DEMO_TEXTS = (
    "I love this movie, it is wonderful",
    "The food was awful",
    "The service was slow and the staff were rude",
    "What a delightful, charming little book",
)


def add_command(commands) -> None:
    command = commands.add_parser("demo", help="explain a few sentences with the embedded default model")
    command.add_argument("--out", type=Path, default=Path("attrix-demo"), help="directory for the results (default: attrix-demo)")
    add_model_options(command)
    command.set_defaults(run=run)


def run(arguments: argparse.Namespace) -> int:
    from attrix.renderers.html import HtmlRenderer
    from attrix.renderers.json import JsonRenderer

    explanations = explainer_of(arguments)(list(DEMO_TEXTS), target=target_of(arguments))
    for explanation in explanations:
        print(summary(explanation, arguments.top), end="\n\n")
    for renderer in (JsonRenderer(), HtmlRenderer(title="attrix demo")):
        path = renderer.write(explanations, arguments.out / f"explanations{renderer.suffix}")
        print(f"wrote {len(explanations)} explanations to {path}")
    return 0
