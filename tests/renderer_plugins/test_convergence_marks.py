"""A target whose attributions have not converged is marked in every view (html, png, terminal, the app), and only
that one; a method that claims no completeness (``converged`` None) is marked nowhere."""

from __future__ import annotations

from dataclasses import replace

import pytest

from attrix.app.logic import Result
from attrix.renderers.html import HtmlRenderer
from attrix.renderers.png import text_figure
from attrix.renderers.terminal import TerminalRenderer
from helpers.hand_built import text_explanation
from helpers.html_dom import parse

MARK = "not converged"


def marked(converged: tuple[bool | None, bool | None]):
    """The hand-built sentiment explanation with its POSITIVE and NEGATIVE targets' ``converged`` set."""
    explanation = text_explanation(settings={"n_steps": 8, "tolerance": 0.01})
    explanation.targets = [replace(target, converged=flag) for target, flag in zip(explanation.targets, converged)]
    return explanation


@pytest.mark.parametrize("converged", [(True, False), (False, True), (True, True), (None, None)])
def test_html_marks_the_delta_of_each_unconverged_target_and_warns_once(converged):
    page = parse(HtmlRenderer().render([marked(converged)]))
    rows = page.find("table").find_all("tr")[1:]
    assert [MARK in row.children[-1].text for row in rows] == [flag is False for flag in converged]
    warnings = page.find_all("p", "unconverged")
    assert len(warnings) == (1 if False in converged else 0)


@pytest.mark.parametrize("converged", [(True, False), (False, True), (None, None)])
def test_the_terminal_marks_the_line_of_each_unconverged_target(converged):
    blocks = TerminalRenderer(color="never").render([marked(converged)]).split("toward ")[1:]
    assert [MARK in " ".join(block.split()) for block in blocks] == [flag is False for flag in converged]


@pytest.mark.parametrize("converged", [(True, False), (None, None)])
def test_the_png_marks_the_heading_of_each_unconverged_target(converged):
    figure = text_figure(marked(converged), "words")
    headings = [text.get_text() for text in figure.axes[0].texts if text.get_text().startswith("toward")]
    assert [MARK.upper() in heading for heading in headings] == [flag is False for flag in converged]


def test_the_app_warns_and_names_the_unconverged_targets_only():
    warning = Result(marked((True, False)), 1.0).convergence_warning
    assert warning is not None and "NEGATIVE" in warning and "POSITIVE" not in warning and "1%" in warning
    assert Result(marked((True, True)), 1.0).convergence_warning is None
    assert Result(marked((None, None)), 1.0).convergence_warning is None
