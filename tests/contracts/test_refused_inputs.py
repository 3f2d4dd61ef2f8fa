"""Inputs attrix cannot explain are refused with a clear InputError: lone surrogates in texts, float targets."""

from __future__ import annotations

import numpy as np
import pytest

import attrix
from attrix.contracts.targets import resolve_label, resolve_targets
from attrix.errors import InputError
from attrix.text.encoding import check_text
from helpers.tiny_models import build

LABELS = {0: "NEGATIVE", 1: "POSITIVE"}


@pytest.fixture(scope="module")
def explainer():
    model, tokenizer = build("bert", num_labels=2, seed=1)
    return attrix.Explainer(model, tokenizer, n_steps=2)


@pytest.mark.parametrize("text, where, code", [
    ("\ud800", 0, "D800"),
    ("i love \udfff this", 7, "DFFF"),
    ("split pair \ud83d\ude00", 11, "D83D"),  # a surrogate pair as two code points is no emoji in a str
])
def test_a_lone_surrogate_is_refused_by_check_text(text, where, code):
    with pytest.raises(InputError, match=f"lone surrogate U\\+{code} at character {where}, which is not valid Unicode"):
        check_text(text)


def test_valid_unicode_passes_check_text():
    text = "emoji 😀 שלום e\u0301 a\u200db"
    assert check_text(text) is text


def test_the_explainer_refuses_a_lone_surrogate_with_an_input_error(explainer):
    with pytest.raises(InputError, match="lone surrogate U\\+D800") as caught:
        explainer("a \ud800 b")
    assert "\ud800" not in str(caught.value)  # the message itself can be printed and written as UTF-8
    assert explainer(["a fine text"])[0].tokens[0] == "[CLS]"


def test_a_lone_surrogate_in_a_dataset_run_becomes_an_error_row(tmp_path):
    import json

    from attrix.experiments.schema import Component, Experiment, InputsSpec, ModelSpec, OutputSpec
    from attrix.runs.runner import run_experiment
    from helpers.tiny_models import save

    model = save("bert", tmp_path / "bert", seed=21)
    run = Experiment(model=ModelSpec(path=str(model)), batch_size=3, inputs=InputsSpec(items=("fine", "a \ud800 b")),
                     backend=Component("layer_ig", {"n_steps": 2}), output=OutputSpec(str(tmp_path / "run")))
    run_experiment(run, show_progress=False)
    rows = {row["id"]: row for row in map(json.loads, (tmp_path / "run" / "results.jsonl").read_text().splitlines())}
    assert "explanation" in rows[0]
    assert "lone surrogate" in rows[1]["error"] and rows[1]["input"] == "a \ud800 b"


@pytest.mark.parametrize("target, message", [
    (1.0, "got float 1.0: write 1 for the index"),
    (0.5, "got float 0.5"),
    (float("nan"), "got float nan"),
    ([0, 1.0], "got float 1.0"),
    (np.float32(1.0), "got float32"),
    (True, "got bool True"),
    (b"POSITIVE", "got bytes"),
    ({"POSITIVE": 1}, "got dict"),
])
def test_a_target_that_is_no_name_or_integer_is_an_input_error(target, message):
    with pytest.raises(InputError, match="a target must be a label name or an integer index, " + message.replace(".", r"\.").replace("(", r"\(")):
        resolve_targets(target, LABELS, [1])


def test_numpy_integers_and_tuples_are_targets():
    assert resolve_label(np.int64(1), LABELS) == 1 and type(resolve_label(np.int64(1), LABELS)) is int
    assert resolve_targets((0, "positive"), LABELS, [1]) == [0, 1]
    assert resolve_targets(None, LABELS, [1]) == [1] and resolve_targets("all", LABELS, [1]) == [0, 1]


def test_the_explainer_refuses_a_float_target_with_an_input_error(explainer):
    with pytest.raises(InputError, match="write 1 for the index"):
        explainer("i love this movie", target=1.0)
    assert explainer("i love this movie", target=1).target().index == 1


def test_a_lone_surrogate_in_a_zero_shot_label_or_template_is_refused_with_an_input_error():
    from helpers.tiny_nli import build_nli

    model, tokenizer = build_nli("bert")
    explainer = attrix.Explainer(model, tokenizer, task="zero_shot", n_steps=2)
    with pytest.raises(InputError, match="a candidate label holds a lone surrogate U\\+D800 at character 0"):
        explainer({"text": "😀", "candidate_labels": ["\ud800"]})
    with pytest.raises(InputError, match="hypothesis_template holds a lone surrogate U\\+DFFF"):
        attrix.Explainer(model, tokenizer, task="zero_shot", hypothesis_template="about {} \udfff")
    assert explainer({"text": "😀", "candidate_labels": ["food", "film"]}).predicted_label in {"food", "film"}
