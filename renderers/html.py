"""``html``: one self-contained page of highlighted words and tokens, with a table per explanation, paged for big reports.

Nothing is loaded from anywhere: no script, font or stylesheet, images as ``data:`` PNGs; the page works from disk
offline. Every piece of user text (inputs, tokens, words, labels, model names, the title) is escaped. The
word/token switch, the paging and a generation's picked token are plain CSS (radio buttons, ``:target``, ``:has``),
so the page runs no code at all. A generation gets its own view (``generation_html``) instead of a list per target.
"""

from __future__ import annotations

import base64
import itertools
from html import escape
from typing import Annotated, Any, Mapping, Sequence

import numpy as np
from annotated_types import Ge

from attrix.contracts.explanation import Explanation, TargetAttribution
from attrix.contracts.hookspecs import hookimpl
from attrix.contracts.renderer import Renderer
from attrix.drawing.figures import image_figure, png_bytes
from attrix.drawing.pictures import DATA_URI_PREFIX
from attrix.renderers.generation_html import generation_view, step_style
from attrix.renderers.html_style import PAGE_STYLE, STYLE, colour, scored_span
from attrix.renderers.html_summary import summary_page
from attrix.renderers.html_tables import table
from attrix.renderers.pieces import VIEWS, Piece, heading, is_generation, is_image, pieces, steps, title

INDEX_TITLE_LENGTH = 80
_fragments = itertools.count(1)


class HtmlRenderer(Renderer):
    """A self-contained HTML page: tables, highlighted words and tokens, an index and pages; no scripts, every text escaped.

    Options: ``title`` (none shown when empty); ``index`` (list every explanation, linked, when there are several);
    ``page_size`` (how many explanations one page shows; the other pages wait, unrendered, behind their links).
    """

    name = "html"
    suffix = ".html"

    def __init__(self, *, title: str = "attrix explanations", index: bool = True, page_size: Annotated[int, Ge(1)] = 50) -> None:
        self.title, self.index, self.page_size = title, index, page_size

    def render(self, explanations: Sequence[Explanation]) -> str:
        """The whole page, the same for the same explanations."""
        return (
            f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1"><title>{escape(self.title)}</title>'
            f"<style>{PAGE_STYLE}{STYLE}</style></head><body>{self._report(explanations, '')}</body></html>\n"
        )

    def summary_page(self, summary: Mapping[str, Any], reports: Sequence[str] = (), title: str = "run summary") -> str:
        """A run's ``summary.json`` as one page in this renderer's style, linking to ``reports`` (file names beside it)."""
        return summary_page(summary, reports, title)

    def fragment(self, explanations: Sequence[Explanation]) -> str:
        """The report as one ``<div>`` with its own style, for notebooks: its ids and switch are its own."""
        return f"<style>{STYLE}</style>{self._report(explanations, f'attrix-{next(_fragments)}-')}"

    def _report(self, explanations: Sequence[Explanation], scope: str) -> str:
        """The report's ``<div class="attrix">``; ``scope`` prefixes its ids and names the switch."""
        pages = [explanations[start : start + self.page_size] for start in range(0, len(explanations), self.page_size)]
        body = "".join(self._page(scope, number, len(pages), page) for number, page in enumerate(pages, 1))
        switch = _switch(scope) if any(e.tokens and not is_generation(e) for e in explanations) else ""
        banner = f"<h1>{escape(self.title)}</h1>" if self.title else ""
        picks = max((len(steps(e)) for e in explanations), default=0)
        style = f"<style>{step_style(picks)}</style>" if picks else ""
        return (
            f'<div class="attrix">{style}{banner}{_summary(explanations)}{switch}{_legend()}'
            f'{self._navigation(scope, explanations, len(pages))}<div class="pages">{body}</div></div>'
        )

    def _navigation(self, scope: str, explanations: Sequence[Explanation], pages: int) -> str:
        """Links to every page, and the index of every explanation (folded away when there is more than one page)."""
        links = ""
        if pages > 1:
            links = "pages: " + " ".join(f'<a href="#{scope}page-{n}">{n}</a>' for n in range(1, pages + 1))
        index = ""
        if self.index and len(explanations) > 1:
            items = "".join(
                f'<li><a href="#{scope}explanation-{n}">{escape(title(e)[:INDEX_TITLE_LENGTH])}</a> — '
                f"{escape(e.predicted_label)}</li>"
                for n, e in enumerate(explanations)
            )
            folded = "" if pages > 1 else " open"
            index = f"<details{folded}><summary>index of {len(explanations)} explanations</summary><ol>{items}</ol></details>"
        return f"<nav>{links}{index}</nav>" if links or index else ""

    def _page(self, scope: str, number: int, pages: int, explanations: Sequence[Explanation]) -> str:
        first = (number - 1) * self.page_size
        sections = "".join(_explanation(scope, first + offset, e) for offset, e in enumerate(explanations))
        pager = ""
        if pages > 1:
            previous = f' · <a href="#{scope}page-{number - 1}">previous</a>' if number > 1 else ""
            following = f' · <a href="#{scope}page-{number + 1}">next</a>' if number < pages else ""
            pager = (
                f'<p class="pager">page {number} of {pages}: explanations {first + 1}–{first + len(explanations)}'
                f"{previous}{following}</p>"
            )
        return f'<div class="page" id="{scope}page-{number}">{pager}{sections}</div>'


def _summary(explanations: Sequence[Explanation]) -> str:
    if not explanations:
        return '<p class="summary">no explanations</p>'
    models = ", ".join(sorted({e.model for e in explanations}))
    count = f"{len(explanations)} explanation{'s' if len(explanations) > 1 else ''}"
    return f'<p class="summary">{count} · {escape(models)}</p>'


def _switch(scope: str) -> str:
    """The word/token radio buttons; CSS hides the view not chosen (they stay siblings of the pages for that)."""
    return (
        f'<input type="radio" name="{scope}view" id="{scope}view-words" class="view-words" checked> '
        f'<label for="{scope}view-words">words</label> '
        f'<input type="radio" name="{scope}view" id="{scope}view-tokens" class="view-tokens"> '
        f'<label for="{scope}view-tokens">tokens</label>'
    )


def _explanation(scope: str, number: int, explanation: Explanation) -> str:
    parts = [
        f'<section class="explanation" id="{scope}explanation-{number}"><h2>{number + 1}. {escape(title(explanation))}</h2>',
        f'<p class="meta">{escape(explanation.task)} · {escape(explanation.model)} · {escape(explanation.method)}</p>',
    ]
    if is_generation(explanation):
        return "".join(parts) + generation_view(explanation, f"{scope}explanation-{number}-step") + "</section>"
    parts.append(table(explanation))
    for column, target in enumerate(explanation.targets):
        parts.append(f"<h3>toward {escape(heading(explanation, target))}</h3>")
        parts.append(_heatmap(explanation, column) if is_image(explanation) else _pieces(explanation, target))
    return "".join(parts) + "</section>"


def _pieces(explanation: Explanation, target: TargetAttribution) -> str:
    """The target's words and its tokens, each view highlighted on its own scale."""
    views = [(view, pieces(explanation, target, view)) for view in VIEWS]
    return "".join(f'<div class="text {view}">{_highlighted(scored)}</div>' for view, scored in views)


def _highlighted(scored: Sequence[Piece]) -> str:
    """Each piece coloured by its score on the diverging scale bounded by the largest |score|, the score its tooltip;
    the second text of a pair (or a hypothesis) starts on a new line."""
    bound = max((abs(piece.score) for piece in scored), default=0.0)
    return "".join(
        ("<br>" if number and piece.sequence != scored[number - 1].sequence else "") + scored_span(piece.text, piece.score, bound)
        for number, piece in enumerate(scored)
    )


def _heatmap(explanation: Explanation, column: int) -> str:
    """The pixel attributions of target ``column`` as a heatmap PNG in a ``data:`` URI; per patch when only those are known."""
    values = np.asarray(explanation.targets[column].array, dtype=np.float64)
    size = explanation.details.get("image_size")
    if size is None or list(values.shape[-2:]) != list(size):
        grids = explanation.details.get("patch_scores")
        if not grids:
            return '<p class="meta">no per-pixel or per-patch attributions to draw</p>'
        values = np.asarray(grids[column], dtype=np.float64)
    blank = np.zeros((*values.shape[-2:], 3), dtype=np.uint8)
    figure = image_figure(values, blank, method="heatmap")
    encoded = base64.b64encode(png_bytes(figure)).decode("ascii")
    label = escape(explanation.targets[column].label)
    return f'<img class="heatmap" alt="attributions toward {label}" src="{DATA_URI_PREFIX}{encoded}">'


def _legend() -> str:
    stops = ", ".join(colour(value, 1.0) for value in (-1.0, -0.5, 0.0, 0.5, 1.0))
    return (
        '<div class="legend"><span>pushes against</span>'
        f'<span class="bar" style="background: linear-gradient(to right, {stops})"></span><span>pushes toward</span>'
        "<span>(each row scaled to its largest |score|; hover for the score)</span></div>"
    )


@hookimpl
def register_renderers(register):
    register(HtmlRenderer)
