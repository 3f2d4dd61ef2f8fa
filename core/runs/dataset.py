"""A run's inputs as rows with stable ids: inline, or streamed from JSONL, CSV or Parquet, mapped to a task's input form."""

from __future__ import annotations

import csv
import itertools
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from attrix.contracts.inputs import InputField, input_item
from attrix.errors import InputError, UnknownNameError
from attrix.experiments.schema import FORMATS, InputsSpec
from attrix.runs.extras import require

RowId = int | str


@dataclass(frozen=True)
class Row:
    """One input of a run: its id, the input in the task's form, why it cannot be explained if that is known already,
    and its human rationale if the run reads one (``inputs.rationale_field``)."""

    id: RowId
    input: Any
    problem: str | None = None
    rationale: list[Any] | None = None


class Dataset:
    """The rows ``spec`` describes, read lazily; ids are the ``id_field`` values as strings, or the row numbers from 0;
    rationales are read from the ``rationale_field`` column, where it is set.

    ``inputs`` are the task's declared ``Task.inputs`` (a bare name stands for a plain text field): a row gives the
    bare value of a single input, or a dict of several, each read from its column (``spec.fields`` maps names to columns).
    """

    def __init__(self, spec: InputsSpec, inputs: Sequence[InputField | str]) -> None:
        self.inputs = tuple(field if isinstance(field, InputField) else InputField(field) for field in inputs)
        names = [field.name for field in self.inputs]
        if (spec.items is None) == (spec.path is None):
            raise InputError(
                "inputs need either items (a list of inputs) or path (a JSONL, CSV or Parquet file), not both or neither"
            )
        for name in spec.fields:
            if name not in names:
                raise UnknownNameError("input name", name, names, "in inputs.fields (it maps the task's input names to columns)")
        if spec.limit is not None and (not isinstance(spec.limit, int) or spec.limit < 0):
            raise InputError(f"inputs.limit must be a non-negative integer, got {spec.limit!r}")
        self.spec = spec
        self.columns = {field.name: spec.fields.get(field.name, field.name) for field in self.inputs}
        self.path = None if spec.path is None else Path(spec.path)
        self.format = None if self.path is None else _format_of(self.path, spec.format)
        if self.path is not None and not self.path.is_file():
            raise InputError(f"no inputs file at {str(self.path)!r}")

    def __iter__(self) -> Iterator[Row]:
        return (self._row(number, record) for number, record in self._records())

    def count(self) -> int:
        """The number of rows, after reading every id once: a missing or repeated id is an error before any work is done."""
        seen: set[RowId] = set()
        for number, record in self._records():
            row_id = self._id(number, record)
            if row_id in seen:
                raise InputError(
                    f"row {number} repeats the id {row_id!r} of an earlier row; ids in {self.spec.id_field!r} must be unique"
                )
            seen.add(row_id)
        return len(seen)

    def _records(self) -> Iterator[tuple[int, Any]]:
        records = iter(self.spec.items) if self.path is None else READERS[self.format](self.path)
        return itertools.islice(enumerate(records), self.spec.limit)

    def _id(self, number: int, record: Any) -> RowId:
        field = self.spec.id_field
        if field is None:
            return number
        if isinstance(record, UnreadableLine):
            raise InputError(f"{record.reason}; so it has no id field {field!r}: fix the line, or leave inputs.id_field unset")
        if not isinstance(record, Mapping) or field not in record:
            raise InputError(f"row {number} has no id field {field!r}: every row needs one when inputs.id_field is set")
        return str(record[field])

    def _row(self, number: int, record: Any) -> Row:
        row_id = self._id(number, record)
        if isinstance(record, UnreadableLine):
            return Row(row_id, record.text, record.reason)
        if not isinstance(record, Mapping):
            return Row(row_id, record)
        present = [field for field in self.inputs if self.columns[field.name] in record]
        values = {field.name: self._value(field, record[self.columns[field.name]]) for field in present}
        missing = [field.name for field in self.inputs if field.required and field.name not in values]
        if missing or not values:
            return Row(row_id, dict(record), self._missing(missing or list(self.columns), record))
        item = input_item(self.inputs, values)
        field = self.spec.rationale_field
        try:
            return Row(row_id, item, rationale=None if field is None else rationale_of(record.get(field), field))
        except InputError as error:
            return Row(row_id, item, str(error))

    def _missing(self, missing: list[str], record: Mapping[str, Any]) -> str:
        """Why a row without the columns of the inputs ``missing`` cannot be explained, naming the task's inputs."""
        columns = " or ".join(repr(self.columns[name]) for name in missing)
        message = f"the row has no field {columns}"
        if len(self.inputs) > 1 or any(self.columns[name] != name for name in missing):
            inputs = ", ".join(name if column == name else f"{name} (column {column!r})" for name, column in self.columns.items())
            message += f"; the task's inputs are {inputs} (inputs.fields maps input names to columns)"
        return f"{message}; its fields are {', '.join(map(str, record))}"

    def _value(self, field: InputField, value: Any) -> Any:
        if field.relative_path and isinstance(value, str) and self.path is not None and not Path(value).is_absolute():
            return str(self.path.parent / value)
        return value


def rationale_of(value: Any, field: str) -> list[Any] | None:
    """A row's rationale as its ``field`` column holds it: a list, or a JSON list in a string (as CSV holds it); None
    when the column is empty or missing."""
    parsed = value
    if isinstance(value, str):
        try:
            parsed = json.loads(value) if value.strip() else None
        except json.JSONDecodeError:
            pass
    if parsed is None or isinstance(parsed, list):
        return parsed
    raise InputError(
        f"the rationale in column {field!r} is {value!r}; allowed: a list of word indexes or a 0/1 mask per word, "
        'e.g. [2, 5] (in a CSV, that list as JSON: "[2, 5]"), or an empty value for a row without one'
    )


@dataclass(frozen=True)
class UnreadableLine:
    """A JSONL line that is not JSON, kept so that it becomes an error row."""

    text: str
    reason: str


def _format_of(path: Path, given: str | None) -> str:
    if given is not None:
        if given not in READERS:
            raise UnknownNameError("inputs format", given, READERS)
        return given
    try:
        return FORMATS[path.suffix.lower()]
    except KeyError:
        raise InputError(
            f"cannot tell the format of {str(path)!r} from its suffix; set inputs.format to one of {', '.join(READERS)}"
        ) from None


def _jsonl(path: Path) -> Iterator[Any]:
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                yield json.loads(line)
            except json.JSONDecodeError as error:
                yield UnreadableLine(line.rstrip("\n"), f"line {number} of {path.name} is not JSON: {error}")


def _csv(path: Path) -> Iterator[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as lines:
        yield from csv.DictReader(lines)


def _parquet(path: Path) -> Iterator[dict[str, Any]]:
    parquet = require("pyarrow.parquet", "parquet", "reading Parquet inputs")
    for batch in parquet.ParquetFile(path).iter_batches(batch_size=1024):
        yield from batch.to_pylist()


READERS = {"jsonl": _jsonl, "csv": _csv, "parquet": _parquet}
