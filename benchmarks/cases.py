"""The benchmark cases: real MiniLM models, their inputs, and how each tool explains them.

The models are the embedded sentiment model and the heads tests/helpers/real_heads.py trains (imported from tests/, so
the training code lives in one place). Each case runs attrix and transformers-interpret on the same inputs; the
quality of both is measured against attrix with 512 Gauss-Legendre steps, toward the same targets. ``build_case``
builds one case by name, and only its models (``BUILDERS``).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, Callable

import transformers_interpret
from transformers import PreTrainedModel, PreTrainedTokenizerBase

import attrix
from attrix.api.default_model import default_model_dir

TESTS = Path(__file__).resolve().parent.parent / "tests"
sys.path.insert(0, str(TESTS))

from helpers.legacy_comparison import equal_token_types  # noqa: E402
from helpers.real_heads import (  # noqa: E402
    EMOTIONS,
    HYPOTHESIS,
    emotion_classifier,
    ner_tagger,
    nli_classifier,
)

REFERENCE_STEPS = 512
LONG_REVIEW = (
    "I went to see this film on a rainy Sunday afternoon with two friends who had read the novel, and I have to say "
    "that the first hour was a real pleasure: the photography is beautiful, the music is wonderful and the lead "
    "actress gives a warm, funny and moving performance that carries every scene she is in. Sadly the second half "
    "falls apart. The plot becomes confusing, the dialogue turns silly and the villain is so boring that we were "
    "checking our phones long before the end. The final twist is predictable and the last twenty minutes drag on "
    "forever. Still, for the acting and the lovely images of the coast, I would recommend it to anyone who enjoys a "
    "slow romantic drama, as long as they do not expect too much from the story itself, which is weak."
)
EMOTION_TEXT = "My sister felt happy and surprised when the letter arrived, but later she was angry and a little scared."
NER_TEXT = (
    "Anna Smith moved from Paris to Berlin last year, and yesterday John Garcia flew to Madrid, where Maria Rossi "
    "and Peter Dubois met David Tanaka near Rome before Laura Nguyen and Omar Haddad drove to Vienna and Prague."
)
TOPIC_TEXT = "We talked about the football match and the new stadium for hours."
TOPIC_LABELS = ["sports", "politics", "food", "music"]


def tokens_cut(tokenizer: PreTrainedTokenizerBase, text: str, length: int) -> str:
    """The longest prefix of ``text`` (whole words) that encodes to at most ``length`` tokens, special ones included."""
    words = text.split()
    while len(tokenizer(" ".join(words))["input_ids"]) > length:
        words.pop()
    return " ".join(words)


@dataclass
class Target:
    """One explained target: its token scores, score and baseline score."""

    scores: list[float]
    score: float
    baseline_score: float
    delta: float


@dataclass
class Case:
    """A benchmark case: how attrix (at its steps and at fixed steps, if any) and transformers-interpret explain its inputs."""

    name: str
    description: str
    attrix: Callable[[], list[attrix.Explanation]]
    fixed: Callable[[], list[attrix.Explanation]] | None
    legacy: Callable[[], Any]
    reference: Callable[[], list[attrix.Explanation]]
    last: list[list[attrix.Explanation]] = field(default_factory=list)

    def steps_used(self) -> str:
        """The range of steps attrix's last run took per explanation."""
        used = [explanation.settings.get("steps_used", explanation.settings["n_steps"]) for explanation in self.last[-1]]
        return f"{min(used)}–{max(used)}" if min(used) != max(used) else str(used[0])


@dataclass
class Setup:
    """What a case explains: the model, its tokenizer, the inputs and attrix options, and transformers-interpret's call."""

    description: str
    model: PreTrainedModel
    tokenizer: PreTrainedTokenizerBase
    inputs: list[Any]
    options: dict[str, Any]
    legacy: Callable[[], Any]


def targets_of(explanations: list[attrix.Explanation], keys: Callable[[attrix.Explanation], list[Any]]) -> list[Target]:
    """Every target of ``explanations`` in transformers-interpret's order: explanation by explanation, key by key."""
    found = []
    for explanation in explanations:
        by_key = dict(zip(target_keys(explanation), explanation.targets))
        for key in keys(explanation):
            target = by_key[key]
            found.append(Target(target.token_scores, target.score, target.baseline_score, target.delta))
    return found


def target_keys(explanation: attrix.Explanation) -> list[Any]:
    """How a target of ``explanation`` is named: its position for token tasks, else its label."""
    return [target.position if target.position is not None else target.label for target in explanation.targets]


def legacy_keys(explanation: attrix.Explanation) -> list[Any]:
    """The targets of ``explanation`` in the order transformers-interpret explains them: candidate labels as given."""
    return explanation.inputs.get("candidate_labels") or target_keys(explanation)


def explainer(model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, n_steps: int | str, **options: Any) -> attrix.Explainer:
    """An attrix explainer (``layer_ig`` at the word embeddings, as transformers-interpret explains)."""
    return attrix.Explainer(model, tokenizer, n_steps=n_steps, **options)


def build_case(name: str, n_texts: int, steps: int | str = "auto", fixed_steps: int = 0) -> Case:
    """The case ``name`` alone (only its models built), with ``steps`` for attrix and a second attrix at ``fixed_steps`` (0: none)."""
    return _case(name, BUILDERS[name](n_texts), steps, fixed_steps)


def steps_option(text: str) -> int | str:
    """An ``n_steps`` given on the command line: ``"auto"`` or a number."""
    return text if text == "auto" else int(text)


@cache
def _sentiment() -> tuple[PreTrainedModel, PreTrainedTokenizerBase]:
    """The embedded sentiment model and its tokenizer, loaded once for the sequence and batch cases."""
    sentiment = attrix.Explainer(str(default_model_dir()))
    return sentiment.model, sentiment.task.tokenizer


def _sequence(n_texts: int) -> Setup:
    model, tokenizer = _sentiment()
    text = tokens_cut(tokenizer, LONG_REVIEW, 138)
    legacy = transformers_interpret.SequenceClassificationExplainer(model, tokenizer)
    return Setup(f"sequence classification, {_count(tokenizer, text)}-token text", model, tokenizer, [text], {},
                 lambda: legacy(text))


def _multilabel(n_texts: int) -> Setup:
    model, tokenizer = emotion_classifier()
    legacy = transformers_interpret.MultiLabelClassificationExplainer(model, tokenizer)
    return Setup(f"multi-label, {len(EMOTIONS)} labels", model, tokenizer, [EMOTION_TEXT], {}, lambda: legacy(EMOTION_TEXT))


def _ner(n_texts: int) -> Setup:
    model, tokenizer = ner_tagger()
    text = tokens_cut(tokenizer, NER_TEXT, 42)
    legacy = transformers_interpret.TokenClassificationExplainer(model, tokenizer)
    return Setup(f"NER, {_count(tokenizer, text)}-token sentence, every position", model, tokenizer, [text],
                 {"special_tokens": True}, lambda: legacy(text))


def _zero_shot(n_texts: int) -> Setup:
    model, tokenizer = nli_classifier()
    model = equal_token_types(model)
    legacy = transformers_interpret.ZeroShotClassificationExplainer(model, tokenizer)
    options = dict(task="zero_shot", hypothesis_template=HYPOTHESIS, include_hypothesis=True)
    return Setup(f"zero-shot, {len(TOPIC_LABELS)} candidate labels", model, tokenizer,
                 [{"text": TOPIC_TEXT, "candidate_labels": TOPIC_LABELS}], options,
                 lambda: legacy(TOPIC_TEXT, TOPIC_LABELS, hypothesis_template=HYPOTHESIS, include_hypothesis=True))


def _batch(n_texts: int) -> Setup:
    model, tokenizer = _sentiment()
    texts = [row["text"] for row in _sentiment_rows()][:n_texts]
    legacy = transformers_interpret.SequenceClassificationExplainer(model, tokenizer)
    return Setup(f"{len(texts)} texts batched vs one at a time", model, tokenizer, texts, {"batch_size": 64},
                 lambda: [legacy(text) for text in texts])


BUILDERS: dict[str, Callable[[int], Setup]] = {
    "sequence": _sequence, "multilabel": _multilabel, "ner": _ner, "zero_shot": _zero_shot, "batch": _batch,
}
"""How each case is built, by name, given the number of texts of the batch case."""


def _count(tokenizer: PreTrainedTokenizerBase, text: str) -> int:
    return len(tokenizer(text)["input_ids"])


def _sentiment_rows() -> list[dict[str, str]]:
    import json

    path = Path(attrix.__file__).resolve().parent / "data" / "sentiment.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _case(name: str, setup: Setup, steps: int | str, fixed_steps: int) -> Case:
    model, tokenizer, inputs, options = setup.model, setup.tokenizer, setup.inputs, setup.options
    ours = explainer(model, tokenizer, steps, **options)
    fixed = explainer(model, tokenizer, fixed_steps, method="gausslegendre", **options) if fixed_steps else None
    reference = explainer(model, tokenizer, REFERENCE_STEPS, internal_batch_size=64, **options)
    last: list[list[attrix.Explanation]] = []

    def run() -> list[attrix.Explanation]:
        last[:] = [ours(inputs)]
        return last[0]

    at_fixed = (lambda: fixed(inputs)) if fixed else None
    return Case(name, setup.description, run, at_fixed, setup.legacy, lambda: reference(inputs), last)
