"""Time attrix against transformers-interpret 0.10.0 on real MiniLM models, with the quality and memory of each.

    python benchmarks/run.py                       # the full table, appended to benchmarks/RESULTS.md
    python benchmarks/run.py --runs 1 --texts 16 --no-record   # a quick look, printed only

Installs nothing; one process, one torch thread, a warm-up then alternating runs, the median reported.
"""

from __future__ import annotations

import argparse
import platform
import shlex
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

from cases import REFERENCE_STEPS, Case, build_cases, legacy_keys, targets_of  # noqa: E402
from measure import (  # noqa: E402
    alternating,
    cosine,
    legacy_token_scores,
    load_average,
    median_seconds,
    peak_mib,
    recorded_legacy,
    relative_error,
)
from overhead import overhead_ratio  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
TARGETS = {"sequence": 0.5, "multilabel": 0.35, "ner": 0.25, "zero_shot": 0.5, "batch": 0.5}
BAR_COSINE, BAR_ERROR = 0.999, 0.01


def quality(found: list[tuple[list[float], float]], reference: list[Any]) -> dict[str, float]:
    """Worst relative completeness error and cosine to the reference over every target, and how many miss the bar."""
    errors = [relative_error(total, ref.score, ref.baseline_score) for (_, total), ref in zip(found, reference)]
    cosines = [cosine(scores, ref.scores) for (scores, _), ref in zip(found, reference)]
    missed = sum(error > BAR_ERROR or value < BAR_COSINE for error, value in zip(errors, cosines))
    return {"error": max(errors), "cosine": min(cosines), "missed": missed, "targets": len(errors)}


def measure_case(case: Case, runs: int) -> dict[str, Any]:
    """Time, memory and quality of both tools on ``case``."""
    reference = targets_of(case.reference(), legacy_keys)
    ours = targets_of(case.attrix(), legacy_keys)
    with recorded_legacy() as made:
        case.legacy()
    theirs = legacy_token_scores(made)
    if len(theirs) != len(reference):
        raise RuntimeError(f"{case.name}: transformers-interpret explained {len(theirs)} targets, attrix {len(reference)}")
    timings = alternating({"attrix": case.attrix, "legacy": case.legacy}, runs)
    print(f"{case.name}: attrix {median_seconds(timings['attrix']):.3f} s, transformers-interpret "
          f"{median_seconds(timings['legacy']):.3f} s", file=sys.stderr, flush=True)
    return {
        "case": case,
        "attrix": median_seconds(timings["attrix"]),
        "legacy": median_seconds(timings["legacy"]),
        "attrix_mib": peak_mib(timings["attrix"]),
        "legacy_mib": peak_mib(timings["legacy"]),
        "attrix_quality": quality([(t.scores, sum(t.scores)) for t in ours], reference),
        "legacy_quality": quality([(scores, sum(scores)) for scores in theirs], reference),
        "load": load_average(),
        "steps": case.steps_used(),
    }


def table(rows: list[dict[str, Any]]) -> str:
    """The results as a Markdown table."""
    lines = [
        "| case | attrix s | TI s | ratio (target) | attrix err / cos | TI err / cos | targets off the bar (attrix / TI) "
        "| attrix steps | peak MiB attrix / TI | load avg |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        ours, theirs = row["attrix_quality"], row["legacy_quality"]
        ratio = row["attrix"] / row["legacy"]
        target = TARGETS[row["case"].name]
        lines.append(
            f"| {row['case'].description} | {row['attrix']:.3f} | {row['legacy']:.3f} "
            f"| **{ratio:.3f}** (≤ {target}{' ✓' if ratio <= target else ' ✗'}) "
            f"| {ours['error']:.2%} / {ours['cosine']:.5f} | {theirs['error']:.2%} / {theirs['cosine']:.5f} "
            f"| {ours['missed']}/{ours['targets']} / {theirs['missed']}/{theirs['targets']} | {row['steps']} "
            f"| {row['attrix_mib']:.0f} / {row['legacy_mib']:.0f} | {row['load']} |"
        )
    return "\n".join(lines)


def machine() -> str:
    """The CPU, the Python and torch versions."""
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("model name")), platform.processor())
    return f"{cpu}, {torch.get_num_threads()} torch thread(s), Python {platform.python_version()}, torch {torch.__version__}, {platform.platform()}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5, help="timed runs of each tool per case, after a warm-up (default 5)")
    parser.add_argument("--texts", type=int, default=256, help="texts in the batch case (default 256)")
    parser.add_argument("--cases", nargs="+", choices=sorted(TARGETS), default=list(TARGETS), help="cases to run (default all)")
    parser.add_argument("--steps", default="auto", help='attrix n_steps: "auto" (default) or a number')
    parser.add_argument("--overhead-steps", type=int, default=16, help="fixed steps for the framework-overhead check")
    parser.add_argument("--no-record", action="store_true", help=f"print only; do not append to {RESULTS.name}")
    arguments = parser.parse_args(argv)
    torch.set_num_threads(1)
    steps = arguments.steps if arguments.steps == "auto" else int(arguments.steps)
    started = time.time()
    rows = [measure_case(case, arguments.runs) for case in build_cases(arguments.texts, steps) if case.name in arguments.cases]
    overhead = overhead_ratio(arguments.overhead_steps, arguments.runs)
    report = "\n".join([
        f"### {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC",
        "",
        f"- machine: {machine()}",
        f"- command: `python {shlex.join(['benchmarks/run.py', *(argv if argv is not None else sys.argv[1:])])}`",
        f"- attrix n_steps={steps!r}; quality against {REFERENCE_STEPS} Gauss-Legendre steps; bar: cosine ≥ {BAR_COSINE}, "
        f"relative completeness error ≤ {BAR_ERROR:.0%}; median of {arguments.runs} alternating runs after a warm-up",
        f"- framework overhead (attrix, n_steps={arguments.overhead_steps}, ÷ the bare torch passes it needs): "
        f"**{overhead['ratio']:.3f}** (≤ 1.15{' ✓' if overhead['ratio'] <= 1.15 else ' ✗'}; "
        f"{overhead['attrix']:.3f} s vs {overhead['bare']:.3f} s, load avg {overhead['load']})",
        f"- total wall time {time.time() - started:.0f} s",
        "",
        table(rows),
        "",
    ])
    print(report)
    if not arguments.no_record:
        with RESULTS.open("a") as results:
            results.write("\n" + report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
