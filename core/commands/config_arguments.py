"""The arguments of the commands that read an experiment config: the file and its ``--set`` overrides."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_config_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("config", type=Path, help="the experiment's YAML config (see docs/configs.md)")
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY.PATH=VALUE",
        help="override a key of the config, the value read as YAML (repeatable): --set backend.options.n_steps=16",
    )
