"""Property-based tests (Hypothesis): hostile texts, option values and JSON documents give an explanation (or a
backend) or an ``AttrixError``, never another exception; completeness holds; the HTML renderer emits no markup from data.

By default each property runs a bounded, derandomized number of examples, so that ``make test`` stays fast and
repeatable. ``ATTRIX_FUZZ=long`` (``make fuzz``) selects the ``long`` profile: many more examples, a fresh seed
each run (print it with ``--hypothesis-show-statistics``; replay a failure with ``--hypothesis-seed``).
"""

from __future__ import annotations

import json
import math
import warnings
from html.parser import HTMLParser

import pytest
from hypothesis import event, example, given
from hypothesis import strategies as st

import attrix
from attrix.contracts.explanation import Explanation, TargetAttribution, Word
from attrix.errors import AttrixError
from attrix.renderers.html import HtmlRenderer
from attrix.renderers.terminal import TerminalRenderer
from helpers.fuzzing import PROFILE, json_values, texts
from helpers.hand_built import text_explanation
from helpers.tiny_models import build


@pytest.fixture(scope="module")
def explainer():
    model, tokenizer = build("bert", num_labels=2, seed=1)
    return attrix.Explainer(model, tokenizer, n_steps=4)


@PROFILE
@given(text=texts)
@example(text="a \ud800 b")  # a lone surrogate: the tokenizer's TypeError before check_text refused it
@example(text="[CLS] [SEP] [PAD]")
@example(text="\x1b]0;pwned\x07 i love \x1b[31mthis")
@example(text="👨\u200d👩\u200d👧 שלום e\u0301 \u202e!!!")
@example(text="...")
@example(text="\u200b\u200d\ufeff")
def test_any_text_gives_a_complete_explanation_or_an_attrix_error(explainer, text):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # a long text is truncated with a warning
            explanation = explainer(text, target="all")
    except AttrixError as error:
        event(f"refused: {type(error).__name__}")
        return
    event("explained")
    assert explanation.inputs == {"text": text}
    assert len(explanation.targets) == 2
    for target in explanation.targets:
        assert len(target.token_scores) == len(explanation.tokens) and len(target.word_scores) == len(explanation.words)
        assert all(math.isfinite(score) for score in target.token_scores)
        assert target.total == pytest.approx(target.score - target.baseline_score + target.delta, abs=1e-4)
    for word in explanation.words:
        assert 0 <= word.start <= word.end <= len(text) and word.text == text[word.start:word.end]
    back = Explanation.from_json(explanation.to_json())
    assert back == explanation
    output = TerminalRenderer(color="always", width=80).render([explanation])
    assert "\x07" not in output and "\x1b]" not in output  # nothing from the text retitles the terminal


class Markup(HTMLParser):
    """What a page's markup is: its start and end tags with their attribute names, comments, declarations."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.events: list[tuple] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.events.append(("start", tag, tuple(name for name, _ in attrs)))

    def handle_startendtag(self, tag, attrs):
        self.events.append(("startend", tag, tuple(name for name, _ in attrs)))

    def handle_endtag(self, tag):
        self.events.append(("end", tag))

    def handle_comment(self, data):
        self.events.append(("comment",))

    def handle_decl(self, decl):
        self.events.append(("decl", decl))

    def handle_pi(self, data):
        self.events.append(("pi",))

    def unknown_decl(self, data):
        self.events.append(("unknown_decl",))

    def handle_data(self, data):
        self.text.append(data)


def markup(page: str) -> Markup:
    parser = Markup()
    parser.feed(page)
    parser.close()
    return parser


def explanation_with(texts: list[str], label: str, model: str) -> Explanation:
    """The hand-built explanation with ``texts`` as its words and tokens, ``label`` and ``model`` from the data."""
    explanation = text_explanation(texts[:], model=model, predicted_label=label)
    explanation.targets[0].label = label
    explanation.probabilities = {label: 0.9, "NEGATIVE": 0.1}
    return explanation


@PROFILE
@given(words=st.lists(texts, min_size=1, max_size=5), label=texts, model=texts)
def test_the_html_renderer_emits_no_markup_from_data(words, label, model):
    hostile = explanation_with(words, label, model)
    placeholders = explanation_with([f"w{n}" for n in range(len(words))], "L", "M")
    renderer = HtmlRenderer(title="attrix")
    page, expected = markup(renderer.render([hostile])), markup(renderer.render([placeholders]))
    assert page.events == expected.events  # the same tags, attributes and nothing else: all data was escaped
    assert " ".join(words) in "".join(page.text)  # and shown as text


backend_options = st.fixed_dictionaries({}, optional={
    "n_steps": st.one_of(st.integers(-5, 5000), st.just("auto"), st.floats(), st.text(max_size=5), st.booleans(), st.none(),
                         st.lists(st.integers(), max_size=2), st.integers()),
    "method": st.one_of(st.sampled_from(["gausslegendre", "riemann_left", "riemann_trapezoid", "GaussLegendre", ""]), st.text(max_size=5), st.integers()),
    "internal_batch_size": st.one_of(st.integers(-3, 10**6), st.none(), st.floats(), st.text(max_size=3)),
    "tolerance": st.one_of(st.floats(), st.integers(-2, 2), st.none(), st.text(max_size=3)),
    "max_steps": st.one_of(st.integers(), st.none(), st.floats()),
    "memory_budget": st.one_of(st.integers(), st.none()),
    "autocast": st.one_of(st.sampled_from(["bf16", "fp16", "fp8", "float16"]), st.none(), st.integers()),
    "noise_tunnel": st.one_of(st.sampled_from(["smoothgrad", "vargrad", "bogus"]), st.none()),
    "nt_type": st.one_of(st.sampled_from(["smoothgrad", "smoothgrad_sq", "vargrad", "bogus"]), st.integers()),
    "nt_samples": st.one_of(st.integers(-2, 50), st.floats(), st.text(max_size=3)),
    "n_samples": st.one_of(st.integers(-2, 500), st.floats(), st.none(), st.text(max_size=3)),
    "stdevs": st.one_of(st.floats(), st.integers(-2, 2), st.text(max_size=3)),
    "seed": st.one_of(st.integers(-5, 2**40), st.none(), st.floats(), st.text(max_size=3)),
    "abs": st.one_of(st.booleans(), st.integers(), st.text(max_size=3)),
    "features": st.one_of(st.sampled_from(["word", "token", "sentence", "patch", "pixel", "bogus"]), st.integers(), st.none()),
    "window": st.one_of(st.integers(-2, 20), st.floats(), st.none()),
    "window_stride": st.one_of(st.integers(-2, 20), st.floats(), st.none()),
    "perturbations_per_eval": st.one_of(st.integers(-2, 10**4), st.none(), st.text(max_size=3)),
    "colour": st.integers(),
})
BACKENDS = sorted(attrix.get_registry().entries["backend"])


@PROFILE
@given(name=st.sampled_from(BACKENDS), options=backend_options)
def test_any_backend_options_give_a_backend_or_an_attrix_error(name, options):
    try:
        backend = attrix.create("backend", name, **options)
    except AttrixError:
        return
    assert backend.name == name
    if name != "grad_x_input" and isinstance(options.get("n_steps"), int) and options.get("method", "gausslegendre") == "gausslegendre":
        assert options["n_steps"] <= 1024  # more Gauss-Legendre points would hang in numpy


VALID = text_explanation().to_dict()


@st.composite
def mutated_documents(draw) -> dict:
    """A valid explanation dict with a few keys dropped, replaced by any JSON value, or added."""
    document = json.loads(json.dumps(VALID))
    for _ in range(draw(st.integers(1, 3))):
        place = document
        while isinstance(place, (dict, list)) and place and draw(st.booleans()):
            key = draw(st.sampled_from(sorted(place) if isinstance(place, dict) else range(len(place))))
            if not isinstance(place[key], (dict, list)) or not place[key]:
                break
            place = place[key]
        if not isinstance(place, (dict, list)) or not place:
            continue
        keys = sorted(place) if isinstance(place, dict) else list(range(len(place)))
        key = draw(st.sampled_from(keys))
        action = draw(st.sampled_from(["drop", "replace", "add"]))
        if action == "drop":
            del place[key]
        elif action == "replace":
            place[key] = draw(json_values)
        elif isinstance(place, dict):
            place[draw(st.text(max_size=6))] = draw(json_values)
    return document


documents = st.one_of(mutated_documents(), json_values.map(lambda value: {**VALID, "tokens": value}), json_values)


@PROFILE
@given(text=st.one_of(documents.map(json.dumps), st.text(max_size=30)))
def test_any_json_document_gives_an_explanation_or_an_attrix_error(text):
    try:
        explanation = Explanation.from_json(text)
    except AttrixError:
        return
    assert isinstance(explanation, Explanation)
    assert all(isinstance(word, Word) for word in explanation.words)
    assert all(isinstance(target, TargetAttribution) for target in explanation.targets)
    assert Explanation.from_json(explanation.to_json()) == explanation
