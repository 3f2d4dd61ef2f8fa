"""The ``attrix`` command line: ``plugins``, ``explain`` and ``demo``."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Sequence

from attrix.errors import AttrixError
from attrix.explanation import Explanation

DEMO_TEXTS = (
    "I love this movie, it is wonderful",
    "The food was awful",
    "The service was slow and the staff were rude",
    "What a delightful, charming little book",
)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; the exit status: 0 done, 1 attrix refused the input, 2 bad usage."""
    arguments = _parser().parse_args(argv)
    try:
        return arguments.run(arguments)
    except AttrixError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="attrix", description="Explain transformers models with feature attributions.")
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    plugins = commands.add_parser("plugins", help="list every registered task, backend and renderer")
    plugins.add_argument("--json", action="store_true", help="print JSON instead of a table")
    plugins.set_defaults(run=_plugins)

    explain = commands.add_parser("explain", help="explain one text and print the prediction and top words")
    explain.add_argument("text", help="the text to explain")
    _add_model_options(explain)
    explain.add_argument("--json", action="store_true", help="print the explanation as JSON")
    explain.set_defaults(run=_explain)

    demo = commands.add_parser("demo", help="explain a few sentences with the embedded default model")
    demo.add_argument("--out", type=Path, default=Path("attrix-demo"), help="directory for the results (default: attrix-demo)")
    _add_model_options(demo)
    demo.set_defaults(run=_demo)
    return parser


def _add_model_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", help="model directory or Hub id (default: the embedded sentiment model)")
    parser.add_argument("--task", default="auto", help="task name (default: auto, from the model's head)")
    parser.add_argument("--backend", help="attribution backend (default: the task's, layer_ig for text)")
    parser.add_argument("--target", help="label name or index to explain (default: the predicted label)")
    parser.add_argument("--n-steps", type=int, help="integration steps, for the backends that take them")
    parser.add_argument("--top", type=int, default=5, help="how many words to print (default: 5)")


def _plugins(arguments: argparse.Namespace) -> int:
    from attrix.registry import get_registry

    entries = [entry.to_dict() for entry in get_registry().all()]
    if arguments.json:
        print(json.dumps(entries, indent=2))
        return 0
    columns = ("kind", "name", "plugin", "distribution", "version")
    rows = [columns] + [tuple(str(entry[column] or "-") for column in columns) for entry in entries]
    widths = [max(len(row[i]) for row in rows) for i in range(len(columns))]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip())
    return 0


def _explainer(arguments: argparse.Namespace):
    from attrix.explainer import Explainer

    model = arguments.model
    if model is None:
        from attrix.default_model import default_model_dir

        model = str(default_model_dir())
    options = {} if arguments.n_steps is None else {"n_steps": arguments.n_steps}
    return Explainer(model, task=arguments.task, backend=arguments.backend, **options)


def _target(arguments: argparse.Namespace) -> str | int | None:
    target = arguments.target
    return int(target) if target is not None and target.isdigit() else target


def _explain(arguments: argparse.Namespace) -> int:
    explanation = _explainer(arguments)(arguments.text, target=_target(arguments))
    print(explanation.to_json(indent=2) if arguments.json else summary(explanation, arguments.top))
    return 0


def _demo(arguments: argparse.Namespace) -> int:
    from attrix.renderers.html import HtmlRenderer
    from attrix.renderers.json import JsonRenderer

    explanations = _explainer(arguments)(list(DEMO_TEXTS), target=_target(arguments))
    for explanation in explanations:
        print(summary(explanation, arguments.top), end="\n\n")
    for renderer in (JsonRenderer(), HtmlRenderer(title="attrix demo")):
        path = renderer.write(explanations, arguments.out / f"explanations{renderer.suffix}")
        print(f"wrote {len(explanations)} explanations to {path}")
    return 0


def summary(explanation: Explanation, top: int) -> str:
    """The prediction and, per explained target, the words that push hardest toward it."""
    text = next(iter(explanation.inputs.values()))
    lines = [f"{text!r}", f"  predicted {explanation.predicted_label} ({explanation.probabilities[explanation.predicted_label]:.3f})"]
    for target in explanation.targets:
        words = ", ".join(f"{word} {score:+.3f}" for word, score in explanation.top_words(top, target.label))
        lines.append(f"  toward {target.label}: {words}   (delta {target.delta:+.1e})")
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
