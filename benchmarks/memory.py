"""The peak memory of one tool on one case, in a fresh process, above its memory once the case is ready.

    python benchmarks/memory.py --case ner --tool attrix            # JSON on stdout: ready and peak above it, MiB
    python benchmarks/memory.py --case batch --tool legacy --texts 16
    python benchmarks/memory.py --case batch --tool attrix --warm --batch-size 8 --memory-budget 16

It builds only that case (its model loaded, its head trained), frees what the build left (garbage, malloc's free
pages), records the resident memory (VmRSS) and restarts the peak there, runs the tool's call once and reports
the peak resident memory above it. run.py runs it once per case and tool.

A first call reads the model's weights (memory-mapped from their file) and the code of the kernels it runs from
disk: about 60 MiB of the embedded MiniLM's resident memory, for either tool. ``--warm`` measures a second call
instead, whose peak is the call's own.

The peak is Linux's VmHWM, reset through /proc/self/clear_refs, not ``ru_maxrss``: that is the same high-water
mark, but each thread that exits (transformers loads weights in a thread pool) keeps it in a maximum that cannot
be reset, so the build's peak (training a head) can hide the call's.
"""

from __future__ import annotations

import argparse
import ctypes
import gc
import json
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

from cases import BUILDERS, build_case, steps_option  # noqa: E402

from attrix.commands.compare import positive  # noqa: E402

TOOLS = ("attrix", "legacy")
_STATUS = "/proc/self/status"


def rss_kib(field: str = "VmRSS") -> int:
    """The process's resident memory (``VmRSS``) or its peak since the last reset (``VmHWM``), in KiB."""
    with open(_STATUS) as status:
        return int(re.search(rf"{field}:\s+(\d+)", status.read()).group(1))


def settle() -> int:
    """Free the garbage and malloc's free pages, restart the peak from here (Linux) and return the resident memory, in KiB."""
    gc.collect()
    ctypes.CDLL("libc.so.6").malloc_trim(0)
    with open("/proc/self/clear_refs", "w") as refs:
        refs.write("5")
    return rss_kib()


def peak_above_ready(
    case_name: str, tool: str, n_texts: int, steps: int | str, warm: bool = False, **options: Any
) -> dict[str, Any]:
    """Build ``case_name`` (attrix with ``options``), then run ``tool``'s call once — after a first call if
    ``warm`` — : the memory ready and the peak above it, in MiB."""
    case = build_case(case_name, n_texts, steps, **options)
    call = case.attrix if tool == "attrix" else case.legacy
    if warm:
        call()
    ready = settle()
    call()
    return {"case": case_name, "tool": tool, "ready_mib": ready / 1024, "peak_mib": (rss_kib("VmHWM") - ready) / 1024}


def attrix_options(batch_size: int | None, memory_budget_mib: int | None) -> dict[str, int]:
    """attrix's options given on the command line: ``batch_size`` and ``memory_budget`` (in bytes), where given."""
    options = {"batch_size": batch_size, "memory_budget": None if memory_budget_mib is None else memory_budget_mib << 20}
    return {name: value for name, value in options.items() if value is not None}


def command(case_name: str, tool: str, n_texts: int, steps: int | str, *options: str) -> list[str]:
    """The command measuring ``tool`` on ``case_name`` in a fresh process, with more of its ``options``."""
    script = str(Path(__file__).resolve())
    return [sys.executable, script, "--case", case_name, "--tool", tool, "--texts", str(n_texts), "--steps", str(steps), *options]


def measured_in_child(case_name: str, tool: str, n_texts: int, steps: int | str, *options: str) -> float:
    """The peak MiB above ready of ``tool`` on ``case_name``, measured in a fresh process (``options``: more of its
    command-line options)."""
    call = command(case_name, tool, n_texts, steps, *options)
    done = subprocess.run(call, capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"measuring the memory of {tool} on {case_name} failed (exit {done.returncode}): "
                           f"{shlex.join(call)}\n{done.stderr}")
    return json.loads(done.stdout.splitlines()[-1])["peak_mib"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--case", required=True, choices=sorted(BUILDERS), help="the case to build")
    parser.add_argument("--tool", required=True, choices=TOOLS, help="attrix, or transformers-interpret (legacy)")
    parser.add_argument("--texts", type=int, default=256, help="texts in the batch case (default 256)")
    parser.add_argument("--steps", type=steps_option, default="auto", help='attrix n_steps: "auto" (default) or a number')
    parser.add_argument("--warm", action="store_true", help="measure a second call: the first reads the weights and code from disk")
    parser.add_argument("--batch-size", type=positive, help="attrix's batch_size (default: the case's)")
    parser.add_argument("--memory-budget", type=positive, help="attrix's memory_budget, in MiB (default: attrix's)")
    arguments = parser.parse_args(argv)
    torch.set_num_threads(1)
    options = attrix_options(arguments.batch_size, arguments.memory_budget)
    print(json.dumps(peak_above_ready(arguments.case, arguments.tool, arguments.texts, arguments.steps, arguments.warm, **options)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
