"""The benchmark cases: real MiniLM models, their inputs, and how each tool explains them.

The models are the embedded sentiment model and the heads tests/helpers/real_heads.py trains (imported from tests/, so
the training code lives in one place). Each case runs attrix and transformers-interpret on the same inputs; the
quality of both is measured against attrix with 512 Gauss-Legendre steps, toward the same targets. ``build_case``
builds one case by name, and only its models (``BUILDERS``). transformers-interpret can be called at any number of
steps (``Case.legacy_at``), 50 by default as its own default.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path
from typing import Any, Callable

import torch
import transformers_interpret
from transformers import PreTrainedModel, PreTrainedTokenizerBase
from transformers_interpret.explainers.text import multilabel_classification

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
    qa_reader,
)

REFERENCE_STEPS = 512
LEGACY_STEPS = 50
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
QA_QUESTION = "Who works in Prague?"
QA_CONTEXT = (
    "Every morning Peter Dubois takes the bus to work in Prague, where he has lived since he left the small village "
    "near the coast in which he grew up with his three sisters."
)


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
    legacy_at: Callable[[int], Any]
    reference: Callable[[], list[attrix.Explanation]]
    last: list[list[attrix.Explanation]] = field(default_factory=list)

    def steps_used(self) -> str:
        """The range of steps attrix's last run took per explanation."""
        used = [explanation.settings.get("steps_used", explanation.settings["n_steps"]) for explanation in self.last[-1]]
        return f"{min(used)}–{max(used)}" if min(used) != max(used) else str(used[0])


@dataclass
class Setup:
    """What a case explains: the model, its tokenizer, the inputs and attrix options, and transformers-interpret's call at n_steps."""

    description: str
    model: PreTrainedModel
    tokenizer: PreTrainedTokenizerBase
    inputs: list[Any]
    options: dict[str, Any]
    legacy: Callable[[int], Any]


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
    """How a target of ``explanation`` is named: its label, with its position for token tasks (a QA answer's start and end may share one)."""
    return [target.label if target.position is None else (target.label, target.position) for target in explanation.targets]


def legacy_keys(explanation: attrix.Explanation) -> list[Any]:
    """The targets of ``explanation`` in the order transformers-interpret explains them: candidate labels as given."""
    return explanation.inputs.get("candidate_labels") or target_keys(explanation)


def explainer(model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, n_steps: int | str, **options: Any) -> attrix.Explainer:
    """An attrix explainer (``layer_ig`` at the word embeddings, as transformers-interpret explains)."""
    return attrix.Explainer(model, tokenizer, n_steps=n_steps, **options)


def build_case(name: str, n_texts: int, steps: int | str = "auto", fixed_steps: int = 0, **options: Any) -> Case:
    """The case ``name`` alone (only its models built), with ``steps`` for attrix and a second attrix at ``fixed_steps``
    (0: none); ``options`` (``batch_size``, ``memory_budget``) replace the case's own for attrix."""
    setup = BUILDERS[name](n_texts)
    return _case(name, replace(setup, options={**setup.options, **options}), steps, fixed_steps)


def steps_option(text: str) -> int | str:
    """An ``n_steps`` given on the command line: ``"auto"`` or a number."""
    return text if text == "auto" else int(text)


@cache
def _sentiment() -> tuple[PreTrainedModel, PreTrainedTokenizerBase]:
    """The embedded sentiment model and its tokenizer, loaded once for the sequence and batch cases.

    Its token-type embeddings are made equal: transformers-interpret gives a single text's last [SEP] type 1, which
    moves both ends of its path off the model's own inputs (10% of the sequence case's score change) whatever its
    steps; a single text uses type 0 only, so nothing else changes.
    """
    sentiment = attrix.Explainer(str(default_model_dir()))
    return equal_token_types(sentiment.model), sentiment.task.tokenizer


def _sequence(n_texts: int) -> Setup:
    model, tokenizer = _sentiment()
    text = tokens_cut(tokenizer, LONG_REVIEW, 138)
    legacy = transformers_interpret.SequenceClassificationExplainer(model, tokenizer)
    return Setup(f"sequence classification, {_count(tokenizer, text)}-token text", model, tokenizer, [text], {},
                 lambda steps: legacy(text, n_steps=steps))


def _multilabel(n_texts: int) -> Setup:
    model, tokenizer = emotion_classifier()
    model = equal_token_types(model)  # as for the sentiment model (_sentiment)
    legacy = transformers_interpret.MultiLabelClassificationExplainer(model, tokenizer)

    def at_steps(steps: int) -> Any:
        with label_explainers_at(steps):
            return legacy(EMOTION_TEXT)

    return Setup(f"multi-label, {len(EMOTIONS)} labels", model, tokenizer, [EMOTION_TEXT], {}, at_steps)


def _ner(n_texts: int) -> Setup:
    model, tokenizer = ner_tagger()
    model = equal_token_types(model)  # as for the sentiment model (_sentiment)
    text = tokens_cut(tokenizer, NER_TEXT, 42)
    legacy = transformers_interpret.TokenClassificationExplainer(model, tokenizer)
    return Setup(f"NER, {_count(tokenizer, text)}-token sentence, every position", model, tokenizer, [text],
                 {"special_tokens": True}, lambda steps: legacy(text, n_steps=steps))


def _zero_shot(n_texts: int) -> Setup:
    model, tokenizer = nli_classifier()
    model = equal_token_types(model)
    legacy = transformers_interpret.ZeroShotClassificationExplainer(model, tokenizer)
    options = dict(task="zero_shot", hypothesis_template=HYPOTHESIS, include_hypothesis=True)
    return Setup(f"zero-shot, {len(TOPIC_LABELS)} candidate labels", model, tokenizer,
                 [{"text": TOPIC_TEXT, "candidate_labels": TOPIC_LABELS}], options,
                 lambda steps: legacy(TOPIC_TEXT, TOPIC_LABELS, hypothesis_template=HYPOTHESIS, include_hypothesis=True, n_steps=steps))


def _qa(n_texts: int) -> Setup:
    """The answer's start and end logits, at the word embeddings (transformers-interpret: ``embedding_type=0``)."""
    model, tokenizer = qa_reader()
    model = equal_token_types(model)
    pair = (QA_QUESTION, QA_CONTEXT)
    answer = attrix.Explainer(model, tokenizer, task="qa", n_steps=1)([pair])[0].details
    legacy = AnswerSpanQuestionAnswering(model, tokenizer)
    legacy.positions = (answer["start_token"], answer["end_token"])
    return Setup(f"QA, {_count(tokenizer, *pair)}-token pair, start and end of {answer['answer']!r}", model, tokenizer,
                 [pair], {"task": "qa"}, lambda steps: legacy(*pair, embedding_type=0, n_steps=steps))


def _pairwise(n_texts: int) -> Setup:
    """The NLI head as a cross-encoder: the premise and a hypothesis, toward the predicted class's probability."""
    model, tokenizer = nli_classifier()
    model = equal_token_types(model)
    pair = (TOPIC_TEXT, HYPOTHESIS.format(TOPIC_LABELS[0]))
    legacy = transformers_interpret.PairwiseSequenceClassificationExplainer(model, tokenizer)
    legacy.tokenizer = PairEncoding(tokenizer)
    return Setup(f"pairwise, {_count(tokenizer, *pair)}-token pair", model, tokenizer, [pair], {"task": "pairwise"},
                 lambda steps: legacy(*pair, n_steps=steps))


def _batch(n_texts: int) -> Setup:
    model, tokenizer = _sentiment()
    texts = [row["text"] for row in _sentiment_rows()][:n_texts]
    legacy = transformers_interpret.SequenceClassificationExplainer(model, tokenizer)
    return Setup(f"{len(texts)} texts batched vs one at a time", model, tokenizer, texts, {"batch_size": 64},
                 lambda steps: [legacy(text, n_steps=steps) for text in texts])


BUILDERS: dict[str, Callable[[int], Setup]] = {
    "sequence": _sequence, "multilabel": _multilabel, "ner": _ner, "zero_shot": _zero_shot, "qa": _qa,
    "pairwise": _pairwise, "batch": _batch,
}
"""How each case is built, by name, given the number of texts of the batch case."""


@contextmanager
def label_explainers_at(steps: int) -> Iterator[None]:
    """transformers-interpret's multi-label explainer at ``steps`` in the block: it explains each label with a
    ``SequenceClassificationExplainer`` of its own at that class's 50 steps, whatever ``n_steps`` it is given."""
    original = multilabel_classification.SequenceClassificationExplainer

    class AtSteps(original):  # type: ignore[misc, valid-type]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.n_steps = steps

    multilabel_classification.SequenceClassificationExplainer = AtSteps
    try:
        yield
    finally:
        multilabel_classification.SequenceClassificationExplainer = original


class AnswerSpanQuestionAnswering(transformers_interpret.QuestionAnsweringExplainer):
    """transformers-interpret's QA explainer toward the logits at the answer's ``positions`` (start, end) all along the
    path, as attrix explains, instead of the largest logit wherever it is at each point (the same passes)."""

    positions = (0, 0)

    def _forward(self, input_ids: torch.Tensor, token_type_ids: torch.Tensor | None = None,
                 position_ids: torch.Tensor | None = None, attention_mask: torch.Tensor | None = None) -> torch.Tensor:
        logits = self._get_preds(input_ids, token_type_ids, position_ids, attention_mask)[self.position]
        return logits[:, self.positions[self.position]]


class PairEncoding:
    """A tokenizer whose ``encode([text, pair])`` encodes the pair, as transformers-interpret expects (before transformers 5)."""

    def __init__(self, tokenizer: PreTrainedTokenizerBase) -> None:
        self.tokenizer = tokenizer

    def __getattr__(self, name: str) -> Any:
        return getattr(self.tokenizer, name)

    def encode(self, text: str | list[str], **options: Any) -> list[int]:
        return self.tokenizer.encode(*text, **options) if isinstance(text, list) else self.tokenizer.encode(text, **options)


def _count(tokenizer: PreTrainedTokenizerBase, text: str, pair: str | None = None) -> int:
    return len(tokenizer(text, pair)["input_ids"])


def _sentiment_rows() -> list[dict[str, str]]:
    import json

    path = Path(attrix.__file__).resolve().parent / "api" / "data" / "sentiment.jsonl"
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
    return Case(name, setup.description, run, at_fixed, lambda: setup.legacy(LEGACY_STEPS), setup.legacy,
                lambda: reference(inputs), last)
