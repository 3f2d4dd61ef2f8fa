"""``attrix.SequenceClassificationExplainer`` against transformers-interpret 0.10.0 itself."""

from __future__ import annotations

import pytest
import torch
import transformers_interpret
from transformers import pipeline

import attrix
from attrix.compat.sequence import SequenceClassificationExplainer
from helpers.legacy_comparison import cosine, equal_token_types, scores
from helpers.tiny_models import build

TEXTS = ["i love this movie it is wonderful", "the food was awful"]


def spread(model, seed=0):
    """Weights far from their tiny initial scale, so attributions differ from token to token."""
    torch.manual_seed(seed)
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            if "LayerNorm" not in name:
                parameter.normal_(0.0, 0.2)
    return model


@pytest.fixture(scope="module")
def same_token_types():
    """A BERT whose two token-type embeddings are equal: transformers-interpret's token-type bug changes nothing."""
    model, tokenizer = build("bert", seed=1)
    spread(model)
    equal_token_types(model)
    return model, tokenizer


@pytest.mark.parametrize("embedding_type", [0, 1])
@pytest.mark.parametrize("text", TEXTS)
def test_agrees_with_transformers_interpret(same_token_types, text, embedding_type):
    legacy = transformers_interpret.SequenceClassificationExplainer(*same_token_types)
    ours = SequenceClassificationExplainer(*same_token_types)
    expected, got = legacy(text, embedding_type=embedding_type), ours(text, embedding_type=embedding_type)
    assert [token for token, _ in got] == [token for token, _ in expected]
    assert ours.predicted_class_index == int(legacy.predicted_class_index)
    assert ours.predicted_class_name == legacy.predicted_class_name
    assert float(ours.pred_probs) == pytest.approx(float(legacy.pred_probs), abs=1e-5)
    assert cosine(scores(got), scores(expected)) >= 0.98
    assert sum(score**2 for score in scores(got)) == pytest.approx(1.0)


def test_index_and_class_name_select_the_explained_class(same_token_types):
    legacy = transformers_interpret.SequenceClassificationExplainer(*same_token_types)
    ours = SequenceClassificationExplainer(*same_token_types)
    for selector in ({"index": 0}, {"class_name": "NEGATIVE"}, {"index": 1}):
        expected, got = legacy(TEXTS[0], **selector), ours(TEXTS[0], **selector)
        assert ours.selected_index == legacy.selected_index
        assert float(ours.pred_probs) == pytest.approx(float(legacy.pred_probs), abs=1e-5)
        assert cosine(scores(got), scores(expected)) >= 0.98


def test_token_types_are_right_where_transformers_interpret_gets_them_wrong():
    model, tokenizer = build("bert", seed=1)
    spread(model, seed=2)
    expected = pipeline("text-classification", model=model, tokenizer=tokenizer, top_k=None)([TEXTS[0]])[0]
    pipeline_score = {row["label"]: row["score"] for row in expected}
    ours = SequenceClassificationExplainer(model, tokenizer)
    ours(TEXTS[0])
    legacy = transformers_interpret.SequenceClassificationExplainer(model, tokenizer)
    legacy(TEXTS[0], index=ours.selected_index)
    assert float(ours.pred_probs) == pytest.approx(pipeline_score[ours.predicted_class_name], abs=1e-6)
    # transformers-interpret gives the final [SEP] token type 1, so its probability is not the model's
    assert abs(float(legacy.pred_probs) - pipeline_score[ours.predicted_class_name]) > 1e-3


def test_attributes_and_return_shape(same_token_types):
    ours = SequenceClassificationExplainer(*same_token_types)
    pairs = ours(TEXTS[1], n_steps=8, internal_batch_size=4)
    assert all(isinstance(token, str) and isinstance(score, float) for token, score in pairs)
    assert pairs[0][0] == "[CLS]" and pairs[-1][0] == "[SEP]"
    assert ours.n_steps == 8 and ours.internal_batch_size == 4
    assert ours.explanation.settings["n_steps"] == 8
    assert ours.attributions.word_attributions == pairs
    assert ours.attributions.attributions_sum.tolist() == pytest.approx(scores(pairs))
    assert float(ours.attributions.delta) == pytest.approx(ours.explanation.delta)
    assert ours.text == TEXTS[1]
    assert ours.input_ids.tolist() == [same_token_types[1](TEXTS[1])["input_ids"]]


def test_custom_labels_rename_the_classes(same_token_types):
    ours = SequenceClassificationExplainer(*same_token_types, custom_labels=["bad", "good"])
    ours(TEXTS[0], class_name="bad")
    assert ours.selected_index == 0
    assert ours.predicted_class_name in {"bad", "good"}
    with pytest.raises(attrix.InputError, match="custom_labels has 3 labels but the model has 2"):
        SequenceClassificationExplainer(*same_token_types, custom_labels=["a", "b", "c"])


def test_an_unknown_class_name_explains_the_prediction_with_a_warning_listing_the_labels(same_token_types):
    ours = SequenceClassificationExplainer(*same_token_types)
    with pytest.warns(UserWarning, match=r"'HAPPY' is not among the labels \(NEGATIVE, POSITIVE\)"):
        ours(TEXTS[0], class_name="HAPPY", n_steps=4)
    assert ours.selected_index == ours.predicted_class_index
    legacy = transformers_interpret.SequenceClassificationExplainer(*same_token_types)
    with pytest.warns(UserWarning, match="'HAPPY' is not found"):
        legacy(TEXTS[0], class_name="HAPPY", n_steps=4)
    assert legacy.selected_index == ours.selected_index
    with pytest.warns(UserWarning, match="'negative' is not among the labels"):
        ours(TEXTS[0], class_name="negative", n_steps=4)  # names match exactly, as in transformers-interpret


def test_visualize_writes_html_outside_notebooks(same_token_types, tmp_path):
    ours = SequenceClassificationExplainer(*same_token_types)
    ours(TEXTS[0])
    page = ours.visualize(str(tmp_path / "viz"), true_class="POSITIVE")
    written = (tmp_path / "viz.html").read_text()
    assert written == page.data == page._repr_html_()
    assert "<td>POSITIVE</td>" in written and "wonderful" in written


def test_is_importable_from_attrix():
    assert attrix.SequenceClassificationExplainer is SequenceClassificationExplainer


def test_readme_example_runs_with_a_local_model(default_model_dir_fixture, tmp_path, monkeypatch):
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    monkeypatch.chdir(tmp_path)
    model_name = str(default_model_dir_fixture)  # in place of "distilbert-base-uncased-finetuned-sst-2-english"
    model = AutoModelForSequenceClassification.from_pretrained(model_name)
    tokenizer = AutoTokenizer.from_pretrained(model_name)
    cls_explainer = attrix.SequenceClassificationExplainer(model, tokenizer)
    word_attributions = cls_explainer("I love you, I like you")
    assert [token for token, _ in word_attributions] == ["[CLS]", "i", "love", "you", ",", "i", "like", "you", "[SEP]"]
    assert max(word_attributions, key=lambda pair: pair[1])[0] == "love"
    assert cls_explainer.predicted_class_index == 1 and cls_explainer.predicted_class_name == "POSITIVE"
    cls_explainer.visualize("distilbert_viz.html")
    attributions = cls_explainer("I love you, I like you, I also kinda dislike you", class_name="NEGATIVE")
    assert cls_explainer.selected_index == 0 and len(attributions) == len(cls_explainer.input_ids[0])
    cls_explainer.visualize("distilbert_negative_attr.html")
    assert (tmp_path / "distilbert_viz.html").is_file() and (tmp_path / "distilbert_negative_attr.html").is_file()
