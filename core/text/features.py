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
    """Each position's ``"token"``, ``"word"`` and ``"sentence"`` feature, each ``[batch, seq, 1]``: feature 0
    gathers the positions outside any word (special tokens and padding, which the baseline leaves as they are), the
    rest are numbered 1, 2, … in order; a sentence ends after a token of terminal punctuation or with its sequence."""
    batch, length = encoding["input_ids"].shape
    groups = {name: torch.zeros(batch, length, dtype=torch.long) for name in ("token", "word", "sentence")}
    for row in range(batch):
        word_ids, sequence_ids = encoding.word_ids(row), encoding.sequence_ids(row)
        tokens = tokenizer.convert_ids_to_tokens(encoding["input_ids"][row].tolist())
        counts = {"token": 0, "word": 0, "sentence": 0}
        last_word, last_sequence, sentence_ended = None, None, True
        for position, (word, sequence) in enumerate(zip(word_ids, sequence_ids)):
            if word is None or sequence is None:
                continue
            counts["token"] += 1
            if (sequence, word) != last_word:
                counts["word"] += 1
                if sentence_ended or sequence != last_sequence:
                    counts["sentence"] += 1
            last_word, last_sequence = (sequence, word), sequence
            sentence_ended = ends_sentence(tokens[position])
            for name, count in counts.items():
                groups[name][row, position] = count
    return {name: ids.unsqueeze(-1) for name, ids in groups.items()}
