"""Time attrix's generation task against captum's LLMGradientAttribution on SmolLM2-135M-Instruct.

    python benchmarks/generation.py                 # the table, appended to benchmarks/RESULTS.md
    python benchmarks/generation.py --quick --no-record

One torch thread, one process, the same model, prompt, continuation (the model's own greedy one, forced as
``target_text``) and baseline token for both tools. attrix explains every continuation token from one
teacher-forced path (``continuation_features=False``: the earlier continuation is kept in the baseline, as captum
does); captum runs one LayerIntegratedGradients per token over that token's prefix. At equal Gauss-Legendre steps
both compute the same attributions (the largest difference is reported). At equal quality attrix runs
``n_steps="auto"`` and captum the smallest of ``LADDER`` steps that meets the bar on every step: prompt attributions
with cosine ≥ 0.999 to a converged reference (attrix, ``n_steps="auto"`` at ``REFERENCE_TOLERANCE``, its own
completeness reported) and |sum − (f(x) − f(baseline))| ≤ 1% of |f(x) − f(baseline)|, f the step's log-probability.
Peak memory: measured in this process as memory.py does (garbage and malloc's free pages released, VmHWM reset,
one call, the peak above the memory then); the first call of each tool doubles as its warm-up. Where inseq imports
(``PYTHONPATH`` holding inseq 0.7.1 installed with ``pip install --target DIR --no-deps inseq==0.7.1 jaxtyping
wadler_lindig "typeguard<=2.13.3" treescope rich markdown-it-py mdurl``), its ``integrated_gradients`` on the same
prompt and forced continuation is timed beside them at the same steps (at the input embeddings from its own
default baseline, so its attributions are timed, not compared).
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from statistics import median
from typing import Any, Callable

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import torch  # noqa: E402
from captum.attr import LayerIntegratedGradients, LLMGradientAttribution, TextTokenInput  # noqa: E402
from transformers import AutoModelForCausalLM, AutoTokenizer  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))

from measure import append_run, cosine, load_average, relative_error, timed  # noqa: E402
from memory import rss_kib, settle  # noqa: E402

import attrix  # noqa: E402
from attrix.api.default_lm import default_lm_dir  # noqa: E402

SHORT_PROMPT = "The history of the city of Paris began more than two thousand years ago, when a Celtic tribe settled on"
LONG_TEXT = (
    "Paris grew on the islands and banks of the Seine. The Romans called the town Lutetia and built baths, a forum "
    "and an arena on the left bank. In the Middle Ages the kings of France made it their capital, the university "
    "drew students from all of Europe, and the cathedral of Notre-Dame rose on the island in the middle of the river. "
    "Over the centuries the city walls were rebuilt again and again as the population grew, and new quarters spread "
    "over the marshes to the north. The revolution of 1789 began with the storming of the Bastille, and the city "
    "remained at the centre of French political life through the empires, monarchies and republics that followed. "
    "In the nineteenth century the prefect Haussmann cut wide boulevards through the old medieval streets, built "
    "parks, sewers and aqueducts, and gave the city the appearance of stone facades and long avenues it still has. "
)
LADDER = (16, 32, 64, 128, 256)
BAR_COSINE, BAR_ERROR = 0.999, 0.01
REFERENCE_TOLERANCE, REFERENCE_MAX_STEPS = 1e-3, 4096
FIXED_TARGET, QUALITY_TARGET = 0.7, 0.5
INSEQ_MODELS: dict[int, Any] = {}
"""inseq's wrapper of each model, loaded once."""


def inseq_importable() -> bool:
    """Whether inseq can be imported here."""
    try:
        import inseq  # noqa: F401
    except ImportError:
        return False
    return True


@dataclass
class Setup:
    """The model, a prompt and its greedy continuation, and how each tool explains it."""

    model: Any
    tokenizer: Any
    prompt: str
    continuation: str
    ids: list[int]
    prompt_tokens: int

    def attrix(self, **options: Any) -> attrix.Explanation:
        """attrix's generation task on the prompt and the forced continuation."""
        explainer = attrix.Explainer(self.model, self.tokenizer, continuation_features=False, **options)
        explanation = explainer({"prompt": self.prompt, "target_text": self.continuation})
        assert [step.id for step in explanation.generation.steps] == self.ids
        return explanation

    @property
    def baseline_id(self) -> int:
        return baseline_id(self.model, self.tokenizer)

    def captum_input(self) -> TextTokenInput:
        bos = self.tokenizer.bos_token_id
        first = self.tokenizer(self.prompt)["input_ids"][0]
        skip = [bos] if bos is not None and first == bos else None
        return TextTokenInput(self.prompt, self.tokenizer, baselines=self.baseline_id, skip_tokens=skip)

    def captum(self, n_steps: int) -> torch.Tensor:
        """captum's LLMGradientAttribution, one IG per continuation token: ``[tokens, prompt features]``."""
        model = self.model
        algorithm = LLMGradientAttribution(LayerIntegratedGradients(model, model.get_input_embeddings()), self.tokenizer)
        return algorithm.attribute(self.captum_input(), target=torch.tensor(self.ids), n_steps=n_steps).token_attr

    def inseq(self, n_steps: int) -> Any:
        """inseq's integrated gradients over the forced continuation, one attribution per generated token."""
        import inseq

        if id(self.model) not in INSEQ_MODELS:
            INSEQ_MODELS[id(self.model)] = inseq.load_model(self.model, "integrated_gradients", tokenizer=self.tokenizer)
        return INSEQ_MODELS[id(self.model)].attribute(
            input_texts=self.prompt, generated_texts=self.prompt + self.continuation, n_steps=n_steps,
            internal_batch_size=n_steps, show_progress=False,
        )

    def step_scores(self) -> tuple[list[float], list[float]]:
        """Each step's log-probability at the prompt and at the baseline prompt (its free tokens replaced by the
        baseline id, the continuation kept), computed here with plain forward passes."""
        inp = self.captum_input()
        prompt_ids = inp.to_model_input().view(-1)
        baseline_ids = inp.to_model_input(torch.zeros_like(inp.to_tensor())).view(-1)
        continuation = torch.tensor(self.ids)
        found = []
        for ids in (prompt_ids, baseline_ids):
            joined = torch.cat([ids, continuation]).unsqueeze(0)
            with torch.no_grad():
                logp = torch.log_softmax(self.model(joined).logits[0].double(), -1)
            positions = torch.arange(len(ids) - 1, len(ids) - 1 + len(self.ids))
            found.append(logp[positions, continuation].tolist())
        return found[0], found[1]


def setup(model: Any, tokenizer: Any, prompt: str, tokens: int) -> Setup:
    """``prompt`` with the model's greedy continuation of ``tokens`` tokens (re-tokenizing to the same ids)."""
    encoding = tokenizer(prompt, return_tensors="pt")
    with torch.no_grad():
        output = model.generate(**encoding, max_new_tokens=tokens, do_sample=False, pad_token_id=tokenizer.eos_token_id)
    ids = output[0, encoding["input_ids"].shape[1] :].tolist()
    text = tokenizer.decode(ids)
    ids = tokenizer(text, add_special_tokens=False)["input_ids"]
    return Setup(model, tokenizer, prompt, text, ids, encoding["input_ids"].shape[1])


def baseline_id(model: Any, tokenizer: Any) -> int:
    """The token id both tools put in place of the prompt's tokens."""
    return attrix.Explainer(model, tokenizer, continuation_features=False).task.baseline_id


def long_prompt(tokenizer: Any, length: int) -> str:
    """``LONG_TEXT`` repeated and cut (whole words) to at most ``length`` tokens."""
    words = (LONG_TEXT * (length // 100 + 2)).split()
    low, high = 1, len(words)
    while low < high:
        middle = (low + high + 1) // 2
        low, high = (middle, high) if len(tokenizer(" ".join(words[:middle]))["input_ids"]) <= length else (low, middle - 1)
    return " ".join(words[:low])


def features(explanation: attrix.Explanation) -> list[int]:
    """The prompt positions captum attributes to (special tokens left out)."""
    kept = set(explanation.generation.kept)
    return [index for index in range(explanation.generation.prompt_length) if index not in kept]


def attrix_matrix(explanation: attrix.Explanation) -> torch.Tensor:
    """Each step's attributions to the prompt's features ``[steps, features]``."""
    columns = features(explanation)
    return torch.tensor([target.token_scores for target in explanation.targets], dtype=torch.float64)[:, columns]


def quality(matrix: torch.Tensor, reference: torch.Tensor, at_x: list[float], at_baseline: list[float]) -> tuple[float, float]:
    """The worst cosine to the reference and the worst relative completeness error over the steps."""
    cosines = [cosine(row.tolist(), ref.tolist()) for row, ref in zip(matrix.double(), reference)]
    errors = [relative_error(float(row.sum()), x, b) for row, x, b in zip(matrix.double(), at_x, at_baseline)]
    return min(cosines), max(errors)


def peak_mib(call: Callable[[], Any]) -> tuple[float, Any]:
    """``call``'s peak resident memory above the memory before it (memory.py's measure), and its result."""
    ready = settle()
    result = call()
    return (rss_kib("VmHWM") - ready) / 1024, result


def fixed_steps(case: Setup, name: str, steps: int, runs: int) -> dict[str, Any]:
    """Both tools at ``steps`` Gauss-Legendre steps: peak memory (first call, also the warm-up), median time."""
    calls = {"attrix": lambda: case.attrix(n_steps=steps), "captum": lambda: case.captum(steps)}
    if inseq_importable():
        calls["inseq"] = lambda: case.inseq(steps)
    memory, made, first = {}, {}, {}
    for tool, call in calls.items():
        first[tool] = timed(lambda: made.setdefault(tool, peak_mib(call)))
        memory[tool], made[tool] = made[tool]
    difference = float((attrix_matrix(made["attrix"]) - made["captum"].double()).abs().max())
    times: dict[str, list[float]] = {tool: [] for tool in calls}
    for _ in range(runs):
        for tool, call in calls.items():
            times[tool].append(timed(call))
    if not runs:
        times = {tool: [seconds] for tool, seconds in first.items()}
    return {
        "case": name, "setting": f"{steps} steps", "attrix": median(times["attrix"]), "captum": median(times["captum"]),
        "inseq": median(times["inseq"]) if "inseq" in times else None,
        "runs": max(runs, 1), "memory": memory, "difference": difference, "load": load_average(), "case_setup": case,
        "steps": steps,
    }


def equal_quality(case: Setup, name: str, budget_s: float) -> dict[str, Any]:
    """attrix ``n_steps="auto"`` against captum at the smallest ``LADDER`` steps meeting the bar, one run each."""
    at_x, at_baseline = case.step_scores()
    found: dict[str, attrix.Explanation] = {}
    seconds = timed(lambda: found.setdefault(
        "reference", case.attrix(n_steps="auto", tolerance=REFERENCE_TOLERANCE, max_steps=REFERENCE_MAX_STEPS)))
    reference = attrix_matrix(found["reference"])
    reference_quality = quality(reference, reference, at_x, at_baseline)
    print(f"reference: {seconds:.0f} s, {found['reference'].settings.get('steps_used')} evals, {reference_quality}", flush=True)
    ours_s = timed(lambda: found.setdefault("attrix", case.attrix(n_steps="auto", max_steps=REFERENCE_MAX_STEPS)))
    ours = quality(attrix_matrix(found["attrix"]), reference, at_x, at_baseline)
    print(f"attrix auto: {ours_s:.1f} s, {found['attrix'].settings.get('steps_used')} evals, {ours}", flush=True)
    ladder, theirs_s, spent = [], None, 0.0
    for steps in LADDER:
        if spent > budget_s:
            break
        made: dict[str, torch.Tensor] = {}
        took = timed(lambda: made.setdefault("captum", case.captum(steps)))
        spent += took
        cos, err = quality(made["captum"].double(), reference, at_x, at_baseline)
        ladder.append((steps, took, cos, err))
        print(f"captum {steps} steps: {took:.1f} s, cos {cos:.5f}, err {err:.2%}", flush=True)
        if cos >= BAR_COSINE and err <= BAR_ERROR:
            theirs_s = took
            break
    return {
        "case": name, "reference_s": seconds, "reference": reference_quality,
        "reference_steps": found["reference"].settings.get("steps_used"), "attrix_s": ours_s, "attrix_quality": ours,
        "attrix_steps": found["attrix"].settings.get("steps_used"), "ladder": ladder, "captum_s": theirs_s,
        "load": load_average(),
    }


def passes(row: dict[str, Any]) -> str:
    """The forward and backward passes each tool runs at fixed steps (attrix's points cut into chunks by the memory
    budget, or the size of the model's weights where that is more: the work is the same however they are cut)."""
    case, steps = row["case_setup"], row["steps"]
    n, full = len(case.ids), case.prompt_tokens + len(case.ids)
    prefixes = sum(case.prompt_tokens + k for k in range(n))
    return (
        f"{row['case']}: attrix a forward of {steps} points × {full} tokens (in chunks), then {n} backward "
        f"passes through each chunk's graph ({n * steps * full} token-points of backward); captum {n} × (1 forward + 1 "
        f"backward) of {steps} points over prefixes of {case.prompt_tokens}…{full - 1} tokens "
        f"({steps * prefixes} token-points each way)"
    )


def inseq_cell(row: dict[str, Any]) -> str:
    """inseq's time, attrix's ratio to it and inseq's peak memory; a dash where inseq did not run."""
    if row.get("inseq") is None:
        return "—"
    return f"{row['inseq']:.1f} ({row['attrix'] / row['inseq']:.3f}, {row['memory']['inseq']:.0f})"


def report(rows: list[dict[str, Any]], quality_rows: list[dict[str, Any]]) -> str:
    lines = [
        "| case | steps / quality | attrix s | captum s | ratio (target) | peak MiB attrix / captum | max abs diff | inseq s (attrix ÷ inseq, peak MiB) | runs | load |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        ratio = row["attrix"] / row["captum"]
        mark = "✓" if ratio <= FIXED_TARGET else "✗"
        lines.append(
            f"| {row['case']} | {row['setting']} | {row['attrix']:.1f} | {row['captum']:.1f} | **{ratio:.3f}** (≤ "
            f"{FIXED_TARGET} {mark}) | {row['memory']['attrix']:.0f} / {row['memory']['captum']:.0f} | "
            f"{row['difference']:.1e} | {inseq_cell(row)} | median of {row['runs']} | {row['load']} |"
        )
    for row in quality_rows:
        cos, err = row["attrix_quality"]
        if row["captum_s"] is None:
            steps = row["ladder"][-1][0] if row["ladder"] else 0
            theirs, ratio = f"not reached by {steps}", "—"
        else:
            theirs = f"{row['captum_s']:.1f}"
            value = row["attrix_s"] / row["captum_s"]
            ratio = f"**{value:.3f}** (≤ {QUALITY_TARGET} {'✓' if value <= QUALITY_TARGET else '✗'})"
        setting = f"bar (attrix auto, {row['attrix_steps']} evals: cos {cos:.5f}, err {err:.2%})"
        lines.append(f"| {row['case']} | {setting} | {row['attrix_s']:.1f} | {theirs} | {ratio} | — | — | — | 1 run | {row['load']} |")
    notes = [""]
    for row in rows:
        notes.append(f"- passes, {passes(row)}")
    for row in quality_rows:
        cos, err = row["reference"]
        notes.append(
            f"- {row['case']} reference: attrix n_steps='auto', tolerance {REFERENCE_TOLERANCE}, max_steps "
            f"{REFERENCE_MAX_STEPS}: {row['reference_steps']} evaluations, {row['reference_s']:.0f} s, its worst "
            f"completeness error {err:.3%}"
        )
        ladder = "; ".join(f"{s} steps {t:.1f} s cos {c:.5f} err {e:.2%}" for s, t, c, e in row["ladder"])
        notes.append(f"- {row['case']} captum ladder (worst step): {ladder}")
    return "\n".join(lines + notes)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="case A at 4 tokens, 1 run, no case B, no quality")
    parser.add_argument("--runs", type=int, default=3, help="timed runs per tool after the warm-up (median)")
    parser.add_argument("--steps", type=int, default=16, help="the equal fixed steps")
    parser.add_argument("--tokens", type=int, default=16, help="continuation tokens of case A (0: no case A)")
    parser.add_argument("--long-prompt", type=int, default=512, help="case B prompt tokens (0: no case B)")
    parser.add_argument("--long-tokens", type=int, default=16, help="case B continuation tokens")
    parser.add_argument("--long-runs", type=int, default=1, help="timed runs of case B (0: the memory call's time)")
    parser.add_argument("--quality-tokens", type=int, default=16, help="continuation tokens of the equal-quality case (0: none)")
    parser.add_argument("--quality-budget", type=float, default=1800, help="captum ladder seconds before giving up")
    parser.add_argument("--no-record", action="store_true", help="print only; do not append to RESULTS.md")
    arguments = parser.parse_args()
    if arguments.quick:
        arguments.tokens, arguments.runs, arguments.long_prompt, arguments.quality_tokens = 4, 1, 0, 0
    torch.set_num_threads(1)
    directory = default_lm_dir()
    model = AutoModelForCausalLM.from_pretrained(directory, dtype=torch.float32).eval()
    tokenizer = AutoTokenizer.from_pretrained(directory)
    rows, quality_rows = [], []
    if arguments.tokens:
        case_a = setup(model, tokenizer, SHORT_PROMPT, arguments.tokens)
        name_a = f"A: {case_a.prompt_tokens}-token prompt, {len(case_a.ids)} tokens"
        print(f"case A continuation {case_a.continuation!r}", flush=True)
        rows.append(fixed_steps(case_a, name_a, arguments.steps, arguments.runs))
        print(report(rows, []), flush=True)
    if arguments.long_prompt:
        case_b = setup(model, tokenizer, long_prompt(tokenizer, arguments.long_prompt), arguments.long_tokens)
        name_b = f"B: {case_b.prompt_tokens}-token prompt, {len(case_b.ids)} tokens"
        rows.append(fixed_steps(case_b, name_b, arguments.steps, arguments.long_runs))
        print(report(rows, []), flush=True)
    if arguments.quality_tokens:
        case_q = setup(model, tokenizer, SHORT_PROMPT, arguments.quality_tokens)
        name_q = f"A: {case_q.prompt_tokens}-token prompt, {len(case_q.ids)} tokens"
        quality_rows.append(equal_quality(case_q, name_q, arguments.quality_budget))
    result = report(rows, quality_rows)
    print(result)
    if not arguments.no_record:
        append_run(
            "Generation",
            f"SmolLM2-135M-Instruct fp32, Gauss-Legendre, baseline token id {baseline_id(model, tokenizer)}.",
            result,
        )


if __name__ == "__main__":
    main()
