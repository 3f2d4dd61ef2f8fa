"""Time attrix's comprehensiveness and sufficiency against ferret-xai's AOPC evaluators on the same attributions.

    /tmp/ferret-venv/bin/python benchmarks/metrics.py                 # 256 texts, median of 3, appended to RESULTS.md
    /tmp/ferret-venv/bin/python benchmarks/metrics.py --texts 16 --runs 1 --no-record

It needs ferret-xai 0.4.2 importable next to attrix (a separate environment: see benchmarks/README.md). One torch
thread. Reviews of the embedded sentiment model, made by joining held-out sentences whose tokens are whole words
(ferret decodes what is left of a text and tokenizes it again: whole words keep their ids), are explained once by
attrix (``layer_ig``, a fixed number of steps, every target). Those token attributions are given to ferret's
``AOPC_Comprehensiveness_Evaluation`` and ``AOPC_Sufficiency_Evaluation`` (its default options: top 10%, 20%, ...,
100% of the tokens with a positive score deleted or kept alone, [CLS] and [SEP] left out) for every text and target,
and the same explanations to ``attrix.evaluate(..., ["comprehensiveness", "sufficiency"], removal="delete",
features="token", reference=False)``, which measures the explanations' own attributions; it is timed again with the
random-ranking reference (``reference=True``, attrix's default: twice the variants). A warm-up of each, then
alternating runs; the medians, attrix ÷ ferret and the largest difference of the values are reported.
"""

from __future__ import annotations

import argparse
import json
import platform
import shlex
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from statistics import median
from typing import Any

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

from measure import alternating, load_average  # noqa: E402

import attrix  # noqa: E402
from attrix.api.default_model import default_model_dir  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
HELDOUT = Path(attrix.__file__).resolve().parent / "api" / "data" / "sentiment_heldout.jsonl"
METRICS = ("comprehensiveness", "sufficiency")
TARGET_RATIO = 0.2
FERRET_CONVENTION = {"comprehensiveness": 0.0, "sufficiency": 1.0}
"""What ferret returns for a target without any positive score (no rationale to remove)."""


def whole_word_sentences(tokenizer: Any) -> list[str]:
    """The held-out sentences none of whose tokens is a word piece (``##...``)."""
    texts = [json.loads(line)["text"] for line in HELDOUT.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [text for text in texts if not any(token.startswith("##") for token in tokenizer.tokenize(text))]


def reviews(sentences: list[str], count: int) -> list[str]:
    """``count`` reviews of 2 to 4 sentences, chosen deterministically: review i starts at sentence i and steps by a
    stride that grows with each pass over the sentences, so that the reviews differ."""
    made = []
    for number in range(count):
        stride = 1 + number // len(sentences)
        length = 2 + number % 3
        made.append(" ".join(sentences[(number + part * stride) % len(sentences)] for part in range(length)))
    return made


def ferret_explanations(texts: list[str], explanations: list[attrix.Explanation]) -> list[tuple[int, int, Any]]:
    """Each text's attributions toward each target as ferret's ``Explanation``: (text number, target column, it)."""
    from ferret.explainers.explanation import Explanation

    made = []
    for number, (text, explanation) in enumerate(zip(texts, explanations)):
        for column, target in enumerate(explanation.targets):
            scores = np.array(target.token_scores)
            made.append((number, column, Explanation(text, explanation.tokens, scores, "attrix layer_ig", target.index)))
    return made


def ferret_values(evaluators: dict[str, Any], made: list[tuple[int, int, Any]]) -> dict[tuple[str, int, int], float]:
    """ferret's value of each metric for each (text, target), with its default options."""
    return {
        (name, number, column): float(evaluator.compute_evaluation(explanation, target=explanation.target).score)
        for number, column, explanation in made
        for name, evaluator in evaluators.items()
    }


def attrix_values(evaluation: attrix.Evaluation) -> dict[tuple[str, int, int], float]:
    """attrix's value of each metric for each (text, target)."""
    return {
        (name, number, column): float(value)
        for number, explanation in enumerate(evaluation.explanations)
        for name in METRICS
        for column, value in enumerate(explanation.metrics[name]["values"])
    }


def compare(
    ours: dict[tuple[str, int, int], float], theirs: dict[tuple[str, int, int], float], explanations: list[attrix.Explanation]
) -> dict[str, Any]:
    """The largest difference over the targets with a positive score, the texts differing by more than 1e-5, and the
    targets left out (no positive score: ferret returns a convention)."""
    differences, differing, conventions = [], set(), 0
    for (name, number, column), value in theirs.items():
        if max(explanations[number].targets[column].token_scores[1:-1]) <= 0:
            conventions += 1
            continue
        difference = abs(ours[(name, number, column)] - value)
        differences.append(difference)
        if difference > 1e-5:
            differing.add(number)
    return {"max_difference": max(differences, default=float("nan")), "differing": sorted(differing),
            "compared": len(differences), "conventions": conventions}


def measure(n_texts: int, runs: int, steps: int) -> dict[str, Any]:
    """Explain the reviews once, then time both tools on those attributions and compare their values."""
    import ferret

    explainer = attrix.Explainer(str(default_model_dir()), n_steps=steps, batch_size=64)
    tokenizer = explainer.task.tokenizer
    sentences = whole_word_sentences(tokenizer)
    texts = reviews(sentences, n_texts)
    explanations = explainer(texts, target="all")
    made = ferret_explanations(texts, explanations)
    evaluators = {
        "comprehensiveness": ferret.AOPC_Comprehensiveness_Evaluation(explainer.model, tokenizer),
        "sufficiency": ferret.AOPC_Sufficiency_Evaluation(explainer.model, tokenizer),
    }
    found: dict[str, Any] = {}

    def ours(reference: bool) -> None:
        found["attrix"] = attrix.evaluate(
            explanations, explainer, list(METRICS), removal="delete", features="token", reference=reference
        )

    def theirs() -> None:
        found["ferret"] = ferret_values(evaluators, made)

    times = alternating({"attrix": lambda: ours(False), "ferret": theirs, "with random": lambda: ours(True)}, runs)
    lengths = [len(tokenizer(text)["input_ids"]) for text in texts]
    return {
        "texts": len(texts),
        "sentences": len(sentences),
        "tokens": f"{min(lengths)}–{max(lengths)} (mean {np.mean(lengths):.0f})",
        "targets": len(made),
        "attrix": median(times["attrix"]),
        "ferret": median(times["ferret"]),
        "with random": median(times["with random"]),
        "explaining": found["attrix"].explain_seconds,
        **compare(attrix_values(found["attrix"]), found["ferret"], explanations),
        "load": load_average(),
    }


def machine() -> str:
    """The CPU, the Python, torch and ferret versions."""
    from importlib.metadata import version

    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("model name")), platform.processor())
    return (f"{cpu}, 2 cores shared, {torch.get_num_threads()} torch thread(s), Python {platform.python_version()}, "
            f"torch {torch.__version__}, ferret-xai {version('ferret-xai')}")


def table(row: dict[str, Any], runs: int) -> str:
    """The result as a Markdown table."""
    ratio = row["attrix"] / row["ferret"]
    mark = "✓" if ratio <= TARGET_RATIO else "✗"
    differing = f"{len(row['differing'])}" + (f" ({', '.join(map(str, row['differing'][:10]))})" if row["differing"] else "")
    lines = [
        "| texts (tokens) | targets compared / ferret's convention | runs | attrix s (of it preparing) | ferret s | attrix ÷ ferret | attrix with the random reference s (÷ ferret) | max abs difference | texts differing > 1e-5 | load avg |",
        "|---|---|---|---|---|---|---|---|---|---|",
        f"| {row['texts']} ({row['tokens']}) | {row['compared']} / {row['conventions']} | median of {runs} | "
        f"{row['attrix']:.2f} ({row['explaining']:.2f}) | {row['ferret']:.2f} | **{ratio:.3f}** (≤ {TARGET_RATIO} {mark}) | "
        f"{row['with random']:.2f} ({row['with random'] / row['ferret']:.3f}) | "
        f"{row['max_difference']:.1e} | {differing} | {row['load']} |",
    ]
    return "\n".join(lines)


def report(row: dict[str, Any], arguments: argparse.Namespace, argv: list[str], seconds: float) -> str:
    """The Markdown section appended to RESULTS.md."""
    return "\n".join([
        f"## Faithfulness metrics against ferret-xai, {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC",
        "",
        f"- machine: {machine()}",
        f"- command: `/tmp/ferret-venv/bin/python {shlex.join(['benchmarks/metrics.py', *argv])}`",
        f"- {row['texts']} reviews of 2 to 4 of the {row['sentences']} held-out sentences made only of whole words, "
        f"explained once by attrix (`layer_ig`, n_steps={arguments.steps}, every target); ferret's "
        "`AOPC_Comprehensiveness_Evaluation` + `AOPC_Sufficiency_Evaluation` (default options) on those token "
        "attributions, text by text and target by target, against `attrix.evaluate(explanations, explainer, "
        "[\"comprehensiveness\", \"sufficiency\"], removal=\"delete\", features=\"token\", reference=False)`, which "
        "measures the explanations' own attributions (the seconds preparing the texts in brackets), and again with "
        "the random-ranking reference (`reference=True`, the default); a warm-up of each, then alternating runs",
        f"- differences over the targets with a positive score; a target without one gets ferret's convention "
        f"(0 and 1) and is left out; total wall time {seconds:.0f} s",
        "",
        table(row, arguments.runs),
        "",
    ])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texts", type=int, default=256, help="reviews to evaluate (default 256)")
    parser.add_argument("--runs", type=int, default=3, help="timed runs of each tool after a warm-up (default 3)")
    parser.add_argument("--steps", type=int, default=16, help="attrix layer_ig steps for the attributions (default 16)")
    parser.add_argument("--no-record", action="store_true", help=f"print only; do not append to {RESULTS.name}")
    given = argv if argv is not None else sys.argv[1:]
    arguments = parser.parse_args(given)
    torch.set_num_threads(1)
    started = time.time()
    row = measure(arguments.texts, arguments.runs, arguments.steps)
    text = report(row, arguments, given, time.time() - started)
    print(text)
    if not arguments.no_record:
        with RESULTS.open("a", encoding="utf-8") as results:
            results.write("\n" + text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
