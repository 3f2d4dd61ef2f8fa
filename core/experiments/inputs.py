"""Checking a config's ``inputs``: inline items or a data file, its format and the columns it names."""

from __future__ import annotations

import csv
import dataclasses
import importlib.util
import json
from collections.abc import Mapping
from pathlib import Path

from attrix.contracts.inputs import InputField
from attrix.experiments.located_yaml import ConfigError, Located
from attrix.experiments.schema import FORMATS, InputsSpec
from attrix.host.registry import Entry

PATH = ("inputs", "path")


def check_inputs(inputs: InputsSpec, located: Located, directory: Path, task: Entry) -> InputsSpec:
    """``inputs`` with its file path made absolute (relative to ``directory``) and its format filled in.

    In inline items, the values of inputs the task declares as paths (``InputField.relative_path``, images) that
    name a file under ``directory`` become absolute paths too.
    """
    if inputs.limit is not None and inputs.limit < 0:
        raise located.bad_value(("inputs", "limit"), inputs.limit, "an integer >= 0, or null for every row")
    fields: tuple[InputField, ...] = task.obj.inputs
    names = task.obj.input_names()
    for name in inputs.fields:
        if name not in names:
            raise located.unknown_key(("inputs", "fields", name), names, f": not an input of task {task.name!r}")
    if (inputs.items is None) == (inputs.path is None):
        problem = "gives both items and path" if inputs.path is not None else "gives no inputs"
        raise located.error(("inputs",), f"{problem}; allowed: items (a list of inputs) or path (a JSONL, CSV or Parquet file)")
    if inputs.items is not None:
        if not inputs.items:
            raise located.bad_value(("inputs", "items"), [], "a list of at least one input")
        paths = {inputs.fields.get(field.name, field.name) for field in fields if field.relative_path}
        bare_path = len(fields) == 1 and bool(paths)
        items = tuple(_with_paths(item, paths, bare_path, directory) for item in inputs.items)
        return dataclasses.replace(inputs, items=items)
    path = directory / Path(inputs.path).expanduser()
    if not path.is_file():
        raise located.bad_value(
            PATH, inputs.path, f"the path of a data file (relative paths are read from {directory})", "names no file"
        )
    file_format = inputs.format or FORMATS.get(path.suffix.lower())
    if file_format is None:
        raise located.bad_value(
            PATH, inputs.path, f"a file ending in {', '.join(FORMATS)}, or inputs.format set", "has no known format"
        )
    columns = _columns(path, file_format, located)
    named = {("inputs", "fields", name): column for name, column in inputs.fields.items()}
    ids = [(("inputs", "id_field"), inputs.id_field), (("inputs", "rationale_field"), inputs.rationale_field)]
    for key, column in [*named.items(), *ids]:
        if column is not None and column not in columns:
            raise located.bad_value(key, column, f"a column of {path.name}: {', '.join(columns)}", "is not a column")
    missing = [field.name for field in fields if field.required and inputs.fields.get(field.name, field.name) not in columns]
    if missing:
        raise located.error(
            ("inputs", "fields"),
            f"{path.name} has no column {' or '.join(map(repr, missing))} for task {task.name!r}; allowed: "
            f"inputs.fields mapping {', '.join(names)} to columns of {path.name}: {', '.join(columns)}",
        )
    return dataclasses.replace(inputs, path=str(path.resolve()), format=file_format)


def _with_paths(item: object, paths: set[str], bare_path: bool, directory: Path) -> object:
    """An inline item whose path values (under the keys ``paths``, or itself when ``bare_path``) are made absolute
    where they name a file under ``directory``."""
    if isinstance(item, Mapping):
        return {key: _as_path(value, directory) if key in paths else value for key, value in item.items()}
    return _as_path(item, directory) if bare_path else item


def _as_path(item: object, directory: Path) -> object:
    """A relative path naming a file under ``directory`` made absolute; anything else as it is."""
    if isinstance(item, str) and not Path(item).is_absolute() and (directory / item).is_file():
        return str((directory / item).resolve())
    return item


def _columns(path: Path, file_format: str, located: Located) -> list[str]:
    """The column names of a data file: a CSV's header, the keys of a JSONL file's first row, a Parquet schema."""
    if file_format == "parquet" and importlib.util.find_spec("pyarrow") is None:
        raise located.bad_value(
            ("inputs", "format"), file_format, "jsonl, csv (Parquet needs pyarrow: pip install attrix[parquet])"
        )
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
        raise ConfigError(
            f"inputs.path ({located.where(PATH)}): cannot read {path} as {file_format}: {error}",
            "inputs.path",
            located.where(PATH),
        ) from None
    if not isinstance(row, dict):
        raise located.bad_value(
            PATH, str(path), 'a JSONL file whose rows are objects ({"text": ...})', "has a first row that is not an object"
        )
    return list(row)
