"""The png renderer's figure of a generation: the step × word heatmap, and under it each word's total over the steps.

The heatmap has a row per explained step (its token and probability, ``*`` when it has not converged) and a
column per word, each row on the diverging scale bounded by its largest |score|, as in the html renderer; a cell
of a word the step cannot draw on (at or after it) is grey. The bars under it share its columns: each word's
attributions summed over the steps, on the scale bounded by the largest |sum|.
"""

from __future__ import annotations

import math

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from numpy.typing import ArrayLike

from attrix.contracts.explanation import Explanation, GeneratedToken, TargetAttribution
from attrix.drawing.colors import colormap, scale
from attrix.drawing.figures import literal
from attrix.renderers.pieces import before, steps, title, token_text, unconverged

DPI = 100
MIN_WIDTH = 9.0
"""Inches: as wide as the png renderer's text figures, at least."""
LABELS_WIDTH, COLUMN = 2.0, 0.45
"""Inches for the token labels, and per word."""
HEADER, ROW, BARS, WORD_LABELS = 0.6, 0.35, 1.6, 1.2
"""Inches for the title, per step, for the bars and for the word labels under them."""
LABEL_LENGTH = 24
LATER = "#eeeeee"
FONT_SIZE = 10


def generation_figure(explanation: Explanation) -> Figure:
    """The heatmap of the explained steps (axes ``steps``) over the bars of each word's total (axes ``totals``)."""
    explained = steps(explanation)
    words = explanation.words
    matrix = np.array([
        [scale(score, _bound(target.word_scores)) if before(word, step.position) else math.nan
         for word, score in zip(words, target.word_scores)]
        for step, target in explained
    ]).reshape(len(explained), len(words))
    totals = np.array([target.word_scores for _, target in explained]).reshape(len(explained), len(words)).sum(0)
    size = (max(MIN_WIDTH, LABELS_WIDTH + COLUMN * len(words)), HEADER + ROW * max(len(explained), 1) + BARS + WORD_LABELS)
    figure = Figure(figsize=size, dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    continuation = explanation.generation.text
    figure.suptitle(literal(f'{title(explanation)[:70]} → "{continuation[:40]}"'), fontsize=FONT_SIZE + 1, weight="bold")
    heat, bars = figure.subplots(2, 1, sharex=True, height_ratios=[ROW * max(len(explained), 1), BARS])
    heat.set_label("steps")
    bars.set_label("totals")
    heat.imshow(matrix, cmap=colormap().with_extremes(bad=LATER), vmin=0, vmax=1, aspect="auto", interpolation="nearest")
    heat.set_yticks(range(len(explained)), [_step_label(step, target) for step, target in explained], fontsize=FONT_SIZE)
    heat.set_title("attributions of each generated token (row) to the words; * not converged", fontsize=FONT_SIZE, loc="left")
    bound = _bound(totals)
    colours = [colormap()(scale(total, bound)) for total in totals]
    bars.bar(range(len(words)), totals, color=colours, edgecolor="#555555", linewidth=0.5)
    bars.axhline(0, color="#333333", linewidth=0.8)
    bars.set_ylabel("sum over steps", fontsize=FONT_SIZE)
    labels = [literal(word.text[:LABEL_LENGTH]) for word in words]
    bars.set_xticks(range(len(words)), labels, rotation=60, ha="right", fontsize=FONT_SIZE)
    return figure


def _bound(scores: ArrayLike) -> float:
    """The largest |score|, 0 when there is none."""
    return float(np.max(np.abs(scores), initial=0.0))


def _step_label(step: GeneratedToken, target: TargetAttribution) -> str:
    """``TOKEN (0.812)``, and ``*`` when the step has not converged."""
    return literal(f"{token_text(step)[:LABEL_LENGTH]} ({step.probability:.2f})" + (" *" if unconverged(target) else ""))
