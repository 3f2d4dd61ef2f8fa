"""``Explanation``: reading it, its JSON round trip and the json renderer."""

from __future__ import annotations

import json

import pytest

import attrix
from attrix.contracts.explanation import SCHEMA_VERSION
from attrix.renderers.json import JsonRenderer, read_json
from helpers.tiny_models import build


@pytest.fixture(scope="module")
def explanations():
    model, tokenizer = build("bert", num_labels=3, seed=8)
    return attrix.Explainer(model, tokenizer, n_steps=4)(["i love this movie", "the food was awful , really"], target="all")


def test_explanation_carries_everything_it_promises(explanations):
    explanation = explanations[0]
    assert explanation.task == "sequence" and explanation.method == "layer_ig"
    assert explanation.settings["n_steps"] == 4 and explanation.settings["embedding"] == "word"
    assert explanation.inputs == {"text": "i love this movie"}
    assert sum(explanation.probabilities.values()) == pytest.approx(1.0)
    assert explanation.predicted_label == max(explanation.probabilities, key=explanation.probabilities.get)
    assert [t.label for t in explanation.targets] == ["LABEL_0", "LABEL_1", "LABEL_2"]
    assert all(len(t.token_scores) == len(explanation.tokens) for t in explanation.targets)
    assert all(len(t.word_scores) == len(explanation.words) for t in explanation.targets)


def test_reading_helpers_follow_the_scores(explanations):
    explanation = explanations[1]
    target = explanation.target("LABEL_2")
    assert explanation.target(2) is target
    pairs = explanation.word_attributions("LABEL_2")
    assert [score for _, score in pairs] == target.word_scores
    top = explanation.top_words(2, "LABEL_2")
    assert [score for _, score in top] == sorted(target.word_scores, reverse=True)[:2]
    with pytest.raises(attrix.UnknownNameError, match="LABEL_0, LABEL_1, LABEL_2"):
        explanation.target("LABEL_9")


def test_json_round_trip_is_lossless(explanations):
    for explanation in explanations:
        text = explanation.to_json()
        assert json.loads(text)["schema_version"] == SCHEMA_VERSION
        assert attrix.Explanation.from_json(text) == explanation
        assert attrix.Explanation.from_dict(json.loads(json.dumps(explanation.to_dict()))) == explanation


def test_json_renderer_writes_a_document_that_reads_back(tmp_path, explanations):
    path = JsonRenderer().write(explanations, tmp_path / "new" / "dir" / "out.json")
    document = json.loads(path.read_text())
    assert document["schema_version"] == SCHEMA_VERSION and len(document["explanations"]) == 2
    assert read_json(path.read_text()) == explanations


def test_json_renderer_is_a_registered_plugin():
    entry = attrix.get_registry().get("renderer", "json")
    assert entry.obj is JsonRenderer and entry.option_names() == ["indent"]
