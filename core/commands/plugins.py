"""``attrix plugins``: every registered task, backend, renderer, metric and step score."""

from __future__ import annotations

import argparse
import json


def add_command(commands) -> None:
    command = commands.add_parser("plugins", help="list every registered task, backend, renderer, metric and step score")
    command.add_argument("--json", action="store_true", help="print JSON instead of a table")
    command.set_defaults(run=run)


def run(arguments: argparse.Namespace) -> int:
    from attrix.host.registry import get_registry

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
