"""The html renderer's pages opened from disk in headless Chromium: colours, tooltips, the switch, injections, paging, kinds."""

from __future__ import annotations

import time
from dataclasses import replace

import numpy as np
import pytest
from PIL import Image

import attrix
from attrix.commands.demo import DEMO_TEXTS
from attrix.renderers.html import HtmlRenderer
from helpers.browser import chromium_page
from helpers.tiny_models import build
from helpers.tiny_vision import build as build_vision
from helpers.tiny_vision import image

INJECTIONS = ["<script>window.__pwned=1</script> i love it", '"><img src=x onerror="window.__pwned=1"> the food']
PIECES = """(selector) => [...document.querySelectorAll(selector)].filter((span) => span.checkVisibility()).map((span) => {
    const [red, green, blue] = getComputedStyle(span).backgroundColor.match(/\\d+/g).map(Number);
    return {text: span.textContent, title: span.title, red, green, blue};
})"""


pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def demo(default_model_dir_fixture, one_torch_thread):
    """The demo sentences explained by the embedded default model, toward both labels."""
    return attrix.Explainer(str(default_model_dir_fixture), n_steps=16)(list(DEMO_TEXTS), target="all")


@pytest.fixture(scope="module")
def demo_page(demo, tmp_path_factory):
    return HtmlRenderer(title="attrix demo").write(demo, tmp_path_factory.mktemp("demo") / "demo.html")


def test_demo_sentences_are_highlighted_green_toward_and_pink_against(demo, demo_page, tmp_path):
    with chromium_page() as page:
        page.goto(demo_page.as_uri())
        words = page.evaluate(PIECES, ".words span")
        page.screenshot(path=tmp_path / "demo.png", full_page=True)
    expected = [(w.text, s) for e in demo for t in e.targets for w, s in zip(e.words, t.word_scores)]
    assert [piece["text"] for piece in words] == [text for text, _ in expected]
    assert [float(piece["title"]) for piece in words] == pytest.approx([s for _, s in expected], rel=1e-5, abs=1e-12)
    strong = max(abs(score) for _, score in expected) * 0.2
    positive = [p for p, (_, score) in zip(words, expected) if score > strong]
    negative = [p for p, (_, score) in zip(words, expected) if score < -strong]
    assert positive and negative
    assert all(p["green"] > p["red"] for p in positive) and all(p["red"] > p["green"] for p in negative)
    # the screenshot shows it: many clearly green pixels and many clearly pink ones
    pixels = np.asarray(Image.open(tmp_path / "demo.png").convert("RGB")).astype(int)
    red, green, blue = pixels[..., 0], pixels[..., 1], pixels[..., 2]
    assert ((green - red > 40) & (green > blue)).sum() > 2000
    assert ((red - green > 40) & (blue > green)).sum() > 2000


def test_the_word_token_switch_shows_one_view_at_a_time(demo, demo_page):
    tokens = sum(len(e.tokens) * len(e.targets) for e in demo)
    words = sum(len(e.words) * len(e.targets) for e in demo)
    with chromium_page() as page:
        page.goto(demo_page.as_uri())
        before = len(page.evaluate(PIECES, ".words span")), len(page.evaluate(PIECES, ".tokens span"))
        page.click("label[for=view-tokens]")
        after = len(page.evaluate(PIECES, ".words span")), len(page.evaluate(PIECES, ".tokens span"))
        titles = [float(piece["title"]) for piece in page.evaluate(PIECES, ".tokens span")]
        page.click("label[for=view-words]")
        back = len(page.evaluate(PIECES, ".words span")), len(page.evaluate(PIECES, ".tokens span"))
    assert before == back == (words, 0) and after == (0, tokens)
    assert titles == pytest.approx([s for e in demo for t in e.targets for s in t.token_scores], rel=1e-5, abs=1e-12)


def test_injected_markup_shows_as_text_and_runs_nothing(tmp_path):
    model, tokenizer = build("bert", seed=12, id2label={0: "NEGATIVE", 1: '<img src=x onerror="window.__pwned=1">'})
    explanations = attrix.Explainer(model, tokenizer, n_steps=2)(INJECTIONS, target="all")
    path = HtmlRenderer(title="<script>window.__pwned=1</script>").write(explanations, tmp_path / "injected.html")
    requests, dialogs, errors = [], [], []
    with chromium_page() as page:
        page.on("request", lambda request: requests.append(request.url))
        page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(path.as_uri())
        headings = page.locator("h2").all_inner_texts()
        labels = page.locator("h3").all_inner_texts()
        title, pwned = page.title(), page.evaluate("typeof window.__pwned")
        elements = page.evaluate("document.querySelectorAll('script, img').length")
        page.screenshot(path=tmp_path / "injected.png", full_page=True)
    assert pwned == "undefined" and elements == 0 and not dialogs and not errors
    assert requests == [path.as_uri()]  # the page itself and nothing else
    assert headings == [f"{n}. {text}" for n, text in enumerate(INJECTIONS, 1)]
    assert title == "<script>window.__pwned=1</script>"
    assert 'toward <img src=x onerror="window.__pwned=1">' in labels


def test_a_report_of_a_thousand_explanations_opens_fast_and_pages(demo, tmp_path):
    many = [replace(demo[n % len(demo)], inputs={"text": f"text {n}: {demo[n % len(demo)].inputs['text']}"}) for n in range(1000)]
    started = time.perf_counter()
    path = HtmlRenderer(page_size=50).write(many, tmp_path / "many.html")
    rendered = time.perf_counter() - started
    size = path.stat().st_size
    with chromium_page() as page:
        started = time.perf_counter()
        page.goto(path.as_uri(), wait_until="load")
        opened = time.perf_counter() - started
        load_event = page.evaluate("performance.getEntriesByType('navigation')[0].loadEventEnd")
        visible = [page.is_visible(f"#explanation-{n}") for n in (0, 49, 50, 300)]
        page.click("nav a[href='#page-7']")
        on_seven = [page.is_visible(f"#explanation-{n}") for n in (0, 299, 300, 349, 350)]
        heading = page.inner_text("#explanation-300 h2")
        page.click("#page-7 .pager a:text('next')")
        on_eight = page.is_visible("#explanation-350"), page.is_visible("#explanation-300")
        page.click("nav summary")
        page.click("nav a[href='#explanation-987']")
        last = page.is_visible("#explanation-987"), page.is_visible("#explanation-950"), page.is_visible("#explanation-350")
        in_view = page.evaluate("document.querySelector('#explanation-987').getBoundingClientRect().top")
        page.click("label[for=view-tokens]")
        switched = page.is_visible("#explanation-987 .tokens"), page.is_visible("#explanation-987 .words")
    print(f"\n1,000 explanations: {size / 1e6:.2f} MB, rendered in {rendered:.2f} s, "
          f"opened in Chromium in {opened:.2f} s (load event at {load_event:.0f} ms)")
    assert size < 10e6 and load_event < 5000
    assert visible == [True, True, False, False]
    assert on_seven == [False, False, True, True, False] and heading == f"301. {many[300].inputs['text']}"
    assert on_eight == (True, False)
    assert last == (True, True, False) and -1 < in_view < 900  # its page shown, scrolled to it
    assert switched == (True, False)


def test_every_kind_renders_with_its_table_and_images_decode(tmp_path, one_torch_thread):
    ner_model, ner_tokenizer = build("bert", head="token", seed=1, id2label={0: "O", 1: "B-PER", 2: "I-PER", 3: "B-LOC", 4: "I-LOC"})
    qa_model, qa_tokenizer = build("bert", head="qa", seed=4)
    vit, processor = build_vision("vit", seed=1)
    explanations = [
        attrix.Explainer(ner_model, ner_tokenizer, n_steps=2)("the actor was great"),
        attrix.Explainer(qa_model, qa_tokenizer, n_steps=2)(("who was great", "the actor was great")),
        attrix.Explainer(vit, processor, n_steps=2)(image(seed=0)),
    ]
    path = HtmlRenderer().write(explanations, tmp_path / "kinds.html")
    with chromium_page() as page:
        page.goto(path.as_uri())
        tables = page.evaluate("[...document.querySelectorAll('section table')].map((table) => table.className)")
        pictures = page.evaluate(
            "[...document.querySelectorAll('img.heatmap')].map((img) => [img.complete, img.naturalWidth, img.naturalHeight])"
        )
        page.screenshot(path=tmp_path / "kinds.png", full_page=True)
    entities = ["entities"] if explanations[0].details["entities"] else []
    assert tables == ["tokens-explained", *entities, "qa", "targets"]
    assert len(pictures) == 1 and pictures[0][0] and pictures[0][1] > 100 and pictures[0][2] > 100
