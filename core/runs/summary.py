"""``summary.json``: a run's counts and timings, how many of its targets' attributions do not add up (when the method
claims they should), per label the words with the largest mean attribution across the dataset (for generations,
under one label, ``GENERATED``, the prompt words that drive the whole continuation), and, when the run has metrics,
per metric and label their mean with a bootstrap interval."""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from attrix.contracts.explanation import Explanation

TOP_WORDS = 10
MIN_ROWS = 2
"""A word is ranked only when it occurs in at least this many rows explained toward the label."""
GENERATED = "(generated text)"
"""The label generations count toward: each prompt word's attributions summed over the explained steps."""
RESAMPLES = 1000
CONFIDENCE = 0.95
"""The percentile bootstrap of a metric's mean: this many resamples, for an interval of this confidence."""


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


@dataclass
class Convergence:
    """How many targets (and rows) of a run claim completeness, and how many miss it (``TargetAttribution.converged``)."""

    targets: int = 0
    unconverged_targets: int = 0
    unconverged_rows: int = 0

    def add(self, explanation: Explanation) -> None:
        """Count the targets of ``explanation`` whose convergence is known."""
        known = [target.converged for target in explanation.targets if target.converged is not None]
        missed = known.count(False)
        self.targets += len(known)
        self.unconverged_targets += missed
        self.unconverged_rows += missed > 0

    def summary(self) -> dict[str, int] | None:
        """The counts, or None when no target claims completeness (a perturbation method's run)."""
        return dict(vars(self)) if self.targets else None


def label_of(explanation: Explanation, index: int) -> str:
    """The label the explanation's ``index``-th target counts toward: its own, or ``GENERATED`` for a generation."""
    return GENERATED if explanation.generation is not None else explanation.targets[index].label


@dataclass
class MetricValues:
    """Per metric and label, the value of each target explained toward the label (NaN where the metric has none) and
    its random reference's (None for a metric that does not rank)."""

    names: tuple[str, ...]
    values: dict[str, dict[str, list[float]]] = field(default_factory=lambda: defaultdict(lambda: defaultdict(list)))
    randoms: dict[str, dict[str, list[float | None]]] = field(default_factory=lambda: defaultdict(lambda: defaultdict(list)))

    def add(self, explanation: Explanation) -> None:
        """Count the values ``explanation.metrics`` holds for each of its targets."""
        for name in self.names:
            result = explanation.metrics.get(name)
            if result is None:
                continue
            for index, value in enumerate(result["values"]):
                label = label_of(explanation, index)
                self.values[name][label].append(math.nan if value is None else value)
                self.randoms[name][label].append(None if result["random"] is None else result["random"][index])

    def summary(self, seed: int) -> dict[str, Any]:
        """Per metric and label: the mean, its bootstrap interval, how many values count and how many are NaN, and the
        random reference's mean."""
        return {name: self._per_label(name, seed) for name in self.names}

    def _per_label(self, name: str, seed: int) -> dict[str, Any]:
        values, randoms = self.values[name], self.randoms[name]
        return {label: _metric_entry(values[label], randoms[label], seed) for label in sorted(values)}


def _metric_entry(values: list[float], randoms: list[float | None], seed: int) -> dict[str, Any]:
    """One label's entry of one metric: the mean of its finite values, their interval and counts, the random's mean."""
    finite = np.array([value for value in values if not math.isnan(value)])
    references = [value for value in randoms if value is not None and not math.isnan(value)]
    return {
        "mean": float(finite.mean()) if finite.size else None,
        "interval": bootstrap_interval(finite, seed),
        "n": int(finite.size),
        "nan": len(values) - int(finite.size),
        "random": float(np.mean(references)) if references else None,
    }


def bootstrap_interval(
    values: np.ndarray, seed: int, resamples: int = RESAMPLES, confidence: float = CONFIDENCE
) -> list[float] | None:
    """The percentile bootstrap interval of the mean of ``values``, resampled with a generator seeded by ``seed``; the
    values are sorted first, so the interval does not depend on the order rows were written in. None for no values."""
    if not values.size:
        return None
    rng = np.random.default_rng(seed)
    means = np.sort(values)[rng.integers(0, values.size, size=(resamples, values.size))].mean(axis=1)
    tail = (1 - confidence) / 2 * 100
    low, high = np.percentile(means, [tail, 100 - tail])
    return [float(low), float(high)]


def summary(
    counts: dict[str, int],
    words: WordMeans,
    wall_seconds: float,
    metrics: MetricValues | None = None,
    seed: int = 0,
    convergence: Convergence | None = None,
) -> dict[str, Any]:
    """The summary document: counts, timings, the top words per label, with ``metrics`` the metrics per label, and
    with ``convergence`` (when its method claims completeness) how many targets miss it."""
    done = counts["explained"] + counts["errors"]
    document = {
        "counts": counts,
        "timings": {"wall_seconds": wall_seconds, "rows_per_second": round(done / wall_seconds, 3) if wall_seconds > 0 else None},
        "top_words_per_label": words.top(),
        "min_rows_per_word": MIN_ROWS,
    }
    if convergence is not None and convergence.summary() is not None:
        document["convergence"] = convergence.summary()
    if metrics is not None and metrics.names:
        document["metrics"] = metrics.summary(seed)
        document["bootstrap"] = {"resamples": RESAMPLES, "confidence": CONFIDENCE, "seed": seed}
    return document
