"""``attrix compare``: a config's inputs explained by several backends, measured by faithfulness metrics, tabulated."""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from attrix.commands.config_arguments import add_config_arguments
from attrix.errors import AttrixError, InputError

if TYPE_CHECKING:
    from attrix.api.comparison import Comparison
    from attrix.api.explainer import Explainer
    from attrix.contracts.metric import Metric
    from attrix.experiments.schema import Experiment
    from attrix.runs.dataset import Row

DEFAULT_OUT = "attrix-compare"
DEFAULT_METRICS = "comprehensiveness,sufficiency,deletion_auc,insertion_auc"


def add_command(commands) -> None:
    command = commands.add_parser(
        "compare",
        help="compare backends on a config's inputs with faithfulness metrics",
        description=(
            "Explain CONFIG's inputs with its model, task and targets under each of --backends, measure --metrics "
            "(see docs/metrics.md) and print backend × metric means beside a random ranking's, with the seconds per "
            "input. Writes compare.json and compare.html into --out. Exits with status 1 when a backend fails or attrix "
            "refuses the config, 2 for bad arguments."
        ),
    )
    add_config_arguments(command)
    command.add_argument(
        "--backends",
        required=True,
        type=names_of("backend"),
        metavar="NAME,NAME,...",
        help="the backends to compare, comma-separated: e.g. layer_ig,ig,grad_x_input; the config's own backend keeps its "
        "options, the others run with their defaults",
    )
    command.add_argument(
        "--metrics",
        type=names_of("metric"),
        metavar="NAME,NAME,...",
        help=f"the metrics to measure, comma-separated (default: the config's metrics: key, with its options, else "
        f"{DEFAULT_METRICS})",
    )
    command.add_argument("--out", type=Path, default=Path(DEFAULT_OUT), help=f"where to write the files (default: {DEFAULT_OUT})")
    command.add_argument("--limit", type=positive, help="compare on the first N inputs only")
    command.set_defaults(run=run)


def names_of(kind: str) -> Callable[[str], list[str]]:
    """The argument type of a comma-separated list of registered ``kind`` names: an unknown name lists the valid ones."""

    def names(value: str) -> list[str]:
        from attrix.host.registry import get_registry

        given = [name.strip() for name in value.split(",") if name.strip()]
        if not given:
            raise argparse.ArgumentTypeError(f"name at least one {kind}")
        repeated = sorted({name for name in given if given.count(name) > 1})
        if repeated:
            raise argparse.ArgumentTypeError(f"{kind} {repeated[0]!r} is named twice")
        for name in given:
            try:
                get_registry().get(kind, name)
            except AttrixError as error:
                raise argparse.ArgumentTypeError(str(error)) from None
        return given

    return names


def positive(value: str) -> int:
    """A command-line count (``--limit``): a whole number of at least 1."""
    if not value.isdigit() or int(value) < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, got {value!r}")
    return int(value)


def configured_metrics(experiment: Experiment) -> list[str | Metric]:
    """The config's ``metrics:`` with their options, or the default metrics when it has none."""
    from attrix.host.registry import create

    if not experiment.metrics:
        return DEFAULT_METRICS.split(",")
    return [create("metric", metric.name, **metric.options) for metric in experiment.metrics]


def run(arguments: argparse.Namespace) -> int:
    from attrix.api.comparison import compare
    from attrix.experiments.config import load_experiment
    from attrix.runs.dataset import Dataset
    from attrix.runs.setup import explainer_for, model_location, target_of, task_class

    experiment = load_experiment(arguments.config, arguments.overrides)
    model = model_location(experiment.model)
    rows = list(itertools.islice(Dataset(experiment.inputs, task_class(experiment, model).inputs), arguments.limit))
    explainer = explainer_for(experiment, model)
    kept = checked_rows(explainer, rows)
    items = [row.input for row in kept]
    rationales = [row.rationale for row in kept] if experiment.inputs.rationale_field else None
    backends = [explainer.backend if name == explainer.backend.name else name for name in arguments.backends]
    metrics = arguments.metrics or configured_metrics(experiment)
    target = target_of(experiment.targets)
    comparison = compare(items, explainer, backends, metrics, target=target, seed=experiment.seed, rationales=rationales)
    comparison.settings.update(config=str(arguments.config), model=model, skipped=len(rows) - len(items))
    print(comparison.to_markdown())
    for path in write(comparison, arguments.out):
        print(f"wrote {path}")
    for result in comparison.failed:
        print(f"error: backend {result.backend!r} failed: {result.error}", file=sys.stderr)
    return 1 if comparison.failed else 0


def checked_rows(explainer: Explainer, rows: list[Row]) -> list[Row]:
    """The rows whose input the task accepts; each one it refuses is named on stderr and left out."""
    kept = []
    for row in rows:
        try:
            if row.problem is not None:
                raise InputError(row.problem)
            explainer.task.check(row.input)
            kept.append(row)
        except AttrixError as error:
            print(f"note: input {row.id!r} left out: {error}", file=sys.stderr)
    if not kept:
        raise InputError("no input of the config can be explained: nothing to compare")
    return kept


def write(comparison: Comparison, directory: Path) -> list[Path]:
    """``compare.json`` and ``compare.html`` in ``directory`` (created if missing)."""
    from attrix.api.comparison_page import comparison_page

    try:
        directory.mkdir(parents=True, exist_ok=True)
        data, page = directory / "compare.json", directory / "compare.html"
        data.write_text(json.dumps(comparison.to_dict(), indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8")
        page.write_text(comparison_page(comparison), encoding="utf-8")
    except OSError as error:
        raise InputError(f"cannot write into {str(directory)!r}: {error.strerror or error}; choose another --out") from None
    return [data, page]
