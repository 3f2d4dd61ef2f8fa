"""Time attrix's word-level perturbation backends against captum called once per target, and shap's Partition explainer.

    python benchmarks/perturbation.py                  # the table, appended to benchmarks/RESULTS.md
    python benchmarks/perturbation.py --runs 1 --no-record

One torch thread. On the 4-label emotion head (every label) and on NER (every position), attrix's
``shapley_sampling`` (25 permutations) and ``occlusion`` (one word at a time) explain all targets from shared
passes; captum's ShapleyValueSampling and FeatureAblation are called the obvious way, once per target, on the same
input embeddings, word mask, baseline, seed and ``perturbations_per_eval``. The attributions must be identical (the
largest difference per word is reported). Then, on held-out sentences of the embedded sentiment model, shap's
Partition explainer against attrix's ``shapley_sampling``: their times and how often they agree on the top word.
A warm-up of each, then alternating runs; the median is reported.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from statistics import median
from typing import Any, Callable

import torch
from captum.attr import FeatureAblation, ShapleyValueSampling

sys.path.insert(0, str(Path(__file__).resolve().parent))

from cases import EMOTION_TEXT, NER_TEXT, _sentiment, tokens_cut  # noqa: E402
from measure import alternating, append_run, load_average  # noqa: E402

import attrix  # noqa: E402
from helpers.real_heads import emotion_classifier, ner_tagger  # noqa: E402

TARGET_RATIO = 0.3
PER_EVAL = 64
"""Perturbed inputs per forward pass, for attrix and captum alike."""
SAMPLES = 25
SEED = 0


def word_mask(tokenizer: Any, text: str) -> tuple[dict[str, torch.Tensor], torch.Tensor, torch.Tensor]:
    """The encoding of ``text``, its baseline ids (special tokens kept, the rest pad) and each position's word: 0 for
    special tokens, then 1, 2, …, ``[1, seq, 1]``."""
    encoding = tokenizer(text, return_tensors="pt", return_special_tokens_mask=True)
    special = encoding.pop("special_tokens_mask").bool()
    baseline = torch.where(special, encoding["input_ids"], tokenizer.pad_token_id)
    words = torch.tensor([[0 if word is None else word + 1 for word in encoding.word_ids(0)]]).unsqueeze(-1)
    return dict(encoding), baseline, words


def captum_per_target(model: Any, tokenizer: Any, text: str, scores: Callable, targets: list[int], method: str) -> torch.Tensor:
    """captum run once per target on the input embeddings with the words as feature mask: ``[n_targets, n_words + 1]``."""
    encoding, baseline_ids, words = word_mask(tokenizer, text)
    rest = tuple(value for key, value in encoding.items() if key != "input_ids")
    names = [key for key in encoding if key != "input_ids"]
    embeddings = model.get_input_embeddings()

    def forward(embeds: torch.Tensor, *rest: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            return scores(model(inputs_embeds=embeds, **dict(zip(names, rest))).logits)

    with torch.no_grad():
        x, baseline = embeddings(encoding["input_ids"]), embeddings(baseline_ids)
    columns = []
    for target in targets:
        if method == "shapley_sampling":
            torch.manual_seed(SEED)
            algorithm, extra = ShapleyValueSampling(forward), {"n_samples": SAMPLES}
        else:
            algorithm, extra = FeatureAblation(forward), {}
        values = algorithm.attribute(
            x, baselines=baseline, target=target, additional_forward_args=rest, feature_mask=words,
            perturbations_per_eval=PER_EVAL, **extra,
        )
        columns.append(per_word(values[0, :, 0], words[0, :, 0], reduce="first"))
    return torch.stack(columns)


def per_word(values: torch.Tensor, words: torch.Tensor, reduce: str) -> torch.Tensor:
    """Per-position values ``[seq]`` as one value per word id: the sum over its positions, or the first's (captum
    gives every element of a word the word's attribution)."""
    found = torch.zeros(int(words.max()) + 1, dtype=torch.float64)
    for word in range(found.shape[0]):
        own = values[words == word].double()
        found[word] = own.sum() if reduce == "sum" else own[0]
    return found


def attrix_case(model: Any, tokenizer: Any, text: str, task: str, method: str, **options: Any) -> dict[str, Any]:
    """attrix's explainer for the case, and its attributions per word toward every target ``[n_targets, n_words + 1]``."""
    settings = {"n_samples": SAMPLES, "seed": SEED} if method == "shapley_sampling" else {"window": 1}
    explainer = attrix.Explainer(model, tokenizer, task=task, backend=method, perturbations_per_eval=PER_EVAL, **settings, **options)
    prepared = explainer.task.prepare([text], None)
    values = explainer.backend.attribute(prepared.problem).values[0].sum(-1)
    words = prepared.problem.features["word"][0, :, 0]
    return {
        "explainer": explainer,
        "targets": prepared.problem.targets[0].tolist(),
        "per_word": torch.stack([per_word(row, words, "sum") for row in values]),
    }


CASES = {
    "multilabel": ("multi-label emotions, 4 labels", emotion_classifier, "multilabel", torch.sigmoid, {}),
    "ner": ("NER, every position", ner_tagger, "token", lambda logits: torch.softmax(logits, -1).flatten(1), {}),
}


def run_case(name: str, method: str, runs: int) -> dict[str, Any]:
    description, build, task, scores, options = CASES[name]
    model, tokenizer = build()
    text = EMOTION_TEXT if name == "multilabel" else tokens_cut(tokenizer, NER_TEXT, 24)
    ours = attrix_case(model, tokenizer, text, task, method, **options)
    theirs = captum_per_target(model, tokenizer, text, scores, ours["targets"], method)
    difference = float((ours["per_word"] - theirs).abs().max())
    times = alternating(
        {
            "attrix": lambda: ours["explainer"](text),
            "captum": lambda: captum_per_target(model, tokenizer, text, scores, ours["targets"], method),
        },
        runs,
    )
    return {
        "case": f"{description} ({len(ours['targets'])} targets, {len(tokenizer(text)['input_ids'])} tokens)",
        "method": method,
        "attrix": median(times["attrix"]),
        "captum": median(times["captum"]),
        "difference": difference,
        "load": load_average(),
    }


def shap_case(runs: int, n_texts: int) -> dict[str, Any]:
    """shap's Partition explainer against attrix's shapley_sampling on held-out sentences of the sentiment model."""
    import shap

    model, tokenizer = _sentiment()
    path = Path(attrix.__file__).resolve().parent / "api" / "data" / "sentiment_heldout.jsonl"
    texts = [json.loads(line)["text"] for line in path.read_text().splitlines()][:n_texts]
    explainer = attrix.Explainer(model, tokenizer, backend="shapley_sampling", n_samples=SAMPLES, seed=SEED, batch_size=16)

    def probabilities(batch: Any) -> Any:
        encoding = tokenizer(list(batch), padding=True, return_tensors="pt")
        with torch.no_grad():
            return torch.softmax(model(**encoding).logits, -1).numpy()

    partition = shap.Explainer(probabilities, shap.maskers.Text(tokenizer), output_names=["NEGATIVE", "POSITIVE"])
    found: dict[str, Any] = {}

    def ours() -> None:
        found["attrix"] = explainer(texts)

    def theirs() -> None:
        found["shap"] = partition(texts)

    times = alternating({"attrix": ours, "shap": theirs}, runs)
    agree = 0
    for number, explanation in enumerate(found["attrix"]):
        label = 1 if explanation.predicted_label == "POSITIVE" else 0
        top_word = explanation.top_words(1)[0][0].strip().lower()
        values, tokens = found["shap"].values[number][:, label], found["shap"].data[number]
        top_token = str(tokens[int(abs(values).argmax())]).strip().lower()
        agree += bool(top_token) and (top_token in top_word or top_word in top_token)
    return {
        "case": f"sentiment, {len(texts)} held-out sentences",
        "attrix": median(times["attrix"]),
        "shap": median(times["shap"]),
        "agreement": f"{agree}/{len(texts)}",
        "load": load_average(),
    }


def table(rows: list[dict[str, Any]], shap_row: dict[str, Any] | None) -> str:
    lines = [
        "| case | method | attrix s | captum per target s | ratio (target ≤ 0.3) | max abs difference per word | load |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        ratio = row["attrix"] / row["captum"]
        mark = "✓" if ratio <= TARGET_RATIO else "✗"
        lines.append(
            f"| {row['case']} | {row['method']} | {row['attrix']:.2f} | {row['captum']:.2f} | **{ratio:.3f} {mark}** | "
            f"{row['difference']:.1e} | {row['load']} |"
        )
    if shap_row:
        lines += [
            "",
            "| case | attrix shapley_sampling s | shap Partition s | ratio | top word agrees | load |",
            "|---|---|---|---|---|---|",
            f"| {shap_row['case']} | {shap_row['attrix']:.2f} | {shap_row['shap']:.2f} | "
            f"{shap_row['attrix'] / shap_row['shap']:.3f} | {shap_row['agreement']} | {shap_row['load']} |",
        ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="timed runs per tool after a warm-up (median reported)")
    parser.add_argument("--cases", nargs="*", default=list(CASES), choices=list(CASES))
    parser.add_argument("--methods", nargs="*", default=["shapley_sampling", "occlusion"], choices=["shapley_sampling", "occlusion"])
    parser.add_argument("--shap-texts", type=int, default=20, help="held-out sentences for the shap comparison (0: none)")
    parser.add_argument("--no-record", action="store_true", help="print only; do not append to RESULTS.md")
    arguments = parser.parse_args()
    torch.set_num_threads(1)
    rows = []
    for name in arguments.cases:
        for method in arguments.methods:
            rows.append(run_case(name, method, arguments.runs))
            print(table(rows[-1:], None).splitlines()[-1], flush=True)
    shap_row = shap_case(arguments.runs, arguments.shap_texts) if arguments.shap_texts else None
    result = table(rows, shap_row)
    print(result)
    if not arguments.no_record:
        append_run("Perturbation backends", f"median of {arguments.runs}.", result)


if __name__ == "__main__":
    main()
