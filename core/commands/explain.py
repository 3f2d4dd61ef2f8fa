"""``attrix explain``: one input, its prediction and the words that pushed it, printed by the terminal renderer."""

from __future__ import annotations

import argparse
from typing import Any

from attrix.commands.model_options import add_model_options, explainer_of, target_of
from attrix.contracts.inputs import describe_fields
from attrix.contracts.renderer import Renderer
from attrix.contracts.task import Task
from attrix.errors import InputError, UnknownNameError


def add_command(commands) -> None:
    command = commands.add_parser("explain", help="explain one input and print the prediction and top words")
    command.add_argument(
        "text", help="the text to explain: the task's first input (the question for --task qa, an image file for --task image)"
    )
    command.add_argument(
        "--input",
        action="append",
        default=[],
        dest="inputs",
        metavar="NAME=VALUE",
        help="another input the task declares, e.g. --input context='Anna lives in Berlin.' for --task qa; repeat for each",
    )
    add_model_options(command)
    add_terminal_options(command)
    command.add_argument("--json", action="store_true", help="print the explanation as JSON")
    command.set_defaults(run=run)


def add_terminal_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--color",
        choices=("auto", "always", "never"),
        default="auto",
        help="colour the words: auto (default) colours a terminal unless NO_COLOR is set",
    )
    parser.add_argument("--view", choices=("words", "tokens"), default="words", help="print words (default) or tokens")


def terminal_of(arguments: argparse.Namespace) -> Renderer:
    """The terminal renderer the flags describe."""
    from attrix.host.registry import create

    return create("renderer", "terminal", color=arguments.color, top_k=arguments.top, view=arguments.view)


def input_of(task: type[Task], first: str, pairs: list[str]) -> Any:
    """The task's input: ``first`` is the value of its first declared input, ``pairs`` (``NAME=VALUE``) give the others."""
    names = task.input_names()
    inputs = f"the inputs of task {task.name!r} are {describe_fields(task.inputs)}"
    values = {names[0]: first}
    for pair in pairs:
        name, equals, value = pair.partition("=")
        if not equals or not name:
            raise InputError(f"--input takes NAME=VALUE, got {pair!r}; {inputs}")
        if name not in names:
            raise UnknownNameError("input", name, names, f"in --input for task {task.name!r}")
        if name in values:
            given = "the positional argument already gives it" if name == names[0] else "it is given twice"
            raise InputError(f"--input {name}=...: {given}; give each input once; {inputs}")
        values[name] = value
    missing = [field.name for field in task.inputs if field.required and field.name not in values]
    if missing:
        raise InputError(f"task {task.name!r} needs --input {missing[0]}=VALUE; {inputs}")
    return task.input_item(values)


def run(arguments: argparse.Namespace) -> int:
    explainer = explainer_of(arguments)
    item = input_of(type(explainer.task), arguments.text, arguments.inputs)
    explanation = explainer(item, target=target_of(arguments))
    if arguments.json:
        print(explanation.to_json(indent=2))
    else:
        print(terminal_of(arguments).render([explanation]), end="")
    return 0
