"""What two levers on the cost of an evaluation buy: ``compile=True`` (torch.compile of the model's passes) and the
attention kernels (scaled-dot-product attention, what transformers loads by default, against its eager attention).

    python benchmarks/levers.py                      # sequence and the 256-text batch, appended to RESULTS.md
    python benchmarks/levers.py --cases sequence --runs 1 --no-record

Per case, one torch thread, one process: attrix ``n_steps="auto"`` on the model as loaded (``sdpa``), on a copy
compiled in place, on a copy with eager attention, and transformers-interpret at its 50 steps on the model as
loaded. The compiled explainer's first call compiles (its seconds are reported apart, with the number of calls it
takes to pay them back); then a warm-up of each and ``--runs`` alternating runs, medians. Each variant's attributions
are compared with the plain path's at 16 fixed steps (max abs difference, float32) and under ``"auto"``.
"""

from __future__ import annotations

import argparse
import copy
import os
import sys
import tempfile
from pathlib import Path
from statistics import median
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TORCHINDUCTOR_CACHE_DIR", tempfile.mkdtemp(prefix="attrix-inductor-"))
"""A cache of its own, so that the first compiled call compiles from scratch as a user's first run does."""

import torch  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))

from cases import BUILDERS, LEGACY_STEPS, explainer  # noqa: E402
from measure import alternating, append_run, load_average, timed  # noqa: E402

import attrix  # noqa: E402

FIXED_STEPS = 16


def largest_difference(first: list[attrix.Explanation], second: list[attrix.Explanation]) -> float:
    """The largest absolute difference between the token scores of two lists of explanations, target by target."""
    return max(
        abs(a - b)
        for one, other in zip(first, second)
        for mine, theirs in zip(one.targets, other.targets)
        for a, b in zip(mine.token_scores, theirs.token_scores)
    )


def measure(name: str, n_texts: int, runs: int) -> dict[str, Any]:
    """The plain, compiled and eager-attention explainers of case ``name`` and transformers-interpret, timed; the
    attributions compared with the plain path's."""
    setup = BUILDERS[name](n_texts)
    models = {"plain": setup.model, "compiled": copy.deepcopy(setup.model), "eager": copy.deepcopy(setup.model)}
    models["eager"].set_attn_implementation("eager")
    explainers = {
        variant: explainer(model, setup.tokenizer, "auto", compile=variant == "compiled", **setup.options)
        for variant, model in models.items()
    }
    made: dict[str, list[attrix.Explanation]] = {}
    compile_s = timed(lambda: made.setdefault("compiled", explainers["compiled"](setup.inputs)))
    for variant in ("plain", "eager"):
        made[variant] = explainers[variant](setup.inputs)
    fixed = {variant: explainer(model, setup.tokenizer, FIXED_STEPS, **setup.options)(setup.inputs) for variant, model in models.items()}
    calls = {variant: (lambda call=call: call(setup.inputs)) for variant, call in explainers.items()}
    times = alternating({**calls, "ti": lambda: setup.legacy(LEGACY_STEPS)}, runs)
    seconds = {tool: median(found) for tool, found in times.items()}
    saved = seconds["plain"] - seconds["compiled"]
    return {
        "case": setup.description, "runs": runs, "seconds": seconds, "first_call": compile_s,
        "pays_back_after": (compile_s - seconds["compiled"]) / saved if saved > 0 else None,
        "difference": {
            variant: (largest_difference(fixed["plain"], fixed[variant]), largest_difference(made["plain"], made[variant]))
            for variant in ("compiled", "eager")
        },
        "evaluations": {variant: sum(e.settings["steps_used"] for e in found) for variant, found in made.items()},
        "load": load_average(),
    }


def report(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| case | TI@50 s | plain (sdpa) s (÷ TI) | compiled s (÷ plain, ÷ TI) | first compiled call s (pays back after) "
        f"| eager attention s (÷ plain) | max abs diff to plain at {FIXED_STEPS} steps / auto: compiled, eager "
        "| evaluations plain / compiled / eager | runs | load |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        s, d, n = row["seconds"], row["difference"], row["evaluations"]
        pays = "never: no faster" if row["pays_back_after"] is None else f"{row['pays_back_after']:.0f} calls"
        lines.append(
            f"| {row['case']} | {s['ti']:.3f} | {s['plain']:.3f} ({s['plain'] / s['ti']:.3f}) | {s['compiled']:.3f} "
            f"({s['compiled'] / s['plain']:.3f}, {s['compiled'] / s['ti']:.3f}) | {row['first_call']:.1f} ({pays}) | "
            f"{s['eager']:.3f} ({s['eager'] / s['plain']:.3f}) | {d['compiled'][0]:.1e} / {d['compiled'][1]:.1e}, "
            f"{d['eager'][0]:.1e} / {d['eager'][1]:.1e} | {n['plain']} / {n['compiled']} / {n['eager']} | "
            f"median of {row['runs']} | {row['load']} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", nargs="+", default=["sequence", "batch"], choices=sorted(BUILDERS))
    parser.add_argument("--texts", type=int, default=256, help="texts of the batch case")
    parser.add_argument("--runs", type=int, default=3, help="timed runs per tool after the warm-up (median)")
    parser.add_argument("--no-record", action="store_true", help="print only; do not append to RESULTS.md")
    arguments = parser.parse_args()
    torch.set_num_threads(1)
    rows = []
    for name in arguments.cases:
        rows.append(measure(name, arguments.texts, arguments.runs))
        print(report(rows), flush=True)
    if not arguments.no_record:
        append_run(
            "Levers on an evaluation's cost: torch.compile, attention kernels",
            f'torch {torch.__version__}, attrix `n_steps="auto"` on the model as loaded (sdpa attention), on a copy '
            "compiled in place (`compile=True`) and on a copy with eager attention.",
            report(rows),
        )


if __name__ == "__main__":
    main()
