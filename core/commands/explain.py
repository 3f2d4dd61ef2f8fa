"""``attrix explain``: one text, its prediction and the words that pushed it."""

from __future__ import annotations

import argparse

from attrix.commands.model_options import add_model_options, explainer_of, target_of
from attrix.explanation import Explanation


def add_command(commands) -> None:
    command = commands.add_parser("explain", help="explain one text and print the prediction and top words")
    command.add_argument("text", help="the text to explain")
    add_model_options(command)
    command.add_argument("--json", action="store_true", help="print the explanation as JSON")
    command.set_defaults(run=run)


def run(arguments: argparse.Namespace) -> int:
    explanation = explainer_of(arguments)(arguments.text, target=target_of(arguments))
    print(explanation.to_json(indent=2) if arguments.json else summary(explanation, arguments.top))
    return 0


def summary(explanation: Explanation, top: int) -> str:
    """The prediction and, per explained target, the words that push hardest toward it."""
    text = next(iter(explanation.inputs.values()))
    lines = [f"{text!r}", f"  predicted {explanation.predicted_label} ({explanation.probabilities[explanation.predicted_label]:.3f})"]
    for target in explanation.targets:
        words = ", ".join(f"{word} {score:+.3f}" for word, score in explanation.top_words(top, target.label))
        lines.append(f"  toward {target.label}: {words}   (delta {target.delta:+.1e})")
    return "\n".join(lines)
