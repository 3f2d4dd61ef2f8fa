"""The html renderer: one self-contained page, escaped, with coloured and scored tokens."""

from __future__ import annotations

import re

import pytest

import attrix
from attrix.renderers.html import HtmlRenderer
from tiny_models import build

HOSTILE = 'i love <script>alert("x")</script> "><img src=x onerror=alert(1)> movie'


@pytest.fixture(scope="module")
def explanations():
    model, tokenizer = build("bert", seed=12)
    return attrix.Explainer(model, tokenizer, n_steps=4)([HOSTILE, "the food was awful"], target="all")


@pytest.fixture(scope="module")
def page(explanations):
    return HtmlRenderer().render(explanations)


def test_user_text_is_escaped(page):
    assert "<script" not in page.lower() and "<img" not in page.lower()
    assert "&lt;script&gt;" in page and "onerror" in page  # shown as text


def test_page_is_self_contained(page):
    assert not re.search(r"(src|href)=\"(https?:)?//", page)
    assert "@import" not in page and "url(" not in page


def test_every_token_and_word_carries_its_score(page, explanations):
    titles = re.findall(r'class="piece"[^>]*title="([^"]+)"', page)
    expected = [
        f"{score:+.4f}"
        for explanation in explanations
        for target in explanation.targets
        for score in target.word_scores + target.token_scores
    ]
    assert titles == expected


def test_positive_and_negative_scores_get_different_colours(explanations):
    page = HtmlRenderer().render(explanations[:1])
    pieces = re.findall(r'style="background: (rgb\([^)]*\))[^"]*" title="([+-])', page)
    positive = {colour for colour, sign in pieces if sign == "+"}
    negative = {colour for colour, sign in pieces if sign == "-"}
    assert positive and negative and not positive & negative


def test_table_has_a_row_per_target_and_an_index(page, explanations):
    assert page.count("<tr><td>") == sum(len(e.targets) for e in explanations)
    assert 'href="#explanation-1"' in page


def test_notebook_display_uses_the_renderer(explanations):
    html = explanations[1]._repr_html_()
    assert html.startswith("<!DOCTYPE html>") and "the food was awful" in html and "<nav>" not in html


def test_html_renderer_is_registered():
    assert attrix.get_registry().get("renderer", "html").obj is HtmlRenderer
