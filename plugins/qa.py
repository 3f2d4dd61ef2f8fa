"""``qa``: extractive question answering, the predicted answer's start and end explained toward their logits."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Annotated, Any

import torch
from annotated_types import Ge
from transformers import (
    AutoModelForQuestionAnswering,
    BatchEncoding,
    PreTrainedModel,
    PreTrainedTokenizerBase,
)

from attrix.contracts.backend import Attributions
from attrix.contracts.explanation import Explanation
from attrix.contracts.hookspecs import hookimpl
from attrix.contracts.inputs import InputField
from attrix.contracts.targets import Target, resolve_targets
from attrix.contracts.task import Prepared
from attrix.errors import InputError, InputTypeError
from attrix.plugins.span_decoding import best_span, span_probabilities
from attrix.text.encoding import check_text
from attrix.text.task import TextTask
from attrix.text.windows import placed_attributions

ENDS = {0: "start", 1: "end"}
CONTEXT = 1
"""The sequence id of the context: the question is encoded first."""


@dataclass(frozen=True)
class Answer:
    """The decoded answer of one input: its first and last token (padded positions) and its characters in the context."""

    first: int
    last: int
    start: int
    end: int
    text: str
    start_probability: float
    end_probability: float

    @property
    def score(self) -> float:
        """The span's probability, as the pipeline ranks answers."""
        return self.start_probability * self.end_probability


def question_and_context(item: Any) -> tuple[Any, Any]:
    """The question and context of a ``(question, context)`` tuple or a ``{"question", "context"}`` dict."""
    names = QuestionAnswering.input_names()
    if isinstance(item, dict):
        if sorted(map(str, item)) != sorted(names):
            keys = " and ".join(map(repr, names))
            raise InputError(f"a qa input dict needs exactly the keys {keys}, got {sorted(map(str, item))}")
        return item[names[0]], item[names[1]]
    if isinstance(item, tuple) and len(item) == 2:
        return item
    raise InputTypeError(
        f"a qa input is a (question, context) tuple or a dict with keys 'question' and 'context', "
        f"got {type(item).__name__} {item!r:.80}"
    )


class QuestionAnswering(TextTask):
    """Extractive question answering: which words make the model start and end its answer where it does.

    Inputs are ``(question, context)`` tuples or ``{"question": ..., "context": ...}`` dicts, encoded as the
    tokenizer's pair (a long context is truncated, never the question). The answer is the best span by SQuAD
    decoding (the largest start + end logit over context spans of at most ``max_answer_len`` tokens), and its
    start and end are explained toward their logits (as transformers-interpret does), both from one problem whose
    outputs are the start logits then the end logits. ``target`` is ``"start"``, ``"end"`` or ``"all"`` (default).
    """

    name = "qa"
    heads = ("ForQuestionAnswering",)
    auto_model = AutoModelForQuestionAnswering
    inputs = (
        InputField("question", str, "the question to answer from the context", "line", "Where does Anna live?"),
        InputField("context", str, "the text the answer is taken from", "area", "Anna lives in Berlin and works in Paris."),
    )

    def __init__(
        self,
        model: PreTrainedModel,
        processor: PreTrainedTokenizerBase,
        *,
        max_answer_len: Annotated[int, Ge(1)] = 15,
        **options: Any,
    ) -> None:
        super().__init__(model, processor, **options)
        self.max_answer_len = max_answer_len

    @classmethod
    def target_names(cls, values: Mapping[str, Any], labels: Sequence[str]) -> tuple[str, ...]:
        """The answer's ends, ``start`` and ``end``, whatever the model's labels."""
        return tuple(ENDS.values())

    def check(self, item: Any) -> tuple[str, str]:
        question, context = question_and_context(item)
        check_text(question, "question")
        check_text(context, "context")
        if not self.tokenizer(context, add_special_tokens=False)["input_ids"]:
            raise InputError(f"the context {context!r:.80} gives no tokens to answer from")
        if self.limit is not None:
            used = len(self.tokenizer(question, add_special_tokens=False)["input_ids"])
            used += self.tokenizer.num_special_tokens_to_add(pair=True)
            if used >= self.limit:
                raise InputError(
                    f"the question takes {used} of the model's {self.limit} tokens (special tokens included), "
                    f"leaving none for the context; shorten the question"
                )
        return question, context

    def length(self, item: tuple[str, str]) -> int:
        return len(item[0]) + len(item[1])

    def scores(self, **inputs: torch.Tensor) -> torch.Tensor:
        """The start logits then the end logits: ``[batch, 2 * seq]``."""
        output = self.model(**inputs)
        return torch.cat([output.start_logits, output.end_logits], dim=1)

    def prepare(self, items: list[tuple[str, str]], target: Target) -> Prepared:
        questions, contexts = [question for question, _ in items], [context for _, context in items]
        ends = resolve_targets(target, ENDS, [0, 1])
        if self.windowed:
            return self._prepare_windows(items, ends)
        encoding, inputs, baselines = self.encode(questions, contexts, truncation="only_second")
        prediction = self.predict(inputs, baselines)
        logits = prediction.outputs.cpu()
        answers = [self._answer(encoding, row, logits[row], contexts[row]) for row in range(len(items))]
        targets = end_targets(answers, ends, inputs["input_ids"].shape[1])
        return Prepared(
            self.problem(inputs, baselines, targets, prediction, self.features(encoding)),
            (items, encoding, answers, ends, None),
        )

    def _prepare_windows(self, items: list[tuple[str, str]], ends: list[int]) -> Prepared:
        """``prepare`` for windows: the context cut into windows with ``stride`` tokens of overlap (the pipeline's
        ``doc_stride``), the best span over all of them by its probability, and only its window explained."""
        windowed, inputs, baselines = self.encode_windows(*zip(*items), cut=CONTEXT)
        prediction = self.predict(inputs, baselines)
        logits = prediction.outputs.cpu()
        found = [(self._answer(windowed.windows, w.row, logits[w.row], items[w.item][1]), w) for w in windowed.parts]
        best = [
            max((pair for pair in found if pair[1].item == item), key=lambda pair: pair[0].score) for item in range(len(items))
        ]
        rows = torch.tensor([window.row for _, window in best])
        features = {name: groups[rows] for name, groups in self.features(windowed.windows).items()}
        targets = end_targets([answer for answer, _ in best], ends, inputs["input_ids"].shape[1])
        problem = self.problem(
            {key: value[rows] for key, value in inputs.items()},
            {key: value[rows] for key, value in baselines.items()},
            targets,
            prediction.rows(rows),
            features,
        )
        whole = [
            replace(answer, first=window.whole_of(answer.first), last=window.whole_of(answer.last)) for answer, window in best
        ]
        picks = [[(item, column, window) for column in range(len(ends))] for item, (_, window) in enumerate(best)]
        return Prepared(problem, (items, windowed, whole, ends, picks))

    def _answer(self, encoding: BatchEncoding, row: int, logits: torch.Tensor, context: str) -> Answer:
        """The best span of row ``row``, widened to whole words as the pipeline reports it (surrounding spaces left out)."""
        start, end = logits.view(2, -1)
        in_context = torch.tensor([sequence == CONTEXT for sequence in encoding.sequence_ids(row)])
        first, last = best_span(start, end, in_context, self.max_answer_len)
        normalised = in_context.clone()
        if self.tokenizer.cls_token_id is not None:
            normalised |= encoding["input_ids"][row] == self.tokenizer.cls_token_id
        start_probability, end_probability = span_probabilities(start, end, normalised, first, last)
        begin = encoding.word_to_chars(row, encoding.token_to_word(row, first), sequence_index=CONTEXT).start
        finish = encoding.word_to_chars(row, encoding.token_to_word(row, last), sequence_index=CONTEXT).end
        text = context[begin:finish]
        begin, finish = begin + len(text) - len(text.lstrip()), finish - len(text) + len(text.rstrip())
        return Answer(first, last, begin, finish, context[begin:finish], start_probability, end_probability)

    def explanations(self, prepared: Prepared, attributions: Attributions) -> list[Explanation]:
        items, encoding, answers, ends, picks = prepared.context
        problem = prepared.problem
        if picks is not None:
            encoding = encoding.whole
            attributions = placed_attributions(attributions, picks, encoding["input_ids"].shape[1])
            problem = replace(problem, targets=end_targets(answers, ends, encoding["input_ids"].shape[1]))
        explanations = []
        for row, ((question, context), answer) in enumerate(zip(items, answers)):
            positions, tokens, words = self.tokens_and_words(encoding, row, [question, context])
            explained = self.target_attributions(attributions, problem, row, positions, words, [ENDS[e] for e in ends])
            for target, end in zip(explained, ends):
                target.position = positions.index((answer.first, answer.last)[end])
            explanations.append(
                Explanation(
                    inputs={"question": question, "context": context},
                    tokens=tokens,
                    words=words,
                    targets=explained,
                    predicted_label=answer.text,
                    probabilities={"start": answer.start_probability, "end": answer.end_probability},
                    word_aggregation=self.word_aggregation,
                    details={
                        "answer": answer.text,
                        "start": answer.start,
                        "end": answer.end,
                        "start_token": positions.index(answer.first),
                        "end_token": positions.index(answer.last),
                        "score": answer.score,
                    },
                )
            )
        return explanations


def end_targets(answers: list[Answer], ends: list[int], length: int) -> torch.Tensor:
    """Each answer's explained ends as indices into the start logits then the end logits of rows of ``length`` tokens."""
    return torch.tensor([[(answer.first, length + answer.last)[end] for end in ends] for answer in answers])


@hookimpl
def register_tasks(register):
    register(QuestionAnswering)
