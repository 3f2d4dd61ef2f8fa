"""``attrix explain``: one text, its prediction and the words that pushed it, printed by the terminal renderer."""

from __future__ import annotations

import argparse

from attrix.commands.model_options import add_model_options, explainer_of, target_of
from attrix.contracts.renderer import Renderer


def add_command(commands) -> None:
    command = commands.add_parser("explain", help="explain one text and print the prediction and top words")
    command.add_argument("text", help="the text to explain")
    add_model_options(command)
    add_terminal_options(command)
    command.add_argument("--json", action="store_true", help="print the explanation as JSON")
    command.set_defaults(run=run)


def add_terminal_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--color", choices=("auto", "always", "never"), default="auto",
        help="colour the words: auto (default) colours a terminal unless NO_COLOR is set",
    )
    parser.add_argument("--view", choices=("words", "tokens"), default="words", help="print words (default) or tokens")


def terminal_of(arguments: argparse.Namespace) -> Renderer:
    """The terminal renderer the flags describe."""
    from attrix.host.registry import create

    return create("renderer", "terminal", color=arguments.color, top_k=arguments.top, view=arguments.view)


def run(arguments: argparse.Namespace) -> int:
    explanation = explainer_of(arguments)(arguments.text, target=target_of(arguments))
    if arguments.json:
        print(explanation.to_json(indent=2))
    else:
        print(terminal_of(arguments).render([explanation]), end="")
    return 0
