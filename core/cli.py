"""The ``attrix`` command line: one subcommand per module of ``attrix.commands``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from attrix.commands import COMMANDS
from attrix.errors import AttrixError


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; the exit status: 0 done, 1 attrix refused the input, 2 bad usage."""
    arguments = parser().parse_args(argv)
    try:
        return arguments.run(arguments)
    except AttrixError as error:
        status = getattr(error, "exit_status", 1)
        print(f"{error}" if status == 130 else f"error: {error}", file=sys.stderr)
        return status
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def parser() -> argparse.ArgumentParser:
    """The parser of every subcommand."""
    root = argparse.ArgumentParser(prog="attrix", description="Explain transformers models with feature attributions.")
    commands = root.add_subparsers(required=True, metavar="COMMAND")
    for command in COMMANDS:
        command.add_command(commands)
    return root


if __name__ == "__main__":
    raise SystemExit(main())
