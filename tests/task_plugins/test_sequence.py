"""The sequence-classification task: targets, probabilities, embeddings, baselines, words and bad input."""

from __future__ import annotations

import pytest
import torch
from transformers import pipeline

import attrix
from attrix.text.encoding import TruncationWarning
from helpers.tiny_models import ARCHITECTURES, build

TEXT = "i love this movie it is wonderful"


@pytest.fixture(scope="module")
def bert():
    return build("bert", seed=1)


@pytest.mark.parametrize("arch", ARCHITECTURES)
def test_every_architecture_explains_with_complete_attributions(arch):
    model, tokenizer = build(arch, seed=2)
    explanation = attrix.Explainer(model, tokenizer, n_steps=32)(TEXT, target="all")
    assert explanation.tokens == tokenizer.convert_ids_to_tokens(tokenizer(TEXT)["input_ids"])
    assert [t.label for t in explanation.targets] == ["NEGATIVE", "POSITIVE"]
    for target in explanation.targets:
        gap = target.score - target.baseline_score
        assert target.total - gap == pytest.approx(target.delta, abs=1e-6)
        assert target.score == pytest.approx(explanation.probabilities[target.label], abs=1e-6)


@pytest.mark.parametrize("arch", ARCHITECTURES)
def test_probabilities_equal_the_text_classification_pipeline(arch):
    model, tokenizer = build(arch, num_labels=3, seed=4)
    texts = ["the food was awful", "a wonderful film , really"]
    classify = pipeline("text-classification", model=model, tokenizer=tokenizer, top_k=None)
    explanations = attrix.Explainer(model, tokenizer, n_steps=4)(texts)
    for explanation, expected in zip(explanations, classify(texts)):
        assert explanation.probabilities == pytest.approx({row["label"]: row["score"] for row in expected}, abs=1e-6)
        assert explanation.predicted_label == max(expected, key=lambda row: row["score"])["label"]


def test_single_output_head_uses_sigmoid():
    model, tokenizer = build("bert", num_labels=1, seed=5)
    explanation = attrix.Explainer(model, tokenizer, n_steps=4)(TEXT)
    with torch.no_grad():
        logit = model(**tokenizer(TEXT, return_tensors="pt")).logits[0, 0]
    assert list(explanation.probabilities.values()) == pytest.approx([torch.sigmoid(logit).item()], abs=1e-6)


def test_target_by_name_index_and_default_prediction(bert):
    model, tokenizer = bert
    explainer = attrix.Explainer(model, tokenizer, n_steps=8)
    default = explainer(TEXT)
    assert default.target().label == default.predicted_label
    other = "NEGATIVE" if default.predicted_label == "POSITIVE" else "POSITIVE"
    by_name, by_index, folded = explainer(TEXT, target=other), explainer(TEXT, target=model.config.label2id[other]), explainer(TEXT, target=other.lower())
    assert by_name.target().label == by_index.target().label == folded.target().label == other
    assert by_name.target().token_scores == pytest.approx(by_index.target().token_scores)
    assert by_name.target().token_scores != pytest.approx(default.target().token_scores)


def test_baseline_keeps_special_tokens_and_pads_the_rest(bert):
    model, tokenizer = bert
    for baseline, token in (("pad", tokenizer.pad_token_id), ("unk", tokenizer.unk_token_id), (7, 7)):
        prepared = attrix.Explainer(model, tokenizer, baseline=baseline).task.prepare([TEXT], None)
        ids, reference = prepared.problem.inputs["input_ids"][0], prepared.problem.baselines["input_ids"][0]
        special = torch.tensor(tokenizer.get_special_tokens_mask(ids.tolist(), already_has_special_tokens=True)).bool()
        assert torch.equal(reference[special], ids[special])
        assert (reference[~special] == token).all()


def test_model_gets_the_inputs_of_normal_use(bert):
    model, tokenizer = bert
    seen = []
    handle = model.register_forward_pre_hook(lambda module, args, kwargs: seen.append(dict(kwargs)), with_kwargs=True)
    try:
        attrix.Explainer(model, tokenizer, n_steps=2)("i love it", target="POSITIVE")
    finally:
        handle.remove()
    normal = tokenizer("i love it", return_tensors="pt")
    prediction = seen[0]
    assert set(prediction) >= {"input_ids", "attention_mask", "token_type_ids"}
    for key, value in normal.items():
        assert torch.equal(prediction[key], value)


@pytest.mark.parametrize("embedding", ["position", "embeddings"])
def test_other_embedding_layers_are_complete_and_differ_from_words(bert, embedding):
    model, tokenizer = bert
    words = attrix.Explainer(model, tokenizer, n_steps=32)(TEXT)
    other = attrix.Explainer(model, tokenizer, n_steps=32, embedding=embedding)(TEXT)
    target = other.target()
    assert target.total - (target.score - target.baseline_score) == pytest.approx(target.delta, abs=1e-6)
    assert abs(target.delta) < 1e-3 * max(abs(target.total), 1e-9) + 1e-7
    assert target.token_scores != pytest.approx(words.target().token_scores, abs=1e-9)
    assert other.settings["embedding"] == embedding


def test_words_group_word_pieces_with_sum_or_mean(bert):
    model, tokenizer = bert
    text = "the zyxw movie"
    pieces = tokenizer.tokenize("zyxw")
    assert len(pieces) > 1  # an unknown word splits into several pieces
    summed = attrix.Explainer(model, tokenizer, n_steps=4)(text)
    mean = attrix.Explainer(model, tokenizer, n_steps=4, word_aggregation="mean")(text)
    assert [word.text for word in summed.words] == ["the", "zyxw", "movie"]
    word = summed.words[1]
    assert [summed.tokens[i] for i in word.tokens] == pieces
    assert text[word.start : word.end] == "zyxw"
    scores = [summed.target().token_scores[i] for i in word.tokens]
    assert summed.target().word_scores[1] == pytest.approx(sum(scores))
    assert mean.target().word_scores[1] == pytest.approx(sum(scores) / len(scores))


def test_bpe_words_have_no_leading_space():
    model, tokenizer = build("roberta", seed=6)
    explanation = attrix.Explainer(model, tokenizer, n_steps=4)("i love   this movie")
    assert [word.text for word in explanation.words] == ["i", "love", "this", "movie"]


@pytest.mark.parametrize("bad, error, words", [
    ("", attrix.InputError, ["empty"]),
    ("   ", attrix.InputError, ["empty"]),
    (42, TypeError, ["string", "int"]),
    (None, TypeError, ["string", "NoneType"]),
])
def test_bad_text_gets_a_clear_error(bert, bad, error, words):
    model, tokenizer = bert
    with pytest.raises(error) as raised:
        attrix.Explainer(model, tokenizer)(bad)
    assert all(word in str(raised.value) for word in words)


def test_bad_text_in_a_list_names_its_position(bert):
    model, tokenizer = bert
    with pytest.raises(attrix.InputError, match="input 1: text is empty"):
        attrix.Explainer(model, tokenizer)(["fine", ""])


def test_unknown_label_lists_the_labels(bert):
    model, tokenizer = bert
    with pytest.raises(attrix.UnknownNameError, match="unknown label 'HAPPY'; valid: NEGATIVE, POSITIVE"):
        attrix.Explainer(model, tokenizer)(TEXT, target="HAPPY")
    with pytest.raises(attrix.InputError, match=r"out of range; valid indices: 0..1 \(0=NEGATIVE, 1=POSITIVE\)"):
        attrix.Explainer(model, tokenizer)(TEXT, target=5)


def test_model_with_another_head_is_refused():
    model, tokenizer = build("bert", head="token", num_labels=3)
    with pytest.raises(attrix.TaskMismatchError, match="ForSequenceClassification.*BertForTokenClassification"):
        attrix.Explainer(model, tokenizer, task="sequence")
    bare, tokenizer = build("bert", head="base")
    with pytest.raises(attrix.TaskMismatchError, match="no registered task explains BertModel"):
        attrix.Explainer(bare, tokenizer)


def test_text_over_the_limit_is_truncated_with_a_warning(bert):
    model, tokenizer = bert
    limit = model.config.max_position_embeddings
    long_text = " ".join(["movie"] * (limit + 20))
    with pytest.warns(TruncationWarning, match=f"has {limit + 22} tokens but the model accepts at most {limit}"):
        explanation = attrix.Explainer(model, tokenizer, n_steps=4)(long_text)
    assert len(explanation.tokens) == limit
    assert explanation.tokens[-1] == tokenizer.sep_token


def test_unknown_option_values_are_refused(bert):
    model, tokenizer = bert
    for options, message in (
        ({"embedding": "words"}, "unknown embedding 'words'; valid: embeddings, position, word"),
        ({"word_aggregation": "max"}, "valid: mean, sum"),
        ({"baseline": "zero"}, "valid: <token id>, mask, pad, unk"),
        ({"n_steps": 0}, "option 'n_steps' of backend 'layer_ig' must be an integer >= 1 or auto, got 0"),
        ({"method": "simpson"}, "valid: gausslegendre"),
        ({"steps": 3}, "unknown option 'steps' for task 'sequence' and backend 'layer_ig'; valid: .*n_steps"),
    ):
        with pytest.raises(attrix.AttrixError, match=message):
            attrix.Explainer(model, tokenizer, **options)


def test_position_embeddings_missing_is_explained():
    model, tokenizer = build("deberta-v2")
    with pytest.raises(attrix.InputError, match="no absolute position embeddings; use embedding='word'"):
        attrix.Explainer(model, tokenizer, embedding="position")


def test_slow_tokenizer_is_refused_with_the_fix(bert):
    model, tokenizer = bert

    class SlowTokenizer:
        is_fast = False

    with pytest.raises(attrix.InputError, match=r"not a fast tokenizer.*use_fast=True"):
        attrix.Explainer(model, SlowTokenizer())
