"""Time attrix against transformers-interpret 0.10.0 on real MiniLM models, with the quality and memory of each.

    python benchmarks/run.py                       # the full table, appended to benchmarks/RESULTS.md
    python benchmarks/run.py --runs 1 --texts 16 --no-record   # a quick look, printed only
    python benchmarks/run.py --cases ner --no-memory --fixed-steps 0   # one case, no memory processes, no attrix@50
    python benchmarks/run.py --cases qa pairwise --ti-equal-quality    # and transformers-interpret at attrix's quality

Installs nothing; one torch thread. Per case, this process times attrix (``--steps``), attrix at ``--fixed-steps``
Gauss-Legendre steps (50 by default: transformers-interpret's steps and method, so its quality) and
transformers-interpret: a warm-up of each, then alternating runs, the median reported. The peak memory of each
tool is measured in a fresh process per case and tool (benchmarks/memory.py). With ``--ti-equal-quality`` it also
finds the fewest steps of 50, 100, 200, 400, 800 at which transformers-interpret meets the bar where attrix does,
and times it there against attrix.
"""

from __future__ import annotations

import argparse
import platform
import shlex
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from statistics import median
from typing import Any, Callable

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

from cases import (  # noqa: E402
    LEGACY_STEPS,
    REFERENCE_STEPS,
    Case,
    build_case,
    legacy_keys,
    steps_option,
    targets_of,
)
from measure import (  # noqa: E402
    RESULTS,
    alternating,
    cosine,
    legacy_token_scores,
    load_average,
    recorded_legacy,
    relative_error,
)
from memory import TOOLS, measured_in_child  # noqa: E402
from overhead import overhead_ratio  # noqa: E402

TARGETS = {"sequence": 0.5, "multilabel": 0.35, "ner": 0.25, "zero_shot": 0.5, "qa": 0.5, "pairwise": 0.5, "batch": 0.5}
EQUAL_TARGET = 0.5
"""The issue's target for attrix ÷ transformers-interpret at equal quality, on every case."""
LADDER = (50, 100, 200, 400, 800)
"""The steps tried for transformers-interpret at attrix's quality, fewest first."""
BAR_COSINE, BAR_ERROR = 0.999, 0.01
Column = tuple[str, Callable[[dict[str, Any]], str]]
"""A column of the table: its header, and its cell for a row of results."""


def quality(found: list[tuple[list[float], float]], reference: list[Any]) -> dict[str, Any]:
    """Worst relative completeness error and cosine to the reference over every target, and which miss the bar."""
    errors = [relative_error(total, ref.score, ref.baseline_score) for (_, total), ref in zip(found, reference)]
    cosines = [cosine(scores, ref.scores) for (scores, _), ref in zip(found, reference)]
    off = {index for index, (error, value) in enumerate(zip(errors, cosines)) if error > BAR_ERROR or value < BAR_COSINE}
    return {"error": max(errors), "cosine": min(cosines), "missed": len(off), "off": off, "targets": len(errors)}


def attrix_quality(explain: Callable[[], list[Any]], reference: list[Any]) -> dict[str, Any]:
    """The quality of attrix's explanations by ``explain`` against the reference."""
    return quality([(target.scores, sum(target.scores)) for target in targets_of(explain(), legacy_keys)], reference)


def legacy_quality(case: Case, steps: int, reference: list[Any]) -> dict[str, Any]:
    """The quality of transformers-interpret's raw attributions on ``case`` at ``steps`` against the reference."""
    with recorded_legacy() as made:
        case.legacy_at(steps)
    theirs = legacy_token_scores(made)
    if len(theirs) != len(reference):
        raise RuntimeError(f"{case.name}: transformers-interpret explained {len(theirs)} targets, attrix {len(reference)}")
    return quality([(scores, sum(scores)) for scores in theirs], reference)


def measure_case(case: Case, runs: int) -> dict[str, Any]:
    """Time and quality of attrix (at its steps, and at fixed steps if any) and transformers-interpret on ``case``."""
    reference = targets_of(case.reference(), legacy_keys)
    theirs = legacy_quality(case, LEGACY_STEPS, reference)
    calls = {name: call for name, call in {"attrix": case.attrix, "fixed": case.fixed, "legacy": case.legacy}.items() if call}
    found = {name: attrix_quality(call, reference) for name, call in calls.items() if name != "legacy"}
    seconds = {name: median(timings) for name, timings in alternating(calls, runs).items()}
    print(f"{case.name}: " + ", ".join(f"{name} {value:.3f} s" for name, value in seconds.items()), file=sys.stderr, flush=True)
    return {
        "case": case,
        "reference": reference,
        "seconds": seconds,
        "quality": {**found, "legacy": theirs},
        "load": load_average(),
        "steps": case.steps_used(),
    }


def fewest_legacy_steps(row: dict[str, Any], steps_tried: list[int]) -> tuple[int | None, dict[str, Any], float]:
    """The fewest of ``steps_tried`` at which transformers-interpret misses the bar on no target where attrix meets
    it, and its quality there (None and its quality at the last steps tried if none does), with the seconds of that
    call."""
    case, wanted = row["case"], row["quality"]["attrix"]["off"]
    found, seconds = row["quality"]["legacy"], row["seconds"]["legacy"]
    for steps in steps_tried:
        if steps != LEGACY_STEPS:
            start = time.perf_counter()
            found = legacy_quality(case, steps, row["reference"])
            seconds = time.perf_counter() - start
        print(f"{case.name}: transformers-interpret at {steps} steps, {found['missed']}/{found['targets']} off the bar "
              f"({seconds:.1f} s)", file=sys.stderr, flush=True)
        if found["off"] <= wanted:
            return steps, found, seconds
    return None, found, seconds


def equal_quality(row: dict[str, Any], runs: int, steps_tried: list[int]) -> dict[str, Any]:
    """transformers-interpret at the fewest of ``steps_tried`` meeting attrix's quality, timed in ``runs`` rounds
    alternating with attrix (where none does: the seconds of the most steps tried, a bound on the ratio).

    The search's last call at those steps is transformers-interpret's warm-up; at its own 50 steps the rounds already run are used.
    """
    case = row["case"]
    steps, found, seconds = fewest_legacy_steps(row, steps_tried)
    if steps is None:
        return {"steps": None, "tried": steps_tried[-1], "quality": found, "tried_s": seconds, "attrix": row["seconds"]["attrix"]}
    if steps == LEGACY_STEPS:
        return {"steps": steps, "quality": found, "attrix": row["seconds"]["attrix"], "legacy": row["seconds"]["legacy"]}
    timings = alternating({"attrix": case.attrix, "legacy": lambda: case.legacy_at(steps)}, runs, warm_up=False)
    seconds = {name: median(values) for name, values in timings.items()}
    print(f"{case.name}: attrix {seconds['attrix']:.3f} s, transformers-interpret@{steps} {seconds['legacy']:.3f} s",
          file=sys.stderr, flush=True)
    return {"steps": steps, "quality": found, **seconds}


def measure(name: str, arguments: argparse.Namespace) -> dict[str, Any]:
    """The case ``name`` measured as ``arguments`` ask: times and quality here, then each tool's peak memory in a fresh process."""
    case = build_case(name, arguments.texts, arguments.steps, arguments.fixed_steps)
    row = measure_case(case, arguments.runs)
    if arguments.ti_equal_quality:
        tried = [steps for steps in LADDER if arguments.ti_min_steps <= steps <= arguments.ti_max_steps]
        row["equal"] = equal_quality(row, arguments.runs, tried)
    if not arguments.no_memory:
        row["memory"] = {tool: measured_in_child(name, tool, arguments.texts, arguments.steps) for tool in TOOLS}
    return row


def seconds_cell(row: dict[str, Any], tool: str) -> str:
    return f"{row['seconds'][tool]:.3f}"


def ratio(row: dict[str, Any], tool: str) -> float:
    """The time of ``tool`` (attrix at its steps, or at fixed steps) over transformers-interpret's."""
    return row["seconds"][tool] / row["seconds"]["legacy"]


def target_cell(row: dict[str, Any]) -> str:
    """attrix's ratio, with its target and whether it is met."""
    value, target = ratio(row, "attrix"), TARGETS[row["case"].name]
    return f"**{value:.3f}** (≤ {target}{' ✓' if value <= target else ' ✗'})"


def quality_cell(row: dict[str, Any], tool: str) -> str:
    found = row["quality"][tool]
    return f"{found['error']:.2%} / {found['cosine']:.5f}"


def missed_cell(row: dict[str, Any], tool: str) -> str:
    found = row["quality"][tool]
    return f"{found['missed']}/{found['targets']}"


def equal_steps_cell(row: dict[str, Any]) -> str:
    """The fewest steps at which transformers-interpret meets attrix's quality, or the most tried and its targets off the bar."""
    equal = row["equal"]
    found = equal["quality"]
    if equal["steps"] is None:
        return f"not reached by {equal['tried']} ({found['missed']}/{found['targets']} off)"
    return f"{equal['steps']} ({found['missed']}/{found['targets']} off)"


def equal_ratio_cell(row: dict[str, Any]) -> str:
    """attrix ÷ transformers-interpret at its fewest steps meeting attrix's quality, with the issue's target."""
    equal = row["equal"]
    if equal["steps"] is None:
        bound = equal["attrix"] / equal["tried_s"]
        return f"**< {bound:.3f}** (its {equal['tried']} steps took {equal['tried_s']:.1f} s; ≤ {EQUAL_TARGET}{' ✓' if bound <= EQUAL_TARGET else ''})"
    value = equal["attrix"] / equal["legacy"]
    return f"**{value:.3f}** (≤ {EQUAL_TARGET}{' ✓' if value <= EQUAL_TARGET else ' ✗'})"


def columns(fixed_steps: int, memory: bool, equal: bool) -> list[Column]:
    """The table's columns, header and cell: attrix at ``fixed_steps`` unless 0, peak memory if ``memory``, and
    transformers-interpret at attrix's quality if ``equal``."""
    main: list[Column] = [
        ("case", lambda row: row["case"].description),
        ("attrix s", lambda row: seconds_cell(row, "attrix")),
        ("TI s", lambda row: seconds_cell(row, "legacy")),
        ("ratio (target)", target_cell),
        ("attrix err / cos", lambda row: quality_cell(row, "attrix")),
        ("TI err / cos", lambda row: quality_cell(row, "legacy")),
        ("targets off the bar (attrix / TI)", lambda row: f"{missed_cell(row, 'attrix')} / {missed_cell(row, 'legacy')}"),
        ("attrix steps", lambda row: row["steps"]),
    ]
    fixed: list[Column] = [
        (f"attrix@{fixed_steps} s", lambda row: seconds_cell(row, "fixed")),
        (f"ratio@{fixed_steps}", lambda row: f"{ratio(row, 'fixed'):.3f}"),
        (f"attrix@{fixed_steps} err / cos", lambda row: quality_cell(row, "fixed")),
        (f"attrix@{fixed_steps} off the bar", lambda row: missed_cell(row, "fixed")),
    ]
    same: list[Column] = [
        ("TI steps at attrix's quality (off the bar)", equal_steps_cell),
        ("attrix s / TI s there", lambda row: f"{row['equal']['attrix']:.3f} / {row['equal']['legacy']:.3f}" if row["equal"]["steps"] else ""),
        ("ratio at equal quality (target)", equal_ratio_cell),
    ]
    peak: list[Column] = [("peak MiB attrix / TI", lambda row: f"{row['memory']['attrix']:.0f} / {row['memory']['legacy']:.0f}")]
    optional = (fixed if fixed_steps else []) + (same if equal else []) + (peak if memory else [])
    return main + optional + [("load avg", lambda row: row["load"])]


def table(rows: list[dict[str, Any]], chosen: list[Column]) -> str:
    """The results as a Markdown table of the ``chosen`` columns."""
    lines = ["| " + " | ".join(header for header, _ in chosen) + " |", "|" + "---|" * len(chosen)]
    lines += ["| " + " | ".join(cell(row) for _, cell in chosen) + " |" for row in rows]
    return "\n".join(lines)


def machine() -> str:
    """The CPU, the Python and torch versions."""
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("model name")), platform.processor())
    return f"{cpu}, {torch.get_num_threads()} torch thread(s), Python {platform.python_version()}, torch {torch.__version__}, {platform.platform()}"


def method_notes(arguments: argparse.Namespace) -> list[str]:
    """The report's lines on what was measured: attrix's steps, the fixed-step attrix and peak memory, as asked."""
    notes = [
        f"- attrix n_steps={arguments.steps!r}; quality against {REFERENCE_STEPS} Gauss-Legendre steps; bar: cosine ≥ "
        f"{BAR_COSINE}, relative completeness error ≤ {BAR_ERROR:.0%}; median of {arguments.runs} alternating runs after a warm-up",
    ]
    if arguments.fixed_steps:
        notes.append(f"- attrix@{arguments.fixed_steps}: attrix at n_steps={arguments.fixed_steps}, Gauss-Legendre "
                     "(transformers-interpret: 50 Gauss-Legendre steps), timed in the same rounds")
    if arguments.ti_equal_quality:
        notes.append(f"- TI at attrix's quality: transformers-interpret at {', '.join(map(str, LADDER))} steps (from "
                     f"{arguments.ti_min_steps} up to {arguments.ti_max_steps}), once each, fewest first, until it misses the bar on no target where attrix "
                     "meets it; then timed there in alternating runs with attrix (the search's last call its warm-up); where "
                     "no steps tried do, attrix's time over that of the most steps tried bounds the ratio")
    if not arguments.no_memory:
        notes.append("- peak MiB: per case and tool, a fresh process builds the case, then runs the call once: its peak "
                     "resident memory (VmHWM, reset once ready) above the resident memory then (benchmarks/memory.py)")
    return notes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5, help="timed runs of each tool per case, after a warm-up (default 5)")
    parser.add_argument("--texts", type=int, default=256, help="texts in the batch case (default 256)")
    parser.add_argument("--cases", nargs="+", choices=sorted(TARGETS), default=list(TARGETS), help="cases to run (default all)")
    parser.add_argument("--steps", type=steps_option, default="auto", help='attrix n_steps: "auto" (default) or a number')
    parser.add_argument("--fixed-steps", type=int, default=50,
                        help="n_steps of a second, Gauss-Legendre attrix column (default 50, transformers-interpret's); 0: none")
    parser.add_argument("--overhead-steps", type=int, default=16, help="fixed steps for the framework-overhead check")
    parser.add_argument("--no-memory", action="store_true", help="skip the peak-memory processes (and the column)")
    parser.add_argument("--ti-equal-quality", action="store_true",
                        help="also time transformers-interpret at the fewest steps of 50, 100, 200, 400, 800 meeting attrix's quality")
    parser.add_argument("--ti-min-steps", type=int, default=LADDER[0], choices=LADDER,
                        help=f"the fewest steps tried for --ti-equal-quality (default {LADDER[0]}; {LEGACY_STEPS} is measured anyway)")
    parser.add_argument("--ti-max-steps", type=int, default=LADDER[-1], choices=LADDER,
                        help=f"the most steps tried for --ti-equal-quality (default {LADDER[-1]})")
    parser.add_argument("--no-record", action="store_true", help=f"print only; do not append to {RESULTS.name}")
    arguments = parser.parse_args(argv)
    if arguments.ti_min_steps > arguments.ti_max_steps:
        parser.error(f"--ti-min-steps {arguments.ti_min_steps} is above --ti-max-steps {arguments.ti_max_steps}: no steps to try")
    torch.set_num_threads(1)
    started = time.time()
    rows = [measure(name, arguments) for name in arguments.cases]
    overhead = overhead_ratio(arguments.overhead_steps, arguments.runs)
    report = "\n".join([
        f"### {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC",
        "",
        f"- machine: {machine()}",
        f"- command: `python {shlex.join(['benchmarks/run.py', *(argv if argv is not None else sys.argv[1:])])}`",
        *method_notes(arguments),
        f"- framework overhead (attrix, n_steps={arguments.overhead_steps}, ÷ the bare torch passes it needs): "
        f"**{overhead['ratio']:.3f}** (≤ 1.15{' ✓' if overhead['ratio'] <= 1.15 else ' ✗'}; "
        f"{overhead['attrix']:.3f} s vs {overhead['bare']:.3f} s, load avg {overhead['load']})",
        f"- total wall time {time.time() - started:.0f} s",
        "",
        table(rows, columns(arguments.fixed_steps, not arguments.no_memory, arguments.ti_equal_quality)),
        "",
    ])
    print(report)
    if not arguments.no_record:
        with RESULTS.open("a") as results:
            results.write("\n" + report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
