"""``Explanation.from_dict``/``from_json`` refuse what is no explanation with an InputError naming what is wrong,
and non-finite scores are written as standard JSON (``null``) and read back as NaN."""

from __future__ import annotations

import json
import math

import pytest

import attrix
from attrix.contracts.explanation import SCHEMA_VERSION, Explanation
from attrix.errors import InputError
from attrix.renderers.json import JsonRenderer, read_json
from attrix.renderers.jsonl import JsonlRenderer, read_jsonl
from helpers.hand_built import image_explanation, text_explanation


def document(**changes) -> dict:
    data = text_explanation().to_dict()
    for path, value in changes.items():
        *parents, last = path.split("__")
        place = data
        for key in parents:
            place = place[int(key)] if isinstance(place, list) else place[key]
        if value is KeyError:
            del place[last]
        else:
            place[last] = value
    return data


@pytest.mark.parametrize("changes, message", [
    ({"tokens": KeyError}, "it has no 'tokens'"),
    ({"targets": KeyError, "words": KeyError}, "it has no 'words', 'targets'"),
    ({"extra": 1}, "it has unknown keys 'extra'"),
    ({"tokens": "[CLS] i"}, "tokens must be an array, got str"),
    ({"tokens": ["[CLS]", 3]}, r"tokens\[1\] must be a string, got int 3"),
    ({"words": [1, 2]}, r"words\[0\] must be an object, got int"),
    ({"words__1__start": "3"}, r"words\[1\].start must be an integer, got str '3'"),
    ({"words__1__start": True}, r"words\[1\].start must be an integer, got bool True"),
    ({"words__0__tokens": [1.5]}, r"words\[0\].tokens\[0\] must be an integer, got float 1.5"),
    ({"words__2__text": KeyError}, r"words\[2\] has no 'text'"),
    ({"words__2__colour": "red"}, r"words\[2\] has unknown keys 'colour'"),
    ({"targets__0__score": "high"}, r"targets\[0\].score must be a number or null, got str 'high'"),
    ({"targets__1__token_scores": [0.0, [1.0]]}, r"targets\[1\].token_scores\[1\] must be a number or null, got list"),
    ({"targets__0__label": 1}, r"targets\[0\].label must be a string, got int 1"),
    ({"targets__0__position": "5"}, r"targets\[0\].position must be an integer, got str"),
    ({"targets__0__array": [["x"]]}, r"targets\[0\].array\[0\]\[0\] must be a number or null, got str"),
    ({"probabilities": {"POSITIVE": "0.9"}}, r"probabilities\['POSITIVE'\] must be a number or null"),
    ({"inputs": "a text"}, "inputs must be an object, got str"),
    ({"predicted_label": None}, "predicted_label must be a string, got NoneType"),
])
def test_a_dict_missing_keys_or_with_wrong_types_is_an_input_error_naming_them(changes, message):
    with pytest.raises(InputError, match=f"the explanation is not an explanation of schema_version {SCHEMA_VERSION}: {message}"):
        Explanation.from_dict(document(**changes))
    with pytest.raises(InputError, match=message):
        Explanation.from_json(json.dumps(document(**changes)))


@pytest.mark.parametrize("data, message", [
    ([], "the explanation is not an explanation: expected an object, got list"),
    ("text", "the explanation is not an explanation: expected an object, got str"),
    ({"task": "x"}, r"the explanation has no schema_version \(an integer\); it was not written by attrix"),
    ({"schema_version": "1"}, "has no schema_version"),
    ({"schema_version": SCHEMA_VERSION + 1}, (f"the explanation has schema_version {SCHEMA_VERSION + 1}, newer than the "
                                              f"{SCHEMA_VERSION} this attrix reads: upgrade attrix")),
])
def test_no_object_no_version_or_a_newer_one_is_refused_like_the_file_readers_do(data, message):
    with pytest.raises(InputError, match=message):
        Explanation.from_dict(data)


def test_a_newer_document_is_refused_by_from_json_and_the_readers_alike():
    newer = {**text_explanation().to_dict(), "schema_version": SCHEMA_VERSION + 1}
    newer_than = f"schema_version {SCHEMA_VERSION + 1}, newer than the {SCHEMA_VERSION} this attrix reads"
    with pytest.raises(InputError, match=f"the explanation has {newer_than}"):
        Explanation.from_json(json.dumps(newer))
    with pytest.raises(InputError, match=f"line 1 has {newer_than}"):
        read_jsonl(json.dumps(newer))


@pytest.mark.parametrize("text", ["{", "", "[1, 2", "\x00", "[" * 100_000 + "]" * 100_000])
def test_from_json_refuses_what_is_not_json(text):
    with pytest.raises(InputError, match="the explanation is not JSON|nested too deeply"):
        Explanation.from_json(text)


def test_the_file_readers_still_name_the_place():
    broken = document(words__0__start="0")
    place = rf"explanation 0 is not an explanation of schema_version {SCHEMA_VERSION}: words\[0\].start must be an integer"
    with pytest.raises(InputError, match=place):
        read_json(json.dumps({"schema_version": SCHEMA_VERSION, "explanations": [broken]}))
    with pytest.raises(InputError, match=rf"line 2 is not an explanation of schema_version {SCHEMA_VERSION}: words\[0\].start"):
        read_jsonl(json.dumps(document()) + "\n" + json.dumps(broken) + "\n")


def non_finite_explanation():
    explanation = text_explanation()
    target = explanation.targets[0]
    target.token_scores[1] = math.nan
    target.word_scores[0] = math.inf
    target.score, target.delta = math.nan, -math.inf
    explanation.probabilities["POSITIVE"] = math.nan
    explanation.details["note"] = {"value": math.nan}
    return explanation


@pytest.mark.parametrize("write", [
    lambda e: e.to_json(),
    lambda e: e.to_json(indent=2),
    lambda e: JsonRenderer().render([e]),
    lambda e: JsonlRenderer().render([e]),
])
def test_non_finite_scores_are_written_as_null_in_standard_json(write):
    text = write(non_finite_explanation())
    assert "NaN" not in text and "Infinity" not in text
    json.loads(text, parse_constant=lambda token: pytest.fail(f"non-standard JSON token {token}"))
    assert "null" in text


def test_null_scores_read_back_as_nan_keeping_the_number_types():
    original = non_finite_explanation()
    for back in (Explanation.from_json(original.to_json()), read_json(JsonRenderer().render([original]))[0],
                 read_jsonl(JsonlRenderer().render([original]))[0]):
        target = back.targets[0]
        assert math.isnan(target.token_scores[1]) and math.isnan(target.word_scores[0])  # infinity reads back as NaN too
        assert math.isnan(target.score) and math.isnan(target.delta) and math.isnan(back.probabilities["POSITIVE"])
        assert all(isinstance(score, float) for score in target.token_scores)
        assert back.details["note"] == {"value": None}  # free-form details keep the null
        assert target.token_scores[2:] == original.targets[0].token_scores[2:] and back.words == original.words
        assert back.targets[1] == original.targets[1]
        assert math.isnan(back.target().total)  # sums stay numbers: NaN spreads instead of a TypeError


def test_a_nan_pixel_reads_back_as_nan_and_finite_documents_round_trip_exactly():
    image = image_explanation([[[0.25, math.nan]], [[0.0, 0.5]], [[0.0, 0.0]]])
    back = Explanation.from_json(image.to_json())
    assert math.isnan(back.targets[0].array[0][0][1]) and back.targets[0].array[1] == [[0.0, 0.5]]
    finite = text_explanation()
    assert Explanation.from_json(finite.to_json()) == finite and attrix.Explanation.from_dict(finite.to_dict()) == finite
