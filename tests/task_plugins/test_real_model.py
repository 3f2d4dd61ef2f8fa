"""Explanations of a real model: the embedded MiniLM sentiment classifier, through attrix."""

from __future__ import annotations

import json
from importlib import resources

import pytest
import torch
from captum.attr import LayerIntegratedGradients
from transformers import AutoModelForSequenceClassification, AutoTokenizer, pipeline

import attrix
from attrix.text.encoding import TruncationWarning


@pytest.fixture(scope="module")
def sentiment(default_model_dir_fixture):
    directory = str(default_model_dir_fixture)
    return AutoModelForSequenceClassification.from_pretrained(directory).eval(), AutoTokenizer.from_pretrained(directory)


@pytest.fixture(scope="module")
def explainer(sentiment):
    return attrix.Explainer(*sentiment)


def scores(explanation, label=None):
    return dict(explanation.word_attributions(label))


def test_love_and_wonderful_push_positive_more_than_this_and_movie(explainer):
    explanation = explainer("I love this movie, it is wonderful", target="POSITIVE")
    assert explanation.predicted_label == "POSITIVE"
    words = scores(explanation)
    for strong in ("love", "wonderful"):
        for weak in ("this", "movie"):
            assert words[strong] > words[weak], (strong, weak, words)


def test_awful_pushes_hardest_toward_negative(explainer):
    explanation = explainer("The food was awful")
    assert explanation.predicted_label == "NEGATIVE"
    assert explanation.top_words(1) == [("awful", max(scores(explanation).values()))]


def test_real_model_attributions_are_complete(explainer):
    for explanation in explainer(["I love this movie, it is wonderful", "The food was awful"], target="all"):
        for target in explanation.targets:
            gap = target.score - target.baseline_score
            assert target.total - gap == pytest.approx(target.delta, abs=1e-5)
            assert abs(target.delta) < 0.01 * abs(gap) + 1e-4


def test_real_model_agrees_with_captum(sentiment):
    model, tokenizer = sentiment
    text = "The service was slow and the staff were rude"
    encoding = tokenizer(text, return_tensors="pt", return_special_tokens_mask=True)
    special = encoding.pop("special_tokens_mask").bool()
    baseline = torch.where(special, encoding["input_ids"], tokenizer.pad_token_id)
    expected = LayerIntegratedGradients(
        lambda ids, mask, types: torch.softmax(model(input_ids=ids, attention_mask=mask, token_type_ids=types).logits, -1),
        model.bert.embeddings.word_embeddings,
    ).attribute(encoding["input_ids"], baselines=baseline, additional_forward_args=(encoding["attention_mask"], encoding["token_type_ids"]), target=0, n_steps=50)
    explanation = attrix.Explainer(model, tokenizer, n_steps=50)(text, target="NEGATIVE")
    assert explanation.target().token_scores == pytest.approx(expected.sum(-1)[0].tolist(), abs=1e-5)


def test_probabilities_equal_the_pipeline(sentiment, explainer):
    texts = ["What a delightful, charming little book", "The food was awful"]
    expected = pipeline("text-classification", model=sentiment[0], tokenizer=sentiment[1], top_k=None)(texts)
    for explanation, rows in zip(explainer(texts), expected):
        assert explanation.probabilities == pytest.approx({row["label"]: row["score"] for row in rows}, abs=1e-6)


@pytest.mark.slow
def test_a_negative_sentence_at_the_end_of_a_long_review_is_found_only_in_windows(sentiment):
    """A 1,500-word review of the model's held-out positive sentences with one negative sentence near the end:
    truncated, it is never seen; in windows of 128 tokens its sentiment word is among the 3 words of largest absolute
    attribution (docs/long-inputs.md: in windows of the model's 512 it is 7th, each window's share spread thin)."""
    rows = [json.loads(line) for line in (resources.files("attrix.api") / "data" / "sentiment_heldout.jsonl").open()]
    positive = [row["text"] for row in rows if row["label"] == "POSITIVE"]
    body: list[str] = []
    while sum(len(sentence.split()) for sentence in body) < 1480:
        body.extend(positive)
    review = " ".join([*body[:-3], "Everyone agreed that the movie felt awful.", *body[-3:]])
    assert 1450 <= len(review.split()) <= 1550 and review.count("awful") == 1
    with pytest.warns(TruncationWarning):
        truncated = attrix.Explainer(*sentiment, n_steps=4)(review)
    assert "awful" not in [word.text for word in truncated.words]
    explanation = attrix.Explainer(*sentiment, long_inputs="windows", window_length=128, n_steps=16)(review)
    assert explanation.words[-1].end == len(review) and len(explanation.details["windows"]) >= 15
    ranked = sorted(zip(explanation.words, explanation.target().word_scores), key=lambda pair: -abs(pair[1]))
    top = [word.text for word, _ in ranked[:3]]
    assert "awful" in top, ranked[:3]
