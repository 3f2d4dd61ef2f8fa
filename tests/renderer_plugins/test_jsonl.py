"""The jsonl renderer: one explanation per line, read back exactly, and clear errors for lines that are not one."""

from __future__ import annotations

import json

import numpy as np
import pytest

import attrix
from attrix.contracts.explanation import SCHEMA_VERSION
from attrix.renderers.jsonl import JsonlRenderer, jsonl_line, read_jsonl
from helpers.hand_built import image_explanation, text_explanation
from helpers.tiny_models import build


@pytest.fixture(scope="module")
def explanations(one_torch_thread):
    model, tokenizer = build("bert", num_labels=3, seed=8)
    explained = attrix.Explainer(model, tokenizer, n_steps=4)(["i love this movie", "the food was awful , really"], target="all")
    return [*explained, image_explanation(np.arange(3 * 8 * 8, dtype=float).reshape(3, 8, 8).tolist())]


def test_one_line_per_explanation_each_its_dict(explanations):
    text = JsonlRenderer().render(explanations)
    lines = text.split("\n")
    assert lines[-1] == "" and len(lines) == len(explanations) + 1
    for line, explanation in zip(lines, explanations):
        data = json.loads(line)
        assert data["schema_version"] == SCHEMA_VERSION and data == json.loads(json.dumps(explanation.to_dict()))


def test_round_trip_is_lossless(tmp_path, explanations):
    path = JsonlRenderer().write(explanations, tmp_path / "new" / "dir" / "out.jsonl")
    assert read_jsonl(path.read_text(encoding="utf-8")) == explanations


def test_texts_with_line_separators_stay_on_their_line():
    odd = text_explanation(["one\u2028two", "three\x85four", "é"], inputs={"text": "one\u2028two\nthree\x85four é"})
    text = JsonlRenderer().render([odd, odd])
    assert text.count("\n") == 2 and "\u2028" in text  # written as it is, not escaped
    assert read_jsonl(text) == [odd, odd]


def test_lines_appended_one_by_one_are_the_renderer_s_output(tmp_path, explanations):
    path = tmp_path / "stream.jsonl"
    for explanation in explanations:
        with path.open("a", encoding="utf-8") as stream:
            stream.write(jsonl_line(explanation))
    assert path.read_text(encoding="utf-8") == JsonlRenderer().render(explanations)
    assert read_jsonl(path.read_text(encoding="utf-8") + "\n\n") == explanations  # blank lines are skipped


@pytest.mark.parametrize("line, message", [
    ("{not json", "line 2 is not JSON"),
    ("[1, 2]", "line 2 is not an explanation: expected an object, got list"),
    ('{"task": "sequence"}', "line 2 has no schema_version"),
    (json.dumps({"schema_version": SCHEMA_VERSION + 1}), f"line 2 has schema_version {SCHEMA_VERSION + 1}, newer than .* upgrade attrix"),
    (json.dumps({"schema_version": SCHEMA_VERSION, "task": "sequence"}), f"line 2 is not an explanation of schema_version {SCHEMA_VERSION}"),
])
def test_a_bad_line_is_named_with_what_is_wrong(line, message):
    good = jsonl_line(text_explanation())
    with pytest.raises(attrix.InputError, match=message):
        read_jsonl(good + line + "\n")


def test_jsonl_renderer_is_registered():
    assert attrix.get_registry().get("renderer", "jsonl").obj is JsonlRenderer
    assert attrix.create("renderer", "jsonl").suffix == ".jsonl"
