"""The table heading each explanation in the html renderer, the one transformers-interpret users know for its kind.

Every table starts with a ``true label`` column when ``details["true_label"]`` is set. Sequence and pair
classification (and any task without a table of its own): one row per target with the predicted label and its
probability, the attribution label, the attribution score (the sum of the attributions) and the convergence
delta (marked, with a warning under the table, where a target has not converged). Multi-label and zero-shot: one row per explained label with that label's probability. QA: a start row and
an end row, each with the answer. NER: one row per explained token, then one row per entity.
"""

from __future__ import annotations

from html import escape
from typing import Any, Callable, Sequence

from attrix.contracts.explanation import Explanation, TargetAttribution
from attrix.renderers.pieces import UNCONVERGED_NOTE, unconverged

MISSING = "—"


def table(explanation: Explanation) -> str:
    """The table(s) of ``explanation``, chosen by its task, with a warning under them when a target has not converged."""
    drawn = TABLES.get(explanation.task, target_table)(explanation)
    if any(unconverged(target) for target in explanation.targets):
        drawn += f'<p class="unconverged">⚠ {escape(UNCONVERGED_NOTE)}</p>'
    return drawn


def probability(value: float | None) -> str:
    return MISSING if value is None else f"{value:.3f}"


def attribution_score(target: TargetAttribution) -> str:
    return f"{target.total:+.3f}"


def convergence_delta(target: TargetAttribution) -> str:
    """The delta, marked ``⚠ … not converged`` when the target has not converged."""
    return f"⚠ {target.delta:.2e} not converged" if unconverged(target) else f"{target.delta:.2e}"


def labelled(label: str, value: float | None) -> str:
    """``label (probability)``, as transformers-interpret shows a predicted label."""
    return label if value is None else f"{label} ({value:.3f})"


def html_table(kind: str, head: Sequence[str], rows: Sequence[Sequence[Any]], caption: str = "") -> str:
    """A ``<table class="{kind}">``; every header and cell is escaped."""
    caption_html = f"<caption>{escape(caption)}</caption>" if caption else ""
    head_html = "".join(f"<th>{escape(name)}</th>" for name in head)
    body = "".join("<tr>" + "".join(f"<td>{escape(str(cell))}</td>" for cell in row) + "</tr>" for row in rows)
    return f'<table class="{kind}">{caption_html}<tr>{head_html}</tr>{body}</table>'


def with_true_label(explanation: Explanation, head: list[str], rows: list[list[Any]], at: int = 0) -> tuple[list[str], list[list[Any]]]:
    """``head`` and ``rows`` with a ``true label`` column inserted at ``at`` when the explanation has one."""
    true = explanation.details.get("true_label")
    if true is None:
        return head, rows
    return head[:at] + ["true label"] + head[at:], [row[:at] + [true] + row[at:] for row in rows]


def target_table(explanation: Explanation) -> str:
    """One row per target: predicted label (probability), attribution label, attribution score, convergence delta."""
    predicted = labelled(explanation.predicted_label, explanation.probabilities.get(explanation.predicted_label))
    head = ["predicted label", "attribution label", "attribution score", "convergence delta"]
    rows = [[predicted, t.label, attribution_score(t), convergence_delta(t)] for t in explanation.targets]
    return html_table("targets", *with_true_label(explanation, head, rows))


def label_table(explanation: Explanation) -> str:
    """One row per explained label (multi-label, zero-shot), with its own probability and whether it is predicted."""
    predicted = explanation.details.get("predicted_labels", [explanation.predicted_label])
    head = ["label", "probability", "predicted", "attribution score", "convergence delta"]
    rows = [
        [t.label, probability(explanation.probabilities.get(t.label)), "yes" if t.label in predicted else "no",
         attribution_score(t), convergence_delta(t)]
        for t in explanation.targets
    ]
    return html_table("labels", *with_true_label(explanation, head, rows))


def position_of(explanation: Explanation, target: TargetAttribution) -> str:
    """``token (position)`` of a target about one token."""
    if target.position is None or target.position >= len(explanation.tokens):
        return MISSING
    return f"{explanation.tokens[target.position]} ({target.position})"


def qa_table(explanation: Explanation) -> str:
    """A start row and an end row: the answer, the token each end is at, its probability, score and delta."""
    details = explanation.details
    head = ["answer", "end", "token", "probability", "attribution score", "convergence delta"]
    rows = [
        [details.get("answer", explanation.predicted_label), t.label, position_of(explanation, t),
         probability(explanation.probabilities.get(t.label)), attribution_score(t), convergence_delta(t)]
        for t in explanation.targets
    ]
    span_score = details.get("score")
    caption = f"answer span probability {span_score:.3f}" if isinstance(span_score, float) else ""
    return html_table("qa", *with_true_label(explanation, head, rows), caption=caption)


def token_table(explanation: Explanation) -> str:
    """One row per explained token (its prediction, the label explained, score, delta), then one row per entity."""
    predictions = {token["index"]: token for token in explanation.details.get("tokens", [])}

    def predicted(target: TargetAttribution) -> str:
        token = predictions.get(target.position)
        return MISSING if token is None else labelled(token["entity"], token["score"])

    head = ["token", "predicted label", "attribution label", "attribution score", "convergence delta"]
    rows = [
        [position_of(explanation, t), predicted(t), t.label, attribution_score(t), convergence_delta(t)]
        for t in explanation.targets
    ]
    tokens = html_table("tokens-explained", *with_true_label(explanation, head, rows, at=1))
    entities = explanation.details.get("entities", [])
    if not entities:
        return tokens
    entity_rows = [
        [entity["entity_group"], entity["word"], probability(entity["score"]), f"{entity['start']}–{entity['end']}"]
        for entity in entities
    ]
    return tokens + html_table("entities", ["entity", "word", "score", "characters"], entity_rows)


TABLES: dict[str, Callable[[Explanation], str]] = {
    "multilabel": label_table,
    "zero_shot": label_table,
    "qa": qa_table,
    "token": token_table,
}
"""The table of each task that has its own; any other task gets ``target_table``."""
