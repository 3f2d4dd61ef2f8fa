"""``attrix run``: a YAML experiment run over its inputs into result rows, a manifest, a summary and reports."""

from __future__ import annotations

import argparse

from attrix.commands.config_arguments import add_config_arguments


def add_command(commands) -> None:
    command = commands.add_parser(
        "run",
        help="run the experiment a YAML config describes",
        description=(
            "Explain every input of CONFIG's dataset. Result rows stream into output.directory as batches finish, "
            "with manifest.json, summary.json and the configured reports at the end (see docs/scaling.md). "
            "Exits with status 1 when attrix refuses the config or the output directory."
        ),
    )
    add_config_arguments(command)
    command.add_argument("--resume", action="store_true", help="continue the run in output.directory, skipping the rows it holds")
    command.add_argument(
        "--no-progress", action="store_true", help="draw no progress bar (none is drawn when stderr is not a terminal)"
    )
    command.set_defaults(run=run)


def run(arguments: argparse.Namespace) -> int:
    from attrix.experiments.config import load_experiment
    from attrix.runs.runner import run_experiment

    experiment = load_experiment(arguments.config, arguments.overrides)
    result = run_experiment(experiment, resume=arguments.resume, show_progress=not arguments.no_progress)
    counts = result.counts
    print(
        f"{counts['rows']} rows in {result.directory}: {counts['explained']} explained, {counts['errors']} errors, {counts['warnings']} with warnings"
    )
    if result.unconverged_rows:
        print(
            f"{result.unconverged_rows} rows have targets whose attributions do not add up within the method's tolerance "
            "(converged: false in results.jsonl, counted in summary.json): raise n_steps, or use n_steps: auto"
        )
    for path in result.reports:
        print(f"wrote {path}")
    return 0
