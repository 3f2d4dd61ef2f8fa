"""``summary.html``: a run's summary (``summary.json``) as one self-contained page, in the html renderer's style: its
counts and timings, its metrics per label (when the run has metrics) and each label's top words.

Like the html renderer's pages it loads nothing and runs nothing, and every piece of user text (labels, words,
the title, file names) is escaped. Each label's words are coloured on the one diverging scale, bounded by the
largest |mean attribution| among that label's words.
"""

from __future__ import annotations

from html import escape
from typing import Any, Mapping, Sequence
from urllib.parse import quote

from attrix.renderers.html_style import PAGE_STYLE, STYLE, scored_span

COLUMNS = ("word", "mean attribution", "rows")
METRIC_COLUMNS = ("metric", "label", "mean", "95% interval", "n", "NaN", "random")


def summary_page(summary: Mapping[str, Any], reports: Sequence[str] = (), title: str = "run summary") -> str:
    """The page of ``summary`` (as ``attrix.runs.summary.summary`` makes it), linking to ``reports``: file names beside it."""
    links = " · ".join(f'<a href="{escape(quote(name))}">{escape(name)}</a>' for name in reports)
    labels = "".join(_label(label, entry, summary["min_rows_per_word"]) for label, entry in summary["top_words_per_label"].items())
    return (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1"><title>{escape(title)}</title>'
        f'<style>{PAGE_STYLE}{STYLE}</style></head><body><div class="attrix"><h1>{escape(title)}</h1>'
        f'{f"<nav>reports: {links}</nav>" if links else ""}{_counts(summary)}{_convergence(summary)}{_metrics(summary)}{labels}'
        "</div></body></html>\n"
    )


def _counts(summary: Mapping[str, Any]) -> str:
    """The row counts and the timings, as one table."""
    timings = summary["timings"]
    rate = timings["rows_per_second"]
    cells = [
        *((escape(name), f"{count}") for name, count in summary["counts"].items()),
        ("wall seconds", f"{timings['wall_seconds']:.3f}"),
        ("rows per second", "–" if rate is None else f"{rate:g}"),
    ]
    head = "".join(f"<th>{name}</th>" for name, _ in cells)
    body = "".join(f"<td>{value}</td>" for _, value in cells)
    return f'<table class="counts"><tr>{head}</tr><tr>{body}</tr></table>'


def _convergence(summary: Mapping[str, Any]) -> str:
    """A line saying how many targets' attributions do not add up within the method's tolerance, marked when some do
    not; nothing when the method claims no completeness."""
    counts = summary.get("convergence")
    if counts is None:
        return ""
    missed, targets, rows = counts["unconverged_targets"], counts["targets"], counts["unconverged_rows"]
    if not missed:
        return f'<p class="meta">all {targets} targets converged: their attributions add up within the method\'s tolerance</p>'
    return (
        f'<p class="unconverged">{missed} of {targets} targets ({rows} rows) did not converge: their attributions do not add '
        "up within the method's tolerance and cannot be trusted as they are; raise n_steps, or use n_steps: auto</p>"
    )


def _metrics(summary: Mapping[str, Any]) -> str:
    """Each metric's mean per label, its bootstrap interval, its counts and its random reference, as one table; nothing
    for a run without metrics."""
    metrics = summary.get("metrics")
    if not metrics:
        return ""
    bootstrap = summary["bootstrap"]
    rows = "".join(
        f"<tr><td>{escape(name)}</td><td>{escape(label)}</td><td>{_number(entry['mean'])}</td>"
        f"<td>{_interval(entry['interval'])}</td><td>{entry['n']}</td><td>{entry['nan']}</td>"
        f"<td>{_number(entry['random'])}</td></tr>"
        for name, labels in metrics.items()
        for label, entry in labels.items()
    )
    return (
        f'<table class="metrics"><caption>faithfulness metrics per label: mean over the targets explained toward it '
        f"(NaN values left out and counted), {bootstrap['confidence']:.0%} percentile bootstrap interval of "
        f"{bootstrap['resamples']} resamples (seed {bootstrap['seed']}), and the mean for a random ranking</caption>"
        f'<tr>{"".join(f"<th>{column}</th>" for column in METRIC_COLUMNS)}</tr>{rows}</table>'
    )


def _number(value: float | None) -> str:
    return "–" if value is None else f"{value:.4g}"


def _interval(bounds: Sequence[float] | None) -> str:
    return "–" if bounds is None else f"[{bounds[0]:.4g}, {bounds[1]:.4g}]"


def _label(label: str, entry: Mapping[str, Any], min_rows: int) -> str:
    """One label's section: how many rows were explained toward it, and its top words as a table."""
    words = entry["top_words"]
    bound = max((abs(word["mean_attribution"]) for word in words), default=0.0)
    rows = "".join(
        f'<tr><td class="text">{scored_span(word["word"], word["mean_attribution"], bound)}</td>'
        f'<td>{word["mean_attribution"]:+.4g}</td><td>{word["rows"]}</td></tr>'
        for word in words
    )
    table = (
        f'<table class="top-words"><caption>the words of largest mean attribution, among those in {min_rows} rows or more'
        f'</caption><tr>{"".join(f"<th>{column}</th>" for column in COLUMNS)}</tr>{rows}</table>'
        if words
        else f'<p class="meta">no word occurs in {min_rows} rows or more</p>'
    )
    return (
        f'<section class="explanation"><h2>toward {escape(label)}</h2>'
        f'<p class="meta">{entry["rows"]} rows explained toward it</p>{table}</section>'
    )
