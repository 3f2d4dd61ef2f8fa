"""The html renderer: escaped and self-contained, scored and coloured pieces, the table of each kind, pages, notebooks."""

from __future__ import annotations

import base64
import re
import sys
import types
from dataclasses import replace
from io import BytesIO

import numpy as np
import pytest
import torch
from PIL import Image

import attrix
from attrix.api.display import display
from attrix.renderers.html import HtmlRenderer
from helpers.html_dom import Node, parse
from helpers.tiny_models import build
from helpers.tiny_nli import build_nli, spread
from helpers.tiny_vision import build as build_vision
from helpers.tiny_vision import image

HOSTILE = ["i love <script>window.__pwned=1</script>", '"><img src=x onerror="window.__pwned=1"> movie']
HOSTILE_LABEL = '<b onmouseover="x()">bad</b>'
TEXTS = ["i love this movie it is great", "the food was awful and the acting was terrible"]
NER = {0: "O", 1: "B-PER", 2: "I-PER", 3: "B-LOC", 4: "I-LOC"}


@pytest.fixture(scope="module", autouse=True)
def _one_thread(one_torch_thread):
    """Every model here is tiny: one torch thread is fastest on a shared machine."""


@pytest.fixture(scope="module")
def classifier():
    return build("bert", num_labels=3, seed=12, id2label={0: "NEGATIVE", 1: "NEUTRAL", 2: "POSITIVE"})


@pytest.fixture(scope="module")
def explanations(classifier):
    return attrix.Explainer(*classifier, n_steps=8)(TEXTS, target="all")


@pytest.fixture(scope="module")
def hostile_page():
    """A page where the input, a label, the model's name and the title are all hostile."""
    model, tokenizer = build("bert", seed=12, id2label={0: "NEGATIVE", 1: HOSTILE_LABEL})
    model.config._name_or_path = "<i>model</i>"
    explanations = attrix.Explainer(model, tokenizer, n_steps=2)(HOSTILE, target="all")
    return HtmlRenderer(title="<title>x</title>").render(explanations)


def hex_rgb(style: str) -> tuple[int, int, int]:
    """The red, green and blue of a piece's ``background:#rrggbb`` style."""
    colour = re.fullmatch(r"background:#([0-9a-f]{6})", style).group(1)
    return int(colour[:2], 16), int(colour[2:4], 16), int(colour[4:], 16)


def section(page: Node, number: int) -> Node:
    return next(node for node in page.find_all("section", "explanation") if node.attrs["id"] == f"explanation-{number}")


def cells_of(page: str, kind: str) -> list[dict[str, str]]:
    """The rows of every ``<table class=kind>`` in ``page``, each a dict from column name to cell text."""
    rows = []
    for found in parse(page).find_all("table", kind):
        head, *body = found.rows()
        rows.extend(dict(zip(head, row)) for row in body)
    return rows


def split_label(cell: str) -> tuple[str, float]:
    """``LABEL (0.123)`` as the label and the probability."""
    label, probability = re.fullmatch(r"(.*) \(([0-9.]+)\)", cell).groups()
    return label, float(probability)


def test_user_text_shows_as_text_and_never_as_markup(hostile_page):
    page = parse(hostile_page)
    assert not {node.tag for node in page.iter()} & {"script", "img", "b", "i"}
    assert [node.text for node in page.find_all("title")] == ["<title>x</title>"] and page.find("h1").text == "<title>x</title>"
    assert [node.text for node in page.find_all("h2")] == [f"{n}. {text}" for n, text in enumerate(HOSTILE, 1)]
    assert page.find("p", "summary").text.endswith("<i>model</i>") and "<i>model</i>" in page.find("p", "meta").text
    assert [row["attribution label"] for row in cells_of(hostile_page, "targets")] == ["NEGATIVE", HOSTILE_LABEL] * 2
    assert f"toward {HOSTILE_LABEL}" in [node.text for node in page.find_all("h3")]
    for number, text in enumerate(HOSTILE):
        for view in section(page, number).find_all("div", "words"):
            assert "".join(view.text.split()) == "".join(text.split())
        assert {"<", ">"} <= {span.text for span in section(page, number).find("div", "tokens").find_all("span")}


def test_page_loads_nothing_and_runs_nothing(explanations):
    page = HtmlRenderer().render(explanations)
    nodes = list(parse(page).iter())
    assert not {node.tag for node in nodes} & {"script", "link", "iframe", "object", "embed", "img"}
    assert all(node.attrs["href"].startswith("#") for node in nodes if "href" in node.attrs)
    assert not any(name.startswith("on") for node in nodes for name in node.attrs)
    assert not re.search(r"url\(|@import|@font-face|https?:", page)


def test_every_word_and_token_carries_its_exact_score_as_its_tooltip(explanations):
    page = parse(HtmlRenderer().render(explanations))
    for number, explanation in enumerate(explanations):
        words, tokens = section(page, number).find_all("div", "words"), section(page, number).find_all("div", "tokens")
        assert len(words) == len(tokens) == len(explanation.targets)
        for target, word_view, token_view in zip(explanation.targets, words, tokens):
            word_spans, token_spans = word_view.find_all("span"), token_view.find_all("span")
            assert [span.text for span in word_spans] == [word.text for word in explanation.words]
            assert [span.text for span in token_spans] == explanation.tokens
            assert [float(span.attrs["title"]) for span in word_spans] == pytest.approx(target.word_scores, rel=1e-5, abs=1e-12)
            assert [float(span.attrs["title"]) for span in token_spans] == pytest.approx(target.token_scores, rel=1e-5, abs=1e-12)


def test_positive_pieces_are_green_negative_pink_and_stronger_is_darker(explanations):
    page = parse(HtmlRenderer().render(explanations))
    signs = set()
    for view in page.find_all("div", "text"):
        spans = view.find_all("span")
        bound = max(abs(float(span.attrs["title"])) for span in spans)
        for span in spans:
            score, (red, green, blue) = float(span.attrs["title"]), hex_rgb(span.attrs["style"])
            if score > 0.1 * bound:
                assert green > red, (score, red, green, blue)
            elif score < -0.1 * bound:
                assert red > green, (score, red, green, blue)
            else:
                assert min(red, green, blue) > 200  # near zero is near white
            signs.add(np.sign(score))
        strongest = max(spans, key=lambda span: abs(float(span.attrs["title"])))
        assert sum(hex_rgb(strongest.attrs["style"])) < 3 * 200 and "d" in strongest.classes  # dark, with white ink
    assert {-1.0, 1.0} <= signs


def test_sequence_table_has_a_row_per_target_as_transformers_interpret_shows_it(explanations, classifier):
    model, tokenizer = classifier
    page = HtmlRenderer().render(explanations)
    rows = cells_of(page, "targets")
    assert len(rows) == sum(len(e.targets) for e in explanations) == 2 * 3
    with torch.no_grad():
        probabilities = torch.softmax(model(**tokenizer(TEXTS, padding=True, return_tensors="pt")).logits, -1)
    for explanation, expected, own in zip(explanations, probabilities, (rows[:3], rows[3:])):
        for row, target in zip(own, explanation.targets):
            label, probability = split_label(row["predicted label"])
            assert label == model.config.id2label[int(expected.argmax())]
            assert probability == pytest.approx(float(expected.max()), abs=5e-4)
            assert row["attribution label"] == target.label
            # the attribution score is the sum: f(x) - f(baseline) up to the convergence delta
            assert float(row["attribution score"]) == pytest.approx(target.score - target.baseline_score, abs=abs(target.delta) + 1e-3)
            assert float(row["convergence delta"]) == pytest.approx(target.delta, rel=1e-2, abs=1e-12)


def test_a_true_label_gets_its_own_column(explanations):
    labelled = replace(explanations[0], details={"true_label": "POSITIVE"})
    rows = cells_of(HtmlRenderer().render([labelled]), "targets")
    assert [row["true label"] for row in rows] == ["POSITIVE"] * 3
    assert "true label" not in cells_of(HtmlRenderer().render(explanations[:1]), "targets")[0]


def test_multilabel_table_has_a_row_per_label_with_its_own_probability():
    labels = {0: "action", 1: "comedy", 2: "drama", 3: "horror"}
    model, tokenizer = build("bert", seed=5, id2label=labels)
    spread(model, 0.3, seed=5)
    model.config.problem_type = "multi_label_classification"
    explanation = attrix.Explainer(model, tokenizer, n_steps=2)(TEXTS[0])
    with torch.no_grad():
        sigmoids = torch.sigmoid(model(**tokenizer(TEXTS[0], return_tensors="pt")).logits)[0]
    rows = cells_of(HtmlRenderer().render([explanation]), "labels")
    assert [row["label"] for row in rows] == list(labels.values())
    assert [float(row["probability"]) for row in rows] == pytest.approx(sigmoids.tolist(), abs=5e-4)
    assert [row["predicted"] for row in rows] == ["yes" if p > 0.5 else "no" for p in sigmoids.tolist()]
    assert {"yes", "no"} == {row["predicted"] for row in rows}


def test_zero_shot_table_has_a_row_per_candidate_label_best_first():
    model, tokenizer = build_nli("bert", seed=3, std=0.3)
    candidates = ["sports", "music", "food"]
    explanation = attrix.Explainer(model, tokenizer, task="zero_shot", n_steps=2)({"text": TEXTS[0], "candidate_labels": candidates})
    rows = cells_of(HtmlRenderer().render([explanation]), "labels")
    probabilities = [float(row["probability"]) for row in rows]
    assert sorted(row["label"] for row in rows) == sorted(candidates)
    assert probabilities == sorted(probabilities, reverse=True) and sum(probabilities) == pytest.approx(1, abs=2e-3)
    assert [row["predicted"] for row in rows] == ["yes", "no", "no"]


def test_qa_table_has_a_start_row_and_an_end_row_with_the_answer():
    model, tokenizer = build("bert", head="qa", seed=4)
    question, context = "who is the best actor", "the food was awful but the actor was great and the music was wonderful"
    explanation = attrix.Explainer(model, tokenizer, n_steps=2)((question, context))
    page = HtmlRenderer().render([explanation])
    rows = cells_of(page, "qa")
    assert [row["end"] for row in rows] == ["start", "end"]
    first, last = (int(re.search(r"\((\d+)\)$", row["token"]).group(1)) for row in rows)
    assert first <= last and [row["token"] for row in rows] == [f"{explanation.tokens[p]} ({p})" for p in (first, last)]
    answer = rows[0]["answer"]
    offsets = tokenizer(question, context, return_offsets_mapping=True)["offset_mapping"]
    assert answer == rows[1]["answer"] and answer in context
    assert context[offsets[first][0] : offsets[last][1]] in answer  # the answer spans the tokens of its two rows
    for view in parse(page).find_all("div", "words"):  # the context starts on its own line
        before_break = view.children[: next(n for n, child in enumerate(view.children) if getattr(child, "tag", "") == "br")]
        assert [node.text for node in before_break if getattr(node, "tag", "") == "span"] == question.split()
    caption = float(parse(page).find("caption").text.split()[-1])
    assert float(rows[0]["probability"]) * float(rows[1]["probability"]) == pytest.approx(caption, abs=2e-3)


def test_ner_table_has_a_row_per_explained_token_and_per_entity():
    model, tokenizer = build("bert", head="token", id2label=NER, seed=1)
    text = "the movie was wonderful and the actor was great"
    explanation = attrix.Explainer(model, tokenizer, n_steps=2)(text)
    with torch.no_grad():
        predicted = model(**tokenizer(text, return_tensors="pt")).logits[0].argmax(-1).tolist()
    page = HtmlRenderer().render([explanation])
    rows = cells_of(page, "tokens-explained")
    assert len(rows) == len(tokenizer(text)["input_ids"]) - 2  # every token but [CLS] and [SEP]
    for position, row in enumerate(rows, 1):
        assert row["token"] == f"{explanation.tokens[position]} ({position})"
        label, _ = split_label(row["predicted label"])
        assert label == row["attribution label"] == NER[predicted[position]]
    entities = cells_of(page, "entities")
    assert entities and [(row["entity"], row["word"]) for row in entities] == [
        (entity["entity_group"], entity["word"]) for entity in explanation.details["entities"]
    ]


def test_image_explanations_embed_their_heatmaps_as_png_data():
    model, processor = build_vision("vit", seed=1)
    explanation = attrix.Explainer(model, processor, n_steps=4)(image(seed=0), target="all")
    page = parse(HtmlRenderer().render([explanation]))
    pictures = page.find_all("img", "heatmap")
    assert len(pictures) == len(explanation.targets) == 3 and len(cells_of(HtmlRenderer().render([explanation]), "targets")) == 3
    assert not page.find_all("div", "text") and not page.find_all("input")  # no words, no word/token switch
    drawn = []
    for picture in pictures:
        prefix, data = picture.attrs["src"].split(",", 1)
        assert prefix == "data:image/png;base64"
        decoded = np.asarray(Image.open(BytesIO(base64.b64decode(data))).convert("RGB"))
        assert decoded.shape[0] > 100 and decoded.shape[1] > 100 and decoded.std() > 10
        drawn.append(decoded)
    assert not np.array_equal(drawn[0], drawn[1])  # each target its own attributions


def test_layer_attributions_are_drawn_per_patch_or_said_to_be_missing():
    vit = attrix.Explainer(*build_vision("vit", seed=1), backend="layer_ig", n_steps=2)(image(seed=0))
    grid = np.asarray(vit.details["patch_scores"][0])
    assert grid.shape == (4, 4) and vit.details["attributed_at"] != "pixel_values"
    assert len(parse(HtmlRenderer().render([vit])).find_all("img", "heatmap")) == 1
    resnet = attrix.Explainer(*build_vision("resnet", seed=1), backend="layer_ig", n_steps=2)(image(seed=0))
    page = parse(HtmlRenderer().render([resnet]))
    assert not page.find_all("img") and "no per-pixel or per-patch attributions" in page.find("section").text


def test_big_reports_are_paged_with_an_index(explanations):
    many = [replace(explanations[n % 2], inputs={"text": f"text number {n}"}) for n in range(120)]
    page = parse(HtmlRenderer(page_size=50).render(many))
    pages = page.find_all("div", "page")
    assert [p.attrs["id"] for p in pages] == ["page-1", "page-2", "page-3"]
    assert [len(p.find_all("section", "explanation")) for p in pages] == [50, 50, 20]
    assert section(pages[2], 101).find("h2").text == "102. text number 101"
    links = [a.attrs["href"] for a in page.find("nav").find_all("a")]
    assert links[:3] == ["#page-1", "#page-2", "#page-3"] and links[3:] == [f"#explanation-{n}" for n in range(120)]
    assert "open" not in page.find("details").attrs  # folded away: there are pages
    assert pages[1].find("p", "pager").text.startswith("page 2 of 3: explanations 51–100")


def test_a_report_of_one_page_has_an_open_index_and_no_pager(explanations):
    page = parse(HtmlRenderer().render(explanations))
    assert len(page.find_all("div", "page")) == 1 and not page.find_all("p", "pager")
    assert "open" in page.find("details").attrs
    assert not parse(HtmlRenderer(index=False).render(explanations)).find_all("nav")


def test_no_explanations_is_an_empty_report_that_says_so():
    page = parse(HtmlRenderer().render([]))
    assert page.find("p", "summary").text == "no explanations" and not page.find_all("section")


def test_rendering_is_deterministic(explanations):
    assert HtmlRenderer().render(explanations) == HtmlRenderer().render(explanations)


def test_bad_options_get_clear_errors():
    with pytest.raises(attrix.UnknownNameError, match="unknown option 'colour'.*valid: index, page_size, title"):
        attrix.create("renderer", "html", colour="red")
    for bad in (0, -3, 2.5, True, "10"):
        with pytest.raises(attrix.InputError, match=re.escape(f"option 'page_size' of renderer 'html' must be an integer >= 1, got {bad!r}")):
            HtmlRenderer(page_size=bad)
    with pytest.raises(attrix.InputTypeError, match="option 'title' of renderer 'html' must be a string, got None"):
        HtmlRenderer(title=None)
    with pytest.raises(attrix.InputTypeError, match="option 'index' of renderer 'html' must be true or false, got 'yes'"):
        attrix.create("renderer", "html", index="yes")


def test_writing_creates_the_missing_directory(explanations, tmp_path):
    path = HtmlRenderer().write(explanations, tmp_path / "new" / "deeper" / "report.html")
    assert path.read_text(encoding="utf-8") == HtmlRenderer().render(explanations)


def test_notebook_fragment_is_scoped_to_itself(explanations):
    first, second = explanations[0]._repr_html_(), explanations[0]._repr_html_()
    assert not re.search(r"<(html|head|body|h1)\b", first) and "<nav" not in first
    style = re.search(r"<style>(.*?)</style>", first, re.S).group(1)
    selectors = [rule.split("{")[0] for rule in style.strip().split("}") if rule.strip()]
    assert selectors and all(part.strip().startswith(".attrix") for rule in selectors for part in rule.split(","))
    names = [re.findall(r'name="([^"]+)"', fragment) for fragment in (first, second)]
    assert len(set(names[0])) == 1 and set(names[0]).isdisjoint(names[1])  # each output's switch is its own
    ids = [set(re.findall(r'id="([^"]+)"', fragment)) for fragment in (first, second)]
    assert ids[0] and ids[0].isdisjoint(ids[1])


def fake_ipython(monkeypatch, shell: object | None) -> list[object]:
    """Install a stand-in IPython whose ``get_ipython()`` is ``shell``; the list collects what it displays."""
    shown: list[object] = []
    package, module = types.ModuleType("IPython"), types.ModuleType("IPython.display")
    package.get_ipython = lambda: shell
    module.HTML = type("HTML", (), {"__init__": lambda self, data: setattr(self, "data", data)})
    module.display = shown.append
    package.display = module
    monkeypatch.setitem(sys.modules, "IPython", package)
    monkeypatch.setitem(sys.modules, "IPython.display", module)
    return shown


def test_display_shows_the_fragment_under_ipython(monkeypatch, explanations):
    shown = fake_ipython(monkeypatch, shell=object())
    assert display(explanations, page_size=1) is None
    (html,) = shown
    page = parse(html.data)
    assert len(page.find_all("div", "page")) == 2 and "<h1>" not in html.data
    assert [node.text for node in page.find_all("h2")] == [f"{n + 1}. {text}" for n, text in enumerate(TEXTS)]


def test_display_returns_the_html_without_ipython(monkeypatch, explanations):
    monkeypatch.setitem(sys.modules, "IPython", None)  # not installed: importing it fails
    html = display(explanations[1], title="one")
    assert isinstance(html, str) and parse(html).find("h1").text == "one"
    assert parse(html).find("h2").text == f"1. {TEXTS[1]}"
    shown = fake_ipython(monkeypatch, shell=None)  # installed, but not running
    assert isinstance(display(explanations[1]), str) and not shown


def test_display_refuses_what_it_cannot_show(monkeypatch, explanations):
    monkeypatch.setitem(sys.modules, "IPython", None)
    with pytest.raises(attrix.InputTypeError, match="display takes an Explanation or a list of them, got str"):
        display("i love it")
    with pytest.raises(attrix.InputTypeError, match="got list"):
        display([explanations[0], "i love it"])
    with pytest.raises(attrix.UnknownNameError, match="unknown option 'colour'.*valid: index, page_size, title"):
        display(explanations, colour="red")


def test_display_is_exported():
    assert attrix.display is display


def test_html_renderer_is_registered():
    assert attrix.get_registry().get("renderer", "html").obj is HtmlRenderer
