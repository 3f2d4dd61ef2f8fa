"""Timing and quality measurements for the benchmark (peak memory: memory.py)."""

from __future__ import annotations

import os
import platform
import shlex
import sys
import time
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterator

import torch
from transformers_interpret import attributions as legacy_attributions

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"


def timed(call: Callable[[], Any]) -> float:
    """The seconds ``call`` takes, run once."""
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def alternating(calls: dict[str, Callable[[], Any]], runs: int, warm_up: bool = True) -> dict[str, list[float]]:
    """A warm-up of each (unless not ``warm_up``), then ``runs`` rounds running each once in turn: the seconds of each run."""
    for call in calls.values() if warm_up else ():
        call()
    results: dict[str, list[float]] = {name: [] for name in calls}
    for _ in range(runs):
        for name, call in calls.items():
            results[name].append(timed(call))
    return results


def append_run(title: str, description: str, body: str) -> None:
    """Append a run to RESULTS.md: ``title`` with the time, the exact command, the machine and torch's threads,
    ``description``, then ``body``."""
    when = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    command = shlex.join(["python", f"benchmarks/{Path(sys.argv[0]).name}", *sys.argv[1:]])
    header = f"\n## {title}, {when}\n\n`{command}` on {platform.node()} ({torch.get_num_threads()} thread), {description}\n\n"
    with RESULTS.open("a", encoding="utf-8") as file:
        file.write(header + body + "\n")


def load_average() -> str:
    """The 1, 5 and 15 minute load averages."""
    return " ".join(f"{load:.2f}" for load in os.getloadavg())


@contextmanager
def recorded_legacy() -> Iterator[list[Any]]:
    """Every transformers-interpret ``LIGAttributions`` made in the block, in order (its raw ``_attributions`` kept)."""
    made: list[Any] = []
    original = legacy_attributions.LIGAttributions.__init__

    def record(self: Any, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        made.append(self)

    legacy_attributions.LIGAttributions.__init__ = record
    try:
        yield made
    finally:
        legacy_attributions.LIGAttributions.__init__ = original


def legacy_token_scores(made: list[Any]) -> list[list[float]]:
    """The raw token attributions (summed over the hidden size) of recorded transformers-interpret attributions."""
    return [instance._attributions.detach().sum(-1).flatten().double().tolist() for instance in made]


def cosine(first: list[float], second: list[float]) -> float:
    """The cosine similarity of two score vectors."""
    return float(torch.nn.functional.cosine_similarity(torch.tensor(first, dtype=torch.float64), torch.tensor(second, dtype=torch.float64), dim=0))


def relative_error(total: float, score: float, baseline_score: float) -> float:
    """|sum − (f(x) − f(baseline))| / |f(x) − f(baseline)|."""
    gap = score - baseline_score
    return abs(total - gap) / abs(gap) if gap else float("inf")
