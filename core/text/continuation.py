"""The text of generated tokens and the words of any token sequence, from character spans."""

from __future__ import annotations

import re
from collections.abc import Sequence

from transformers import PreTrainedTokenizerBase

from attrix.contracts.explanation import Word

Span = tuple[int, int]


def decoded_spans(tokenizer: PreTrainedTokenizerBase, ids: Sequence[int], context: Sequence[int] = ()) -> tuple[str, list[Span]]:
    """The text ``ids`` decode to after ``context`` (so that a leading space is kept), and each token's span in it
    (empty for special tokens)."""
    def text_of(upto: int) -> str:
        decoded = tokenizer.decode([*context, *ids[:upto]], skip_special_tokens=True, clean_up_tokenization_spaces=False)
        return decoded[len(prefix):] if decoded.startswith(prefix) else decoded

    prefix = tokenizer.decode(list(context), skip_special_tokens=True, clean_up_tokenization_spaces=False)
    spans, end = [], 0
    for upto in range(1, len(ids) + 1):
        reached = len(text_of(upto))
        spans.append((min(end, reached), reached))
        end = max(end, reached)
    return text_of(len(ids)), spans


def word_spans(tokenizer: PreTrainedTokenizerBase, text: str) -> list[Span]:
    """The words of ``text`` as the tokenizer's pre-tokenizer splits it (byte-level BPE and SentencePiece alike),
    surrounding whitespace left out; whitespace-separated pieces when it has none."""
    backend = getattr(tokenizer, "backend_tokenizer", None)
    pre_tokenizer = getattr(backend, "pre_tokenizer", None)
    if pre_tokenizer is None:
        return [match.span() for match in re.finditer(r"\S+", text)]
    spans = []
    for _, (start, end) in pre_tokenizer.pre_tokenize_str(text):
        piece = text[start:end]
        if piece.strip():
            start += len(piece) - len(piece.lstrip())
            spans.append((start, end - (len(piece) - len(piece.rstrip()))))
    return spans


def words_of_spans(
    tokenizer: PreTrainedTokenizerBase, text: str, spans: Sequence[Span], tokens: Sequence[int], sequence: int = 0
) -> list[Word]:
    """The words of ``text`` made of the tokens ``tokens`` (indices into the explanation's tokens, each with its
    character span in ``spans``): each token joins the word its first character falls in."""
    boundaries = word_spans(tokenizer, text)
    words: dict[int, list[int]] = {}
    for token, (start, end) in zip(tokens, spans):
        if end <= start or not text[start:end].strip():
            continue
        first = start + len(text[start:end]) - len(text[start:end].lstrip())
        owner = next((number for number, (begin, finish) in enumerate(boundaries) if begin <= first < finish), None)
        if owner is not None:
            words.setdefault(owner, []).append(token)
    return [
        Word(text[boundaries[owner][0] : boundaries[owner][1]], *boundaries[owner], members, sequence)
        for owner, members in sorted(words.items())
    ]
