"""Text inputs: checking them, encoding them within the model's limit, and finding their words."""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import torch
from torch import nn
from transformers import BatchEncoding, PreTrainedModel, PreTrainedTokenizerBase

from attrix.contracts.explanation import Word
from attrix.errors import InputError, InputTypeError

UNBOUNDED = 1_000_000


class TruncationWarning(UserWarning):
    """A text longer than the model accepts was truncated."""


def check_text(value: Any, what: str = "text") -> str:
    """``value`` if it is a non-empty string of valid Unicode (no lone surrogates); otherwise an error saying what was given."""
    if not isinstance(value, str):
        raise InputTypeError(f"{what} must be a string, got {type(value).__name__} {value!r:.80}")
    if not value.strip():
        raise InputError(f"{what} is empty; give a string with at least one word")
    return check_unicode(value, what)


def check_unicode(value: str, what: str = "text") -> str:
    """``value`` if it is valid Unicode (no lone surrogates); otherwise an error saying where it is not."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as error:
        raise InputError(
            f"{what} holds a lone surrogate U+{ord(value[error.start]):04X} at character {error.start}, which is not "
            f"valid Unicode: decode the text with errors='replace' (or fix its source) before explaining it"
        ) from None
    return value


def check_fast_tokenizer(tokenizer: PreTrainedTokenizerBase) -> PreTrainedTokenizerBase:
    """``tokenizer`` if it is a fast (Rust) tokenizer, which words and offsets need."""
    if not getattr(tokenizer, "is_fast", False):
        raise InputError(
            f"{type(tokenizer).__name__} is not a fast tokenizer; attrix needs one for words and offsets: "
            f"load it with AutoTokenizer.from_pretrained(..., use_fast=True)"
        )
    return tokenizer


def embeddings_module(model: PreTrainedModel) -> nn.Module:
    """The module that owns the word embeddings (``bert.embeddings`` and the like)."""
    word = model.get_input_embeddings()
    for module in model.modules():
        if any(child is word for child in module.children()):
            return module
    raise InputError(f"{type(model).__name__} has no module owning its word embeddings")


class TokenEmbedding(nn.Module):
    """A model's token embedding as a module of its own, so that hooks on it see only the calls made through it (an
    encoder–decoder's encoder, while the decoder keeps the shared embedding; or both sides embedded in one call)."""

    def __init__(self, embedding: nn.Module) -> None:
        super().__init__()
        self.embedding = embedding

    def forward(self, input_ids: torch.Tensor) -> torch.Tensor:
        return self.embedding(input_ids)


@contextmanager
def encoding_through(model: PreTrainedModel, layer: TokenEmbedding) -> Iterator[None]:
    """The encoder embeds its tokens through ``layer`` while the block runs (the decoder keeps its own embedding)."""
    encoder = model.get_encoder()
    original = encoder.get_input_embeddings()
    encoder.set_input_embeddings(layer)
    try:
        yield
    finally:
        encoder.set_input_embeddings(original)


def position_embeddings(model: PreTrainedModel) -> nn.Embedding | None:
    """The absolute position embeddings, if the model has them."""
    found = getattr(embeddings_module(model), "position_embeddings", None)
    return found if isinstance(found, nn.Embedding) else None


def token_limit(model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase) -> int | None:
    """The most tokens the model accepts, from its position embeddings and the tokenizer."""
    limits = []
    if tokenizer.model_max_length < UNBOUNDED:
        limits.append(int(tokenizer.model_max_length))
    positions = position_embeddings(model)
    if positions is not None:
        offset = positions.padding_idx + 1 if positions.padding_idx is not None else 0
        limits.append(positions.num_embeddings - offset)
    return min(limits) if limits else None


def encode(
    tokenizer: PreTrainedTokenizerBase,
    texts: Sequence[str],
    pairs: Sequence[str] | None,
    limit: int | None,
    truncation: str = "longest_first",
) -> BatchEncoding:
    """Tokenize as the model is used, padded to a batch; a text over ``limit`` tokens is truncated (by ``truncation``) with a warning."""
    arguments = (list(texts),) if pairs is None else (list(texts), list(pairs))
    if limit is not None:
        for number, ids in enumerate(tokenizer(*arguments)["input_ids"]):
            if len(ids) > limit:
                warnings.warn(
                    f"input {number} has {len(ids)} tokens but the model accepts at most {limit}; "
                    f"it was truncated to its first {limit} tokens",
                    TruncationWarning,
                    stacklevel=4,
                )
    return tokenizer(
        *arguments,
        padding=True,
        truncation=truncation if limit is not None else False,
        max_length=limit,
        return_tensors="pt",
        return_offsets_mapping=True,
        return_special_tokens_mask=True,
    )


def words_of(encoding: BatchEncoding, row: int, positions: list[int], texts: Sequence[str]) -> list[Word]:
    """The words of batch row ``row`` as the tokenizer split them (whitespace-only pieces left out), with token indices into ``positions``."""
    word_ids, sequence_ids = encoding.word_ids(row), encoding.sequence_ids(row)
    offsets = encoding["offset_mapping"][row].tolist()
    groups: dict[tuple[int, int], list[int]] = {}
    for token, position in enumerate(positions):
        if word_ids[position] is not None and sequence_ids[position] is not None:
            groups.setdefault((sequence_ids[position], word_ids[position]), []).append(token)
    words = []
    for (sequence, _), tokens in groups.items():
        start = min(offsets[positions[token]][0] for token in tokens)
        end = max(offsets[positions[token]][1] for token in tokens)
        raw = texts[sequence][start:end]
        if not raw.strip():
            continue
        start += len(raw) - len(raw.lstrip())
        end -= len(raw) - len(raw.rstrip())
        words.append(Word(texts[sequence][start:end], start, end, tokens, sequence))
    return words


def aggregate(token_scores: torch.Tensor, words: list[Word], how: str) -> list[float]:
    """Each word's score: the sum or the mean of its tokens' scores."""
    reduce = torch.sum if how == "sum" else torch.mean
    return [float(reduce(token_scores[word.tokens])) for word in words]
