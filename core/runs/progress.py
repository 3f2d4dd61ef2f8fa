"""A progress bar of rows done, with the rate and the time left; nothing at all when not on a terminal."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text


class RateColumn(ProgressColumn):
    """Rows per second."""

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text("? rows/s" if speed is None else f"{speed:.1f} rows/s", style="progress.data.speed")


@contextmanager
def progress_bar(
    total: int, done: int = 0, *, show: bool = True, console: Console | None = None
) -> Iterator[Callable[[int], None]]:
    """A function that advances the bar by a number of rows; the bar is drawn on stderr only if ``show`` and it is a terminal."""
    console = console or Console(stderr=True)
    if not show or not console.is_terminal:
        yield lambda rows: None
        return
    columns = (
        TextColumn("explaining"),
        BarColumn(),
        MofNCompleteColumn(),
        RateColumn(),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console) as progress:
        task = progress.add_task("explaining", total=total, completed=done)
        yield lambda rows: progress.advance(task, rows)
