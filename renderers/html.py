"""``html``: one self-contained page of highlighted tokens and words, with a table per explanation."""

from __future__ import annotations

from html import escape
from typing import Sequence

from attrix.explanation import Explanation, TargetAttribution
from attrix.hookspecs import hookimpl
from attrix.renderer import Renderer
from attrix.renderers.colors import css_color

STYLE = """
body { font-family: system-ui, sans-serif; margin: 1.5rem; color: #222; }
.explanation { content-visibility: auto; contain-intrinsic-size: auto 20rem; border-top: 1px solid #ddd; padding: .5rem 0; }
.text { line-height: 2.1; margin: .3rem 0 .8rem; }
.piece { padding: .15rem .2rem; margin: 0 .05rem; border-radius: .2rem; position: relative; cursor: default; }
.piece:hover::after { content: attr(data-score); position: absolute; left: 0; top: 1.9rem; z-index: 1;
  background: #222; color: #fff; font-size: .75rem; padding: .1rem .3rem; border-radius: .2rem; white-space: nowrap; }
table { border-collapse: collapse; font-size: .9rem; margin: .3rem 0; }
th, td { border: 1px solid #ccc; padding: .2rem .5rem; text-align: left; }
.legend { display: flex; align-items: center; gap: .4rem; font-size: .8rem; margin: .5rem 0; }
.legend .bar { width: 12rem; height: .8rem; border: 1px solid #ccc; }
#view-tokens:checked ~ .explanations .words { display: none; }
#view-tokens:not(:checked) ~ .explanations .tokens { display: none; }
nav ol { columns: 3; font-size: .85rem; }
"""


class HtmlRenderer(Renderer):
    """A self-contained HTML page: no scripts, fonts or network; a word/token switch; every text escaped."""

    name = "html"
    suffix = ".html"

    def __init__(self, *, title: str = "attrix explanations", index: bool = True) -> None:
        self.title, self.index = title, index

    def render(self, explanations: Sequence[Explanation]) -> str:
        body = "\n".join(self._explanation(number, e) for number, e in enumerate(explanations))
        index = self._index(explanations) if self.index and len(explanations) > 1 else ""
        return (
            f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{escape(self.title)}</title>'
            f"<style>{STYLE}</style></head><body><h1>{escape(self.title)}</h1>"
            '<input type="radio" name="view" id="view-words" checked> <label for="view-words">words</label> '
            '<input type="radio" name="view" id="view-tokens"> <label for="view-tokens">tokens</label>'
            f'{_legend()}{index}<div class="explanations">{body}</div></body></html>\n'
        )

    def _index(self, explanations: Sequence[Explanation]) -> str:
        items = "".join(
            f'<li><a href="#explanation-{n}">{escape(_title(e))[:80]}</a> — {escape(e.predicted_label)}</li>'
            for n, e in enumerate(explanations)
        )
        return f"<nav><ol>{items}</ol></nav>"

    def _explanation(self, number: int, explanation: Explanation) -> str:
        parts = [f'<section class="explanation" id="explanation-{number}"><h2>{escape(_title(explanation))}</h2>', _table(explanation)]
        for target in explanation.targets:
            parts.append(f"<h3>toward {escape(_heading(explanation, target))}</h3>{_pieces(explanation, target)}")
        return "".join(parts) + "</section>"


def _heading(explanation: Explanation, target: TargetAttribution) -> str:
    """The target's label, and the token it is about when it is about one (a NER token, a QA start or end)."""
    if target.position is None or target.position >= len(explanation.tokens):
        return target.label
    return f"{target.label} at {explanation.tokens[target.position]} ({target.position})"


def _title(explanation: Explanation) -> str:
    return " / ".join(str(value) for value in explanation.inputs.values() if isinstance(value, str))


def _table(explanation: Explanation) -> str:
    probability = explanation.probabilities.get(explanation.predicted_label)
    predicted = escape(explanation.predicted_label) + (f" ({probability:.2f})" if probability is not None else "")
    true = explanation.details.get("true_label")
    true_cell = f"<td>{escape(str(true))}</td>" if true is not None else ""
    rows = "".join(
        f"<tr>{true_cell}<td>{predicted}</td><td>{escape(t.label)}</td><td>{t.total:.3f}</td><td>{t.delta:.2e}</td></tr>"
        for t in explanation.targets
    )
    head = (
        "<tr>" + ("<th>true label</th>" if true is not None else "")
        + "<th>predicted label</th><th>attribution label</th><th>attribution score</th><th>convergence delta</th></tr>"
    )
    return f"<table>{head}{rows}</table>"


def _pieces(explanation: Explanation, target: TargetAttribution) -> str:
    word_bound = max(map(abs, target.word_scores), default=0.0)
    token_bound = max(map(abs, target.token_scores), default=0.0)
    words = "".join(_piece(word.text, score, word_bound) for word, score in zip(explanation.words, target.word_scores))
    tokens = "".join(_piece(token, score, token_bound) for token, score in zip(explanation.tokens, target.token_scores))
    return f'<div class="text words">{words}</div><div class="text tokens">{tokens}</div>'


def _piece(text: str, score: float, bound: float) -> str:
    label = f"{score:+.4f}"
    ink = "#fff" if bound > 0 and abs(score) > 0.6 * bound else "#222"
    return (
        f'<span class="piece" style="background: {css_color(score, bound)}; color: {ink}" title="{label}" '
        f'data-score="{label}">{escape(text)}</span> '
    )


def _legend() -> str:
    stops = ", ".join(css_color(value, 1.0) for value in (-1.0, -0.5, 0.0, 0.5, 1.0))
    return (
        '<div class="legend"><span>pushes against</span>'
        f'<span class="bar" style="background: linear-gradient(to right, {stops})"></span><span>pushes toward</span></div>'
    )


@hookimpl
def register_renderers(register):
    register(HtmlRenderer)
