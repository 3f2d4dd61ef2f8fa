"""What attrix's batch size and memory budget do to the time and the peak memory of the batch of reviews.

    python benchmarks/batch_memory.py                          # 256 reviews, appended to RESULTS.md
    python benchmarks/batch_memory.py --texts 32 --runs 1 --no-record

One torch thread. Times: one process, a warm-up of each variant, then ``--runs`` alternating runs, medians, and
the largest difference of each variant's token scores from the first's. Peaks: a fresh process per variant and
one for transformers-interpret (benchmarks/memory.py), each the peak of a second call (``--warm``: the first also
reads the weights and the kernels' code from disk, the same for both tools).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from statistics import median

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

from cases import build_case  # noqa: E402
from levers import largest_difference  # noqa: E402
from measure import alternating, append_run, load_average  # noqa: E402
from memory import attrix_options, measured_in_child  # noqa: E402

VARIANTS = ((64, None), (8, None), (8, 16))
"""(batch_size, memory_budget in MiB or None for attrix's default): the benchmark's batch case, attrix's defaults,
and attrix's default batch size with a smaller budget (which also drops the floor of the weights' bytes)."""


def name_of(batch_size: int, budget: int | None) -> str:
    return f"batch_size={batch_size}, memory_budget={f'{budget} MiB' if budget else 'default'}"


def flags_of(batch_size: int, budget: int | None) -> list[str]:
    return ["--batch-size", str(batch_size), *(["--memory-budget", str(budget)] if budget else [])]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--texts", type=int, default=256, help="reviews in the batch (default 256)")
    parser.add_argument("--runs", type=int, default=3, help="timed runs per variant after the warm-up (median)")
    parser.add_argument("--no-record", action="store_true", help="print only; do not append to RESULTS.md")
    arguments = parser.parse_args()
    torch.set_num_threads(1)
    cases = {variant: build_case("batch", arguments.texts, **attrix_options(*variant)) for variant in VARIANTS}
    first = cases[VARIANTS[0]]
    found = {variant: case.attrix() for variant, case in cases.items()}  # each variant's warm-up
    calls = {variant: case.attrix for variant, case in cases.items()}
    seconds = {name: median(times) for name, times in alternating(calls, arguments.runs, warm_up=False).items()}
    load = load_average()
    peaks = {variant: measured_in_child("batch", "attrix", arguments.texts, "auto", "--warm", *flags_of(*variant)) for variant in VARIANTS}
    legacy_peak = measured_in_child("batch", "legacy", arguments.texts, "auto", "--warm")
    rows = [
        f"| {name_of(*variant)} | {seconds[variant]:.3f} ({seconds[variant] / seconds[VARIANTS[0]]:.3f}) "
        f"| {largest_difference(found[VARIANTS[0]], found[variant]):.1e} | {peaks[variant]:.0f} ({peaks[variant] / legacy_peak:.2f}) |"
        for variant in VARIANTS
    ]
    body = "\n".join(
        [
            "| attrix | s (÷ first) | max abs diff to first | peak MiB of a second call (÷ transformers-interpret's) |",
            "|---|---|---|---|",
            *rows,
            f"| transformers-interpret, 50 steps | | | {legacy_peak:.0f} |",
            "",
            f"load average {load}; {first.description}",
        ]
    )
    print(body)
    if not arguments.no_record:
        append_run(
            "Batch size and memory budget on the batch",
            f"attrix n_steps='auto', {arguments.texts} reviews, a warm-up then the median of {arguments.runs} alternating runs; "
            "peaks in a fresh process per tool and variant (benchmarks/memory.py --warm).",
            body,
        )


if __name__ == "__main__":
    main()
