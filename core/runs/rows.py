"""Explaining a window of a run's rows: bad rows become error rows, the rest go in batches of similar length, yielded as each finishes."""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from attrix.api.evaluation import evaluate
from attrix.api.explainer import Explainer
from attrix.contracts.explanation import Explanation
from attrix.contracts.metric import Metric
from attrix.contracts.targets import Target
from attrix.errors import AttrixError
from attrix.integration.batching import length_batches
from attrix.runs.dataset import Row
from attrix.text.encoding import TruncationWarning

ResultRow = dict[str, Any]
WINDOW_BATCHES = 4
"""Engines hand ``explain_rows`` this many batches' worth of rows at a time: enough to group by length, few enough to stream."""


@dataclass(frozen=True)
class BatchExplainer:
    """How a run explains a batch of inputs: its explainer toward its target, and, when the run has metrics, each
    explanation measured by them (``attrix.evaluate``, which explains the batch once and measures it), with the
    inputs' human rationales where a metric compares with them."""

    explainer: Explainer
    target: Target
    metrics: tuple[Metric, ...] = ()
    seed: int = 0
    """Seeds the random ranking each metric is also measured for."""

    def __call__(self, inputs: list[Any], rationales: list[Any] | None = None) -> list[Explanation]:
        """The inputs' explanations, measured by the metrics; ``rationales`` holds each input's (or None)."""
        if not self.metrics:
            return self.explainer(inputs, target=self.target)
        if not any(metric.needs_rationales for metric in self.metrics):
            rationales = None
        return evaluate(
            inputs, self.explainer, list(self.metrics), target=self.target, seed=self.seed, rationales=rationales
        ).explanations


def explain_rows(explain: BatchExplainer, rows: Sequence[Row]) -> Iterator[list[ResultRow]]:
    """The result rows of ``rows``, a batch at a time: the rows the task refuses first, then batches sorted by length."""
    task = explain.explainer.task
    refused, accepted = [], []
    for row in rows:
        if row.problem is not None:
            refused.append(error_row(row, row.problem))
            continue
        try:
            checked = task.check(row.input)
        except AttrixError as error:
            refused.append(error_row(row, str(error)))
            continue
        accepted.append((task.length(checked), row))
    if refused:
        yield refused
    for batch in length_batches([length for length, _ in accepted], explain.explainer.batch_size):
        yield _explain_batch(explain, [accepted[number][1] for number in batch])


def _explain_batch(explain: BatchExplainer, rows: list[Row]) -> list[ResultRow]:
    """The batch explained at once; if it fails or warns, row by row, so each row gets its own error or warning."""
    try:
        with truncations() as warned:
            explanations = explain([row.input for row in rows], [row.rationale for row in rows])
        if not warned:
            return [explained_row(row, explanation, []) for row, explanation in zip(rows, explanations)]
    except AttrixError:
        pass
    return [_explain_one(explain, row) for row in rows]


def _explain_one(explain: BatchExplainer, row: Row) -> ResultRow:
    try:
        with truncations() as warned:
            (explanation,) = explain([row.input], [row.rationale])
    except AttrixError as error:
        return error_row(row, str(error))
    return explained_row(row, explanation, warned)


@contextmanager
def truncations() -> Iterator[list[str]]:
    """The messages of the ``TruncationWarning``s raised inside the block; other warnings go on as usual."""
    messages: list[str] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield messages
    for warning in caught:
        if issubclass(warning.category, TruncationWarning):
            messages.append(str(warning.message))
        else:
            warnings.warn_explicit(warning.message, warning.category, warning.filename, warning.lineno)


def explained_row(row: Row, explanation: Explanation, warned: list[str]) -> ResultRow:
    """The result row of an explained input, with the warnings it raised if any."""
    result: ResultRow = {"id": row.id, "explanation": explanation.to_dict()}
    if warned:
        result["warnings"] = warned
    return result


def error_row(row: Row, reason: str) -> ResultRow:
    """The result row of an input that could not be explained: its id, the reason, and the input if it is JSON."""
    result: ResultRow = {"id": row.id, "error": reason}
    try:
        json.dumps(row.input)
    except (TypeError, ValueError):
        return result
    result["input"] = row.input
    return result
