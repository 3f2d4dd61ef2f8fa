"""``pairwise``: a pair of texts (cross-encoders, NLI), explained toward a class over the words of both."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import torch
from transformers import PretrainedConfig, PreTrainedModel, PreTrainedTokenizerBase

from attrix.contracts.hookspecs import hookimpl
from attrix.contracts.inputs import InputField
from attrix.contracts.targets import Target
from attrix.contracts.task import Prepared
from attrix.errors import InputError, InputTypeError
from attrix.plugins.sequence import SequenceClassification
from attrix.text.encoding import check_text


def check_pair(item: Any) -> tuple[str, str]:
    """``item`` as ``(text, text_pair)`` if it is a pair of texts; otherwise an error showing the forms accepted."""
    names = PairwiseClassification.input_names()
    if isinstance(item, Mapping):
        if sorted(map(str, item)) != sorted(names):
            raise InputError(
                f"a pair given as a dict needs exactly the keys {' and '.join(map(repr, names))}, got {sorted(map(str, item))}"
            )
        pair = tuple(item[name] for name in names)
    elif isinstance(item, (tuple, list)) and len(item) == 2:
        pair = tuple(item)
    else:
        hint = "; a single pair given as a list is read as a batch of inputs: give it as a tuple" if isinstance(item, str) else ""
        raise InputTypeError(
            f"pairwise explains pairs of texts, (text, text_pair) or {{'text': ..., 'text_pair': ...}}, "
            f"got {type(item).__name__} {item!r:.80}{hint}"
        )
    return check_text(pair[0], names[0]), check_text(pair[1], names[1])


class PairwiseClassification(SequenceClassification):
    """Text-pair classification: which words of either text push the pair toward a class.

    Each input is ``(text, text_pair)`` or ``{"text": ..., "text_pair": ...}``, encoded as the tokenizer encodes a
    pair (token types included); ``words`` holds the words of both texts, ``Word.sequence`` saying which.
    Probabilities are a sigmoid for a single-output cross-encoder, a softmax otherwise. ``flip_sign=True``
    explains ``1 - p`` instead of ``p``: every attribution negated, showing what pushes the score toward 0 (why
    two texts are dissimilar); each target's ``score`` and ``baseline_score`` are then ``1 - p`` too.
    """

    name = "pairwise"
    inputs = (
        InputField("text", str, "the first text of the pair", "area", "A man is playing a guitar."),
        InputField("text_pair", str, "the second text of the pair", "area", "Someone plays music."),
    )

    cut = 1

    def __init__(
        self,
        model: PreTrainedModel,
        processor: PreTrainedTokenizerBase,
        *,
        flip_sign: bool = False,
        **options: Any,
    ) -> None:
        super().__init__(model, processor, **options)
        self.flip_sign = flip_sign

    @classmethod
    def auto_fits(cls, architecture: str, config: PretrainedConfig) -> bool:
        return False

    def check(self, item: Any) -> tuple[str, str]:
        return check_pair(item)

    def sequences(self, item: tuple[str, str]) -> tuple[str, str]:
        return item

    def complement(self, **inputs: torch.Tensor) -> torch.Tensor:
        """``1 - p``: what ``flip_sign`` explains."""
        return 1 - self.forward(**inputs)

    def prepare(self, items: list[tuple[str, str]], target: Target) -> Prepared:
        prepared = super().prepare(items, target)
        if self.flip_sign:
            prediction = prepared.problem.prediction
            flipped = replace(prediction, outputs=1 - prediction.outputs)
            prepared.problem = replace(prepared.problem, forward=self.complement, prediction=flipped)
        return prepared


@hookimpl
def register_tasks(register):
    register(PairwiseClassification)
