"""The renderers' generation views: a continuation's tokens to pick in html, the step × word heatmap (html and png),
each step's top sources in the terminal, and the JSON round trip, on explanations built by hand."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from io import BytesIO

import numpy as np
import pytest
from PIL import Image

from attrix.contracts.explanation import Explanation, GeneratedToken, Generation, TargetAttribution, Word
from attrix.renderers.generation_figures import generation_figure
from attrix.renderers.generation_html import step_style
from attrix.renderers.html import HtmlRenderer
from attrix.renderers.html_style import colour
from attrix.renderers.json import JsonRenderer, read_json
from attrix.renderers.jsonl import JsonlRenderer, read_jsonl
from attrix.renderers.png import PngRenderer
from attrix.renderers.terminal import TerminalRenderer
from helpers.browser import chromium_page
from helpers.hand_built import text_explanation
from helpers.html_dom import Node, parse

PROMPT = "The capital of France is"
TOKENS = ["The", " capital", " of", " France", " is", " Paris", "."]
WORDS = [Word("The", 0, 3, [0]), Word("capital", 4, 11, [1]), Word("of", 12, 14, [2]), Word("France", 15, 21, [3]),
         Word("is", 22, 24, [4]), Word("Paris", 1, 6, [5], 1), Word(".", 6, 7, [6], 1)]
STEP_SCORES = [[0.125, 0.5, -0.0625, 2.0, 0.25, 0.0, 0.0], [0.0625, -0.25, 0.0, 0.25, 0.125, 0.5, 0.0]]
"""Token (and word) scores of the two steps: zero at and after each step's own position."""
TOLERANCE = 0.05


def generation_explanation(prompt: str = PROMPT, continuation: tuple[str, ...] = (" Paris", "."),
                           scores: list[list[float]] = STEP_SCORES, deltas: tuple[float, ...] = (0.0625, -0.375)) -> Explanation:
    """`` Paris.`` after ``prompt``: step 1 leans on France, step 2 on Paris; step 2's delta is large (not converged by
    the ``TOLERANCE`` the explanation records)."""
    positions = range(len(TOKENS) - len(continuation), len(TOKENS))
    steps = [GeneratedToken(text.replace(" ", "Ġ"), text, 100 + n, position, 0.75 - 0.25 * n)
             for n, (text, position) in enumerate(zip(continuation, positions))]
    targets = [
        TargetAttribution(step.text, n, row, row, score=-0.25 * (n + 1), baseline_score=-0.25 * (n + 1) - sum(row) + delta,
                          delta=delta, position=step.position,
                          converged=abs(delta) <= TOLERANCE * abs(sum(row) - delta))
        for n, (step, row, delta) in enumerate(zip(steps, scores, deltas))
    ]
    text = "".join(continuation)
    return Explanation(
        task="generation", model="hand-built/lm", inputs={"prompt": prompt}, tokens=TOKENS, words=list(WORDS), targets=targets,
        predicted_label=text, probabilities={}, method="layer_ig", settings={"n_steps": 8, "tolerance": TOLERANCE},
        generation=Generation(text, len(TOKENS) - len(continuation), steps),
    )


@pytest.fixture(scope="module")
def explanation() -> Explanation:
    return generation_explanation()


@pytest.fixture(scope="module")
def page(explanation) -> Node:
    return parse(HtmlRenderer().render([explanation]))


def properties(node: Node) -> dict[str, str]:
    """The custom properties of a node's ``style``: ``--g0`` -> ``#rrggbb``."""
    return dict(re.findall(r"(--[gi]\d+):([^;]+);", node.attrs.get("style") or ""))


def rgb(hex_colour: str) -> tuple[int, int, int]:
    return int(hex_colour[1:3], 16), int(hex_colour[3:5], 16), int(hex_colour[5:7], 16)


def test_each_generated_token_is_a_radio_button_with_its_label_the_first_picked(page, explanation):
    picks = page.find_all("input", "pick")
    labels = page.find(class_="continuation").find_all("label")
    assert [node.attrs["type"] for node in picks] == ["radio", "radio"]
    assert len({node.attrs["name"] for node in picks}) == 1
    assert ["checked" in node.attrs for node in picks] == [True, False]
    assert [node.attrs["aria-label"] for node in picks] == ["step 1: Paris", "step 2: ."]
    assert [label.attrs["for"] for label in labels] == [node.attrs["id"] for node in picks]
    assert [label.text for label in labels] == [" Paris", "."]
    assert page.find(class_="continuation").attrs["role"] == "radiogroup"
    assert "not converged" in labels[1].attrs["title"] and "not converged" not in labels[0].attrs["title"]


def test_every_word_carries_its_colour_toward_each_step_that_draws_on_it(page, explanation):
    prompt = page.find("div", "prompt").find_all("span", "w")
    continuation = page.find(class_="continuation").find_all("label")
    assert [span.text for span in prompt] == PROMPT.split()
    for k, target in enumerate(explanation.targets):
        bound = max(abs(score) for score in target.word_scores)
        for span, score in zip(prompt, target.word_scores):
            assert properties(span)[f"--g{k}"] == colour(score, bound)
            red, green, _ = rgb(properties(span)[f"--g{k}"])
            assert (green > red) if score > 0.1 * bound else (red > green) if score < -0.1 * bound else True
        assert ("--i0" in properties(prompt[3])) and "--i1" not in properties(prompt[3])  # France: dark only for step 1
    # " Paris" is drawn on by step 2 only (coloured as its word); "." by neither
    assert properties(continuation[0]) == {"--g1": colour(0.5, 0.5), "--i1": "#fff"}
    assert properties(continuation[1]) == {}


def test_the_css_switches_the_colours_by_the_picked_or_hovered_step(explanation):
    rendered = HtmlRenderer().render([explanation])
    assert step_style(2) in rendered and "<script" not in rendered
    assert ".generation:has(.k1:checked) .w" in step_style(2) and "var(--g1, transparent)" in step_style(2)
    assert ".k1 + label:hover" in step_style(2) and ".k2" not in step_style(2)
    assert 'name="view"' not in rendered  # no word/token switch for a generation alone


def test_the_heatmap_table_has_a_row_per_step_and_a_cell_per_word(page, explanation):
    table = page.find("table", "steps")
    rows = table.find_all("tr", "step")
    assert len(rows) == len(explanation.targets)
    assert [cell.text for cell in table.find_all("th", "word")] == [word.text for word in WORDS]
    for row, target, drawn_on in zip(rows, explanation.targets, (5, 6)):
        cells = row.find_all("td", "cell")
        assert len(cells) == len(WORDS)
        assert [float(cell.attrs["title"]) for cell in cells[:drawn_on]] == target.word_scores[:drawn_on]
        assert all("later" in cell.classes and not cell.text for cell in cells[drawn_on:])
        bound = max(abs(score) for score in target.word_scores)
        colours = [f"background:{colour(score, bound)}" for score in target.word_scores[:drawn_on]]
        assert [cell.attrs["style"] for cell in cells[:drawn_on]] == colours
    assert [row.children[1].text for row in rows] == ["Paris", "."]
    assert [row.children[2].text for row in rows] == ["0.750", "0.500"]


def test_the_unconverged_mark_is_on_the_step_with_the_big_delta_only(page, explanation):
    rows = page.find("table", "steps").find_all("tr", "step")
    marked = [n for n, row in enumerate(rows) if "unconverged" in row.classes]
    deltas = [row.find("td", "delta").text for row in rows]
    assert marked == [1]
    assert ["⚠" in delta for delta in deltas] == [False, True]
    assert float(deltas[0]) == pytest.approx(0.0625) and float(deltas[1].lstrip("⚠ ")) == pytest.approx(-0.375)
    converged = generation_explanation(deltas=(0.0625, 0.0))
    assert not parse(HtmlRenderer().render([converged])).find_all("tr", "unconverged")


def test_text_from_the_data_is_escaped_in_the_generation_view():
    hostile = generation_explanation(prompt="<script>x()</script>", continuation=('<img src=x onerror="y()">', "."))
    hostile.words[0] = Word("<b>The</b>", 0, 3, [0])
    rendered = HtmlRenderer().render([hostile])
    nodes = list(parse(rendered).iter())
    assert not {node.tag for node in nodes} & {"script", "img", "b"}
    assert not any(name.startswith("on") for node in nodes for name in node.attrs)
    assert parse(rendered).find(class_="continuation").find("label").text == '<img src=x onerror="y()">'


def test_a_chat_prompt_is_titled_by_its_messages_and_a_mixed_page_keeps_the_word_token_switch(explanation):
    chat = [{"role": "system", "content": "Answer briefly."}, {"role": "user", "content": PROMPT}]
    chatted = replace(explanation, inputs={"prompt": chat})
    rendered = HtmlRenderer().render([text_explanation(), chatted])
    sections = parse(rendered).find_all("section", "explanation")
    assert sections[1].find("h2").text == f"2. Answer briefly. / {PROMPT}"
    assert [bool(section.find_all(class_="generation")) for section in sections] == [False, True]
    assert 'name="view"' in rendered and len(sections[0].find_all("div", "words")) == 2
    assert TerminalRenderer(color="never").render([chatted]).startswith(f"Answer briefly. / {PROMPT}\n")


def test_the_terminal_lists_each_step_s_top_sources_in_score_order(explanation):
    lines = TerminalRenderer(color="never", top_k=3, width=200).render([explanation]).splitlines()
    assert lines[0] == PROMPT and lines[1] == '  continuation: " Paris."'
    assert lines[2].startswith('  step 1 "Paris" (p 0.750): France +2.000, capital +0.500, is +0.250   (sum +2.812')
    assert lines[3].startswith('  step 2 "." (p 0.500): Paris +0.500, France +0.250, is +0.125   (sum +0.688')
    assert lines[3].endswith("not converged") and "not converged" not in lines[2]


def test_the_terminal_escapes_control_characters_of_generated_tokens():
    sneaky = generation_explanation(continuation=(" Paris", "\x1b[2J"))
    output = TerminalRenderer(color="always").render([sneaky])
    assert "\x1b[2J" not in output and "\\x1b[2J" in output


def test_the_png_figure_labels_steps_and_words_and_grows_with_the_steps(explanation):
    figure = generation_figure(explanation)
    axes = {axis.get_label(): axis for axis in figure.axes}
    assert [label.get_text() for label in axes["steps"].get_yticklabels()] == ["Paris (0.75)", ". (0.50) *"]
    assert [label.get_text() for label in axes["totals"].get_xticklabels()] == [word.text for word in WORDS]
    heights = [bar.get_height() for bar in axes["totals"].patches]
    assert heights == pytest.approx(np.sum(STEP_SCORES, axis=0))
    three = replace(explanation, targets=[*explanation.targets, explanation.targets[1]])
    sizes = [Image.open(BytesIO(PngRenderer().render([e]))).size for e in (explanation, three)]
    assert sizes[1][0] == sizes[0][0] and sizes[1][1] > sizes[0][1]


def contrasted(explanation: Explanation) -> Explanation:
    """``explanation`` with its first step explained against `` Lyon``."""
    first, *others = explanation.generation.steps
    steps = [replace(first, contrast=" Lyon", contrast_probability=0.0625), *others]
    return replace(explanation, generation=replace(explanation.generation, steps=steps))


def test_a_contrast_shows_in_the_token_s_tooltip(explanation):
    label = parse(HtmlRenderer().render([contrasted(explanation)])).find(class_="continuation").find("label")
    assert label.attrs["title"] == "step 1: probability 0.750, against ' Lyon' (0.062)"


def test_json_and_jsonl_round_trips_keep_the_generation(explanation):
    assert read_json(JsonRenderer().render([explanation, contrasted(explanation)])) == [explanation, contrasted(explanation)]
    assert read_jsonl(JsonlRenderer().render([explanation, contrasted(explanation)])) == [explanation, contrasted(explanation)]
    data = json.loads(explanation.to_json())
    assert data["generation"]["steps"][1]["position"] == 6 and data["generation"]["prompt_length"] == 5
    assert Explanation.from_dict(data) == explanation


@pytest.mark.browser
def test_picking_the_second_token_recolours_the_prompt(explanation, tmp_path):
    path = HtmlRenderer().write([explanation], tmp_path / "generation.html")
    background = "(selector) => getComputedStyle(document.querySelector(selector)).backgroundColor"
    with chromium_page() as page:
        page.goto(path.as_uri())
        first = page.evaluate(background, ".prompt .w:nth-child(2)")
        page.hover(".continuation label >> nth=1")
        hovered = page.evaluate(background, ".prompt .w:nth-child(2)")
        page.mouse.move(0, 0)
        left = page.evaluate(background, ".prompt .w:nth-child(2)")
        page.click(".continuation label >> nth=1")
        page.mouse.move(0, 0)
        picked = page.evaluate(background, ".prompt .w:nth-child(2)")
        page.keyboard.press("ArrowLeft")
        back = page.evaluate(background, ".prompt .w:nth-child(2)")
    colours = [tuple(int(c) for c in re.findall(r"\d+", value)) for value in (first, picked)]
    bounds = [max(abs(s) for s in target.word_scores) for target in explanation.targets]
    assert colours == [rgb(colour(0.5, bounds[0])), rgb(colour(-0.25, bounds[1]))]  # capital: toward step 1, against step 2
    assert hovered == picked and left == back == first
