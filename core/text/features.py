"""Text features for methods that remove features instead of following gradients: tokens, words and sentences
as groups of token positions."""

from __future__ import annotations

import torch
from transformers import BatchEncoding, PreTrainedTokenizerBase

SENTENCE_ENDS = (".", "!", "?", "。", "！", "？", "…")
SUBWORD_MARKS = "Ġ▁#"


def ends_sentence(token: str) -> bool:
    """Whether a token closes a sentence: it ends in terminal punctuation once subword marks are stripped."""
    return token.strip(SUBWORD_MARKS).endswith(SENTENCE_ENDS)


def feature_groups(encoding: BatchEncoding, tokenizer: PreTrainedTokenizerBase) -> dict[str, torch.Tensor]:
    """Each position's ``"token"``, ``"word"`` and ``"sentence"`` feature, each ``[batch, seq, 1]``, from the
    encoding's words (``position_groups``)."""
    keys, tokens = [], []
    for row in range(encoding["input_ids"].shape[0]):
        word_ids, sequence_ids = encoding.word_ids(row), encoding.sequence_ids(row)
        keys.append([None if word is None or sequence is None else (sequence, word) for word, sequence in zip(word_ids, sequence_ids)])
        tokens.append(tokenizer.convert_ids_to_tokens(encoding["input_ids"][row].tolist()))
    return position_groups(keys, tokens)


def position_groups(keys: list[list[tuple[int, int] | None]], tokens: list[list[str]]) -> dict[str, torch.Tensor]:
    """Each position's ``"token"``, ``"word"`` and ``"sentence"`` feature, each ``[batch, seq, 1]``, given each
    position's ``(sequence, word)`` key (None outside any word) and token: feature 0 gathers the positions outside any
    word (special tokens and padding, which the baseline leaves as they are), the rest are numbered 1, 2, … in order;
    a sentence ends after a token of terminal punctuation or with its sequence."""
    batch, length = len(keys), len(keys[0]) if keys else 0
    groups = {name: torch.zeros(batch, length, dtype=torch.long) for name in ("token", "word", "sentence")}
    for row, row_keys in enumerate(keys):
        counts = {"token": 0, "word": 0, "sentence": 0}
        last_word, last_sequence, sentence_ended = None, None, True
        for position, key in enumerate(row_keys):
            if key is None:
                continue
            counts["token"] += 1
            if key != last_word:
                counts["word"] += 1
                if sentence_ended or key[0] != last_sequence:
                    counts["sentence"] += 1
            last_word, last_sequence = key, key[0]
            sentence_ended = ends_sentence(tokens[row][position])
            for name, count in counts.items():
                groups[name][row, position] = count
    return {name: ids.unsqueeze(-1) for name, ids in groups.items()}
