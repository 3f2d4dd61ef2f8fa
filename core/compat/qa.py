"""``QuestionAnsweringExplainer``, as transformers-interpret 0.10.0 has it, with a valid answer span and a well-encoded pair."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import torch
from transformers import PreTrainedModel, PreTrainedTokenizerBase

from attrix.api.explainer import Explainer
from attrix.compat.base import LegacyTextExplainer
from attrix.compat.output import HTML, LegacyAttributions, visualize
from attrix.contracts.problem import Inputs, Prediction
from attrix.contracts.task import Task
from attrix.text.encoding import position_embeddings


@functools.cache
def whole_embeddings_qa(qa: type[Task]) -> type[Task]:
    """The registered qa task at the whole embeddings module against transformers-interpret's baseline for it:
    a pad token at position 0 with token type 0 in place of every token but the special ones."""

    class WholeEmbeddingsQuestionAnswering(qa):  # type: ignore[misc, valid-type]
        def predict(self, inputs: Inputs, baselines: Inputs) -> Prediction:
            if "token_type_ids" in baselines:
                baselines["token_type_ids"] = torch.zeros_like(baselines["token_type_ids"])
            return super().predict(inputs, baselines)

        @contextmanager
        def _recorded_positions(self) -> Iterator[list[torch.Tensor]]:
            """The position ids the model computes, recorded at its position embeddings (if it has them)."""
            seen: list[torch.Tensor] = []
            layer = position_embeddings(self.model)
            handle = layer.register_forward_pre_hook(lambda module, args: seen.append(args[0])) if layer is not None else None
            try:
                yield seen
            finally:
                if handle is not None:
                    handle.remove()

    return WholeEmbeddingsQuestionAnswering


class QuestionAnsweringExplainer(LegacyTextExplainer):
    """Explains a ``...ForQuestionAnswering`` model; call it with a question and a text for the start and end attributions.

    The answer is the best valid span (SQuAD decoding over the context) and the explained scores are the start and
    end logits at that span's ends; ``embedding_type`` 0, 1 or 2 (the default) attributes at the word embeddings,
    the position embeddings or the whole embeddings module.
    """

    task = "qa"
    embedding_types = {0: "word", 1: "position", 2: "embeddings"}

    def __init__(self, model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, attribution_type: str = "lig") -> None:
        super().__init__(model, tokenizer, attribution_type)
        self.start_attributions: LegacyAttributions | None = None
        self.end_attributions: LegacyAttributions | None = None
        self.attributions: list[LegacyAttributions] | None = None
        self.position = 0
        """Which logits transformers-interpret's forward picked last: 0 start, 1 end (1 after a call)."""

    def __call__(
        self,
        question: str,
        text: str,
        embedding_type: int = 2,
        internal_batch_size: int | None = None,
        n_steps: int | None = None,
    ) -> dict[str, list[tuple[str, float]]]:
        """Attributions of ``question`` and ``text`` toward the answer's start and end logits, each normalised."""
        self.explanation = self._explainer(embedding_type, n_steps, internal_batch_size)((question, text))
        self.start_attributions = LegacyAttributions.of(self.explanation.tokens, self.explanation.target("start"))
        self.end_attributions = LegacyAttributions.of(self.explanation.tokens, self.explanation.target("end"))
        self.attributions = [self.start_attributions, self.end_attributions]
        self.position = 1
        return self.word_attributions

    def _explainer(self, embedding_type: int, n_steps: int | None, internal_batch_size: int | None, **options: Any) -> Explainer:
        explainer = super()._explainer(embedding_type, n_steps, internal_batch_size, **options)
        if explainer.task.embedding == "embeddings":
            explainer.task = whole_embeddings_qa(type(explainer.task))(self.model, self.tokenizer, embedding="embeddings")
        return explainer

    @property
    def word_attributions(self) -> dict[str, list[tuple[str, float]]]:
        """``{"start": [(token, score), ...], "end": [...]}`` of the last call, special tokens included, each normalised."""
        self._explained()
        return {"start": self.start_attributions.word_attributions, "end": self.end_attributions.word_attributions}

    @property
    def start_pos(self) -> int:
        """The token index where the predicted answer starts."""
        return self._explained().details["start_token"]

    @property
    def end_pos(self) -> int:
        """The token index where the predicted answer ends."""
        return self._explained().details["end_token"]

    @property
    def predicted_answer(self) -> str:
        """The predicted answer's tokens joined by spaces, as transformers-interpret gave it (wordpieces as the
        tokenizer writes them); ``explanation.details["answer"]`` is the span of the text, as the pipeline gives it."""
        details = self._explained().details
        return " ".join(self.explanation.tokens[details["start_token"] : details["end_token"] + 1])

    @property
    def question(self) -> str:
        """The question of the last call."""
        return self._explained().inputs["question"]

    @property
    def text(self) -> str:
        """The text (context) of the last call."""
        return self._explained().inputs["context"]

    def visualize(self, html_filepath: str | None = None) -> HTML:
        """Draw the start and end attributions as HTML; written to ``html_filepath`` when given, shown inline in notebooks."""
        return visualize([self._explained()], html_filepath)

    def __str__(self) -> str:
        return f"{type(self).__name__}(\n\tmodel={type(self.model).__name__},\n\ttokenizer={type(self.tokenizer).__name__})"
