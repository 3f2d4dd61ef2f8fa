"""``summary.json``: a run's counts and timings, and per label the words with the largest mean attribution across the
dataset (for generations, under one label, ``GENERATED``, the prompt words that drive the whole continuation)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from attrix.contracts.explanation import Explanation

TOP_WORDS = 10
MIN_ROWS = 2
"""A word is ranked only when it occurs in at least this many rows explained toward the label."""
GENERATED = "(generated text)"
"""The label generations count toward: each prompt word's attributions summed over the explained steps."""


@dataclass
class WordMeans:
    """Per label, each lowercase word's attribution summed within a row, then averaged over the rows where it occurs."""

    sums: dict[str, dict[str, float]] = field(default_factory=lambda: defaultdict(lambda: defaultdict(float)))
    rows: dict[str, dict[str, int]] = field(default_factory=lambda: defaultdict(lambda: defaultdict(int)))
    explained: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    def add(self, explanation: Explanation) -> None:
        """Count one explanation toward each of its targets' labels; a generation toward ``GENERATED``, with its
        prompt words only."""
        if explanation.generation is not None:
            prompt = [number for number, word in enumerate(explanation.words) if word.sequence == 0]
            totals = [sum(target.word_scores[number] for target in explanation.targets) for number in prompt]
            self._count(GENERATED, [explanation.words[number].text for number in prompt], totals)
            return
        for target in explanation.targets:
            self._count(target.label, [word.text for word in explanation.words], target.word_scores)

    def _count(self, label: str, words: list[str], scores: list[float]) -> None:
        """One row explained toward ``label``: each lowercase word's summed score in it."""
        in_row: dict[str, float] = defaultdict(float)
        for word, score in zip(words, scores):
            if any(character.isalnum() for character in word):
                in_row[word.lower()] += score
        self.explained[label] += 1
        for word, score in in_row.items():
            self.sums[label][word] += score
            self.rows[label][word] += 1

    def top(self, k: int = TOP_WORDS, min_rows: int = MIN_ROWS) -> dict[str, Any]:
        """Per label, its rows and the ``k`` words of largest mean attribution among those in ``min_rows`` rows or more."""
        labels = {}
        for label in sorted(self.explained):
            means = [
                {"word": word, "mean_attribution": total / self.rows[label][word], "rows": self.rows[label][word]}
                for word, total in self.sums[label].items()
                if self.rows[label][word] >= min_rows
            ]
            means.sort(key=lambda entry: (-entry["mean_attribution"], entry["word"]))
            labels[label] = {"rows": self.explained[label], "top_words": means[:k]}
        return labels


def summary(counts: dict[str, int], words: WordMeans, wall_seconds: float) -> dict[str, Any]:
    """The summary document: counts, timings and the top words per label."""
    done = counts["explained"] + counts["errors"]
    return {
        "counts": counts,
        "timings": {"wall_seconds": wall_seconds, "rows_per_second": round(done / wall_seconds, 3) if wall_seconds > 0 else None},
        "top_words_per_label": words.top(),
        "min_rows_per_word": MIN_ROWS,
    }
