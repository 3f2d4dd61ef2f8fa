"""Checking a config's ``inputs``: inline items or a data file, its format and the columns it names."""

from __future__ import annotations

import csv
import dataclasses
import importlib.util
import json
from pathlib import Path

from attrix.experiments.located_yaml import ConfigError, Located
from attrix.experiments.schema import InputsSpec
from attrix.host.registry import Entry
from attrix.runs.dataset import FORMATS, input_names
from attrix.text.task import TextTask

PATH = ("inputs", "path")


def check_inputs(inputs: InputsSpec, located: Located, directory: Path, task: Entry) -> InputsSpec:
    """``inputs`` with its file path made absolute (relative to ``directory``) and its format filled in.

    For a task whose inputs are files (not a text task), inline strings naming a file under ``directory`` become
    absolute paths too.
    """
    if inputs.limit is not None and inputs.limit < 0:
        raise located.bad_value(("inputs", "limit"), inputs.limit, "an integer >= 0, or null for every row")
    names = input_names(task.obj)
    for name in inputs.fields:
        if name not in names:
            raise located.unknown_key(("inputs", "fields", name), names, f": not an input of task {task.name!r}")
    if (inputs.items is None) == (inputs.path is None):
        problem = "gives both items and path" if inputs.path is not None else "gives no inputs"
        raise located.error(("inputs",), f"{problem}; allowed: items (a list of inputs) or path (a JSONL, CSV or Parquet file)")
    if inputs.items is not None:
        if not inputs.items:
            raise located.bad_value(("inputs", "items"), [], "a list of at least one input")
        paths_as_items = not issubclass(task.obj, TextTask)
        items = tuple(_as_path(item, directory) if paths_as_items else item for item in inputs.items)
        return dataclasses.replace(inputs, items=items)
    path = directory / Path(inputs.path).expanduser()
    if not path.is_file():
        raise located.bad_value(PATH, inputs.path, f"the path of a data file (relative paths are read from {directory})", "names no file")
    file_format = inputs.format or FORMATS.get(path.suffix.lower())
    if file_format is None:
        raise located.bad_value(PATH, inputs.path, f"a file ending in {', '.join(FORMATS)}, or inputs.format set", "has no known format")
    columns = _columns(path, file_format, located)
    named = {("inputs", "fields", name): column for name, column in inputs.fields.items()}
    for key, column in [*named.items(), (("inputs", "id_field"), inputs.id_field)]:
        if column is not None and column not in columns:
            raise located.bad_value(key, column, f"a column of {path.name}: {', '.join(columns)}", "is not a column")
    if not any(inputs.fields.get(name, name) in columns for name in names):
        raise located.error(
            ("inputs", "fields"),
            f"{path.name} has no column {' or '.join(map(repr, names))} for task {task.name!r}; allowed: "
            f"inputs.fields mapping {', '.join(names)} to columns of {path.name}: {', '.join(columns)}",
        )
    return dataclasses.replace(inputs, path=str(path.resolve()), format=file_format)


def _as_path(item: object, directory: Path) -> object:
    """A relative path naming a file under ``directory`` made absolute; anything else as it is."""
    if isinstance(item, str) and not Path(item).is_absolute() and (directory / item).is_file():
        return str((directory / item).resolve())
    return item


def _columns(path: Path, file_format: str, located: Located) -> list[str]:
    """The column names of a data file: a CSV's header, the keys of a JSONL file's first row, a Parquet schema."""
    if file_format == "parquet" and importlib.util.find_spec("pyarrow") is None:
        raise located.bad_value(("inputs", "format"), file_format, "jsonl, csv (Parquet needs pyarrow: pip install attrix[parquet])")
    try:
        if file_format == "parquet":
            import pyarrow.parquet

            return list(pyarrow.parquet.read_schema(path).names)
        with path.open(encoding="utf-8", newline="") as handle:
            if file_format == "csv":
                return next(csv.reader(handle), [])
            first = next((line for line in handle if line.strip()), "{}")
            row = json.loads(first)
    except (OSError, ValueError, UnicodeDecodeError) as error:
        raise ConfigError(f"inputs.path ({located.where(PATH)}): cannot read {path} as {file_format}: {error}", "inputs.path", located.where(PATH)) from None
    if not isinstance(row, dict):
        raise located.bad_value(PATH, str(path), "a JSONL file whose rows are objects ({\"text\": ...})", "has a first row that is not an object")
    return list(row)
