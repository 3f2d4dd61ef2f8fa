"""The html renderer's look: its style sheets and the scored span, coloured on the one diverging scale."""

from __future__ import annotations

from functools import cache
from html import escape

import numpy as np

from attrix.drawing.colors import colormap, scale

STYLE = """
.attrix { font-family: system-ui, sans-serif; color: #222; }
.attrix .explanation { border-top: 1px solid #ddd; padding: .5rem 0; }
.attrix h2 { font-size: 1.1rem; margin: .4rem 0; }
.attrix h3 { font-size: .95rem; font-weight: normal; margin: .6rem 0 0; }
.attrix .meta, .attrix .summary, .attrix .pager { color: #666; font-size: .8rem; margin: .2rem 0; }
.attrix .text { line-height: 2.1; margin: .3rem 0 .8rem; }
.attrix .text span { padding: .15rem .2rem; margin: 0 .05rem; border-radius: .2rem; cursor: default; }
.attrix .text span.d { color: #fff; }
.attrix table { border-collapse: collapse; font-size: .9rem; margin: .3rem 0; }
.attrix caption { text-align: left; font-size: .8rem; color: #666; }
.attrix th, .attrix td { border: 1px solid #ccc; padding: .2rem .5rem; text-align: left; }
.attrix .legend { display: flex; align-items: center; gap: .4rem; font-size: .8rem; margin: .5rem 0; }
.attrix .legend .bar { width: 12rem; height: .8rem; border: 1px solid #ccc; }
.attrix img.heatmap { max-width: 100%; display: block; }
.attrix .view-tokens:checked ~ .pages .words { display: none; }
.attrix .view-tokens:not(:checked) ~ .pages .tokens { display: none; }
.attrix .page { display: none; }
.attrix .page:target { display: block; }
.attrix .page:has(:target) { display: block; }
.attrix .pages:not(:has(:target)) > .page:first-child { display: block; }
.attrix nav { font-size: .85rem; margin: .5rem 0; }
.attrix nav ol { columns: 3; }
.attrix .generation .w { background: var(--g0, transparent); color: var(--i0, inherit); }
.attrix .generation .continuation { white-space: pre-wrap; }
.attrix .generation .continuation .w { padding: .15rem 0; margin: 0; border-radius: 0; }
.attrix .generation label.w { cursor: pointer; }
.attrix .generation label.w:hover { outline: 1px dashed #222; }
.attrix .generation .pick { position: absolute; opacity: 0; width: 1px; height: 1px; margin: 0; }
.attrix .generation .pick:checked + label { outline: 2px solid #222; }
.attrix .generation .pick:focus-visible + label { outline: 3px solid #1a5fb4; outline-offset: 2px; }
.attrix .wide { overflow-x: auto; }
.attrix .steps td.cell { font-size: .75rem; text-align: right; }
.attrix .steps td.d { color: #fff; }
.attrix .steps td.later { background: #f3f3f3; }
.attrix .steps tr.unconverged .delta, .attrix p.unconverged { color: #b00020; font-weight: bold; }
"""
PAGE_STYLE = "body { margin: 1.5rem; }"
DARK_SHARE = 0.6
"""Pieces whose |score| is above this share of the largest get white text."""


def scored_span(text: str, score: float, bound: float) -> str:
    ink = ' class="d"' if bound > 0 and abs(score) > DARK_SHARE * bound else ""
    return f'<span{ink} style="background:{colour(score, bound)}" title="{score:+.6g}">{escape(text)}</span> '


@cache
def _palette() -> tuple[str, ...]:
    """The diverging scale's colours as ``#rrggbb``, one per entry of its colormap's lookup table."""
    lookup = colormap()(np.linspace(0, 1, colormap().N))
    return tuple("#" + "".join(f"{round(channel * 255):02x}" for channel in rgba[:3]) for rgba in lookup)


def colour(value: float, bound: float) -> str:
    """The colour of ``value`` on the scale bounded by ±``bound`` (the entry matplotlib picks for it)."""
    palette = _palette()
    return palette[min(int(scale(value, bound) * len(palette)), len(palette) - 1)]
