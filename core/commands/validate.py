"""``attrix validate``: check an experiment config without running it, and print it resolved."""

from __future__ import annotations

import argparse
import sys
import warnings

from attrix.commands.config_arguments import add_config_arguments


def add_command(commands) -> None:
    command = commands.add_parser(
        "validate",
        help="check an experiment config without running it",
        description=(
            "Check CONFIG (and its --set overrides) without loading weights or downloading anything, and print the "
            "resolved config as YAML: the task and backend named, every option where it belongs, input paths made "
            "absolute. An invalid config exits with status 1 and names the key, the bad value, what is allowed and "
            "the line."
        ),
    )
    add_config_arguments(command)
    command.set_defaults(run=run)


def run(arguments: argparse.Namespace) -> int:
    import yaml

    from attrix.experiments.config import load_experiment

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        experiment = load_experiment(arguments.config, arguments.overrides)
    for warning in caught:
        print(f"note: {warning.message}", file=sys.stderr)
    print(yaml.safe_dump(experiment.to_dict(), sort_keys=False, allow_unicode=True), end="")
    print(f"{arguments.config}: valid", file=sys.stderr)
    return 0
