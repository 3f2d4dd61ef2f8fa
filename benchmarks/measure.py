"""Timing, peak memory and quality measurements for the benchmark."""

from __future__ import annotations

import os
import re
import statistics
import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Callable, Iterator

import torch
from transformers_interpret import attributions as legacy_attributions

_STATUS = "/proc/self/status"


def rss_kib(field: str = "VmRSS") -> int:
    """The process's resident memory (``VmRSS``) or its peak since the last reset (``VmHWM``), in KiB."""
    with open(_STATUS) as status:
        return int(re.search(rf"{field}:\s+(\d+)", status.read()).group(1))


def reset_peak() -> None:
    """Start the peak resident memory (VmHWM) afresh from the current one (Linux)."""
    with open("/proc/self/clear_refs", "w") as refs:
        refs.write("5")


@dataclass
class Run:
    """One timed run: seconds, and the peak resident memory above the memory before it, in MiB."""

    seconds: float
    peak_mib: float


def timed(call: Callable[[], Any]) -> Run:
    """Run ``call`` once, timing it and measuring its peak resident memory."""
    before = rss_kib()
    reset_peak()
    start = time.perf_counter()
    call()
    seconds = time.perf_counter() - start
    return Run(seconds, (rss_kib("VmHWM") - before) / 1024)


def alternating(calls: dict[str, Callable[[], Any]], runs: int) -> dict[str, list[Run]]:
    """A warm-up of each, then ``runs`` rounds running each once in turn."""
    for call in calls.values():
        call()
    results: dict[str, list[Run]] = {name: [] for name in calls}
    for _ in range(runs):
        for name, call in calls.items():
            results[name].append(timed(call))
    return results


def median_seconds(runs: list[Run]) -> float:
    return statistics.median(run.seconds for run in runs)


def peak_mib(runs: list[Run]) -> float:
    return max(run.peak_mib for run in runs)


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
