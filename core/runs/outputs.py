"""A run's result rows on disk: JSONL or Parquet, written as batches finish, read back to resume and summarise.

A row is ``{"id", "explanation"}`` (an ``Explanation.to_dict()``), with ``"warnings"`` when the task warned
(a truncated text), or ``{"id", "error", "input"}`` for an input that could not be explained.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, Protocol

from attrix.runs.extras import require
from attrix.runs.manifest import RunDirectoryError

RESULTS = {"jsonl": "results.jsonl", "parquet": "results.parquet"}
"""The results file (JSONL) or directory of parts (Parquet) in the output directory, by format."""
JSON_COLUMNS = ("explanation", "input")
"""Parquet columns that hold JSON text: what varies from task to task."""


class Results(Protocol):
    """Result rows being written: each window of batches is written as it comes, and what was written can be read back."""

    def rows(self) -> Iterator[dict[str, Any]]:
        """Every complete row written so far, by this run or the one it resumes."""

    def write(self, batches: Iterable[list[dict[str, Any]]]) -> None:
        """Write a window of batches, each durable once written (JSONL) or the window once done (Parquet)."""

    def close(self) -> None:
        """Finish writing."""


def open_results(directory: Path, format: str) -> Results:
    """The results of the run in ``directory``, opened to append to what a killed run left."""
    path = directory / RESULTS[format]
    return JsonlResults(path) if format == "jsonl" else ParquetResults(path)


class JsonlResults:
    """``results.jsonl``: one row a line, flushed and fsynced after each batch; a torn last line (a killed write) is dropped on open."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.exists():
            with path.open("r+b") as file:
                file.truncate(_complete_length(file))
        # A lone surrogate in an error row's input cannot be UTF-8; it can only stand inside a JSON string, where the
        # backslash escape written in its place (\udXXXX) is valid JSON that reads back as the same string.
        self.file = path.open("a", encoding="utf-8", errors="backslashreplace")

    def rows(self) -> Iterator[dict[str, Any]]:
        with self.path.open(encoding="utf-8", errors="replace") as lines:
            for number, line in enumerate(lines, 1):
                if line.endswith("\n"):
                    yield _row(line, self.path, number)

    def write(self, batches: Iterable[list[dict[str, Any]]]) -> None:
        for batch in batches:
            self.file.write("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in batch))
            self.file.flush()
            os.fsync(self.file.fileno())

    def close(self) -> None:
        self.file.close()


def _row(line: str, path: Path, number: int) -> dict[str, Any]:
    """The result row on line ``number`` of ``path``; a ``RunDirectoryError`` naming the line if it is not one."""
    try:
        row = json.loads(line)
    except json.JSONDecodeError as error:
        problem = f"is not JSON ({error.msg})"
    else:
        if isinstance(row, dict) and "id" in row:
            return row
        problem = "is not a result row (a JSON object with an id)"
    raise RunDirectoryError(
        f"{str(path)!r} line {number} {problem}; delete that line to redo its row with --resume, "
        f"or start a new run in another output.directory"
    )


def _complete_length(file: Any, chunk: int = 1 << 16) -> int:
    """The length of ``file`` up to and including its last newline, read backwards from the end."""
    end = file.seek(0, os.SEEK_END)
    position = end
    while position > 0:
        start = max(0, position - chunk)
        file.seek(start)
        newline = file.read(position - start).rfind(b"\n")
        if newline >= 0:
            return start + newline + 1
        position = start
    return 0


class ParquetResults:
    """``results.parquet/``: a part file per window with a row group per batch, published by an atomic rename once complete.

    ``explanation`` and ``input`` are JSON text (their shape varies by task); ``id``, ``error`` and ``warnings``
    are plain columns. A killed run leaves only complete parts, so a resumed run redoes at most one window.
    """

    def __init__(self, directory: Path) -> None:
        self.pa = require("pyarrow", "parquet", "writing Parquet results")
        self.parquet = require("pyarrow.parquet", "parquet", "writing Parquet results")
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        for leftover in directory.glob("*.tmp"):
            leftover.unlink()
        self.parts = len(self._parts())

    def _parts(self) -> list[Path]:
        return sorted(self.directory.glob("part-*.parquet"))

    def rows(self) -> Iterator[dict[str, Any]]:
        for part in self._parts():
            yield from self._part_rows(part)

    def _part_rows(self, part: Path) -> list[dict[str, Any]]:
        """The result rows of one part; a ``RunDirectoryError`` naming the part if it is not a Parquet file of them."""
        try:
            return [
                _from_columns(record) for batch in self.parquet.ParquetFile(part).iter_batches() for record in batch.to_pylist()
            ]
        except (self.pa.ArrowException, OSError, KeyError, TypeError, ValueError) as error:
            raise RunDirectoryError(
                f"{str(part)!r} is not a part of result rows ({type(error).__name__}: {error}); delete it to redo its rows "
                f"with --resume, or start a new run in another output.directory"
            ) from None

    def write(self, batches: Iterable[list[dict[str, Any]]]) -> None:
        final = self.directory / f"part-{self.parts:05d}.parquet"
        temporary = final.with_name(final.name + ".tmp")
        writer = None
        try:
            for batch in batches:
                table = self.pa.Table.from_pylist([_to_columns(row) for row in batch], schema=self._schema(batch[0]["id"]))
                writer = writer or self.parquet.ParquetWriter(temporary, table.schema)
                writer.write_table(table)
        finally:
            if writer is not None:
                writer.close()
        if writer is None:
            return
        with temporary.open("rb") as file:
            os.fsync(file.fileno())
        os.replace(temporary, final)
        _fsync_directory(self.directory)
        self.parts += 1

    def _schema(self, row_id: int | str) -> Any:
        pa = self.pa
        return pa.schema(
            [
                ("id", pa.int64() if isinstance(row_id, int) else pa.string()),
                ("explanation", pa.string()),
                ("error", pa.string()),
                ("input", pa.string()),
                ("warnings", pa.list_(pa.string())),
            ]
        )

    def close(self) -> None:
        """Nothing stays open between windows."""


def _to_columns(row: dict[str, Any]) -> dict[str, Any]:
    columns = {"id": row["id"], "error": row.get("error"), "warnings": row.get("warnings")}
    columns.update({name: json.dumps(row[name], ensure_ascii=False) if name in row else None for name in JSON_COLUMNS})
    return columns


def _from_columns(record: dict[str, Any]) -> dict[str, Any]:
    row = {name: value for name, value in record.items() if value is not None}
    row.update({name: json.loads(row[name]) for name in JSON_COLUMNS if name in row})
    return row


def _fsync_directory(directory: Path) -> None:
    """Make a rename in ``directory`` durable (where the platform allows opening a directory)."""
    try:
        descriptor = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
