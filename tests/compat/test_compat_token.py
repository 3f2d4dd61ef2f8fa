"""``attrix.TokenClassificationExplainer`` against transformers-interpret 0.10.0 itself, repeated tokens kept."""

from __future__ import annotations

import functools

import numpy as np
import pytest
import torch
import transformers_interpret

import attrix
from attrix.compat.token import TokenClassificationExplainer, unique_keys
from helpers.legacy_comparison import cosine, scores
from helpers.tiny_models import build, save

NER = {0: "O", 1: "B-PER", 2: "I-PER", 3: "B-LOC", 4: "I-LOC"}
TEXT = "who were they and where is my wonderful music"
"""No repeated token and no punctuation (transformers-interpret rewrites the text around punctuation)."""


@functools.cache
def ner_model(arch, seed):
    """A tiny NER model with its weights spread to ``normal(0, 0.2)`` (layer norms kept)."""
    model, tokenizer = build(arch, head="token", id2label=NER)
    torch.manual_seed(seed)
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            if "norm" not in name.lower():
                parameter.normal_(0.0, 0.2)
    return model, tokenizer


@pytest.mark.parametrize("embedding_type", [0, 1])
@pytest.mark.parametrize("arch, seed", [("bert", 1), ("distilbert", 2)])
def test_agrees_with_transformers_interpret(arch, seed, embedding_type):
    model, tokenizer = ner_model(arch, seed)
    legacy = transformers_interpret.TokenClassificationExplainer(model, tokenizer)
    ours = TokenClassificationExplainer(model, tokenizer)
    expected = legacy(TEXT, embedding_type=embedding_type, n_steps=4)
    got = ours(TEXT, embedding_type=embedding_type, n_steps=4)
    assert list(ours.predicted_class_names) == list(legacy.predicted_class_names)
    assert ours.predicted_class_indexes.tolist() == legacy.predicted_class_indexes.tolist()
    assert len(set(ours.predicted_class_names)) > 1  # the labels differ from token to token
    assert list(got) == list(expected)
    for token, entry in expected.items():
        assert got[token]["label"] == entry["label"]
        assert [t for t, _ in got[token]["attribution_scores"]] == [t for t, _ in entry["attribution_scores"]]
        assert cosine(scores(got[token]["attribution_scores"]), scores(entry["attribution_scores"])) >= 0.98
        assert sum(score**2 for score in scores(got[token]["attribution_scores"])) == pytest.approx(1.0)


def test_repeated_tokens_are_kept_where_transformers_interpret_keeps_the_last():
    model, tokenizer = ner_model("bert", 1)
    text = "the movie the movie"
    legacy = transformers_interpret.TokenClassificationExplainer(model, tokenizer)
    expected = legacy(text, n_steps=8)
    ours = TokenClassificationExplainer(model, tokenizer)
    got = ours(text, n_steps=8)
    assert list(expected) == ["[CLS]", "the", "movie", "[SEP]"]  # its issue #154
    assert list(got) == ["[CLS]", "the", "movie", "the (3)", "movie (4)", "[SEP]"]
    # its "the" holds the second 'the' (index 3); ours holds the first, and the second is under "the (3)"
    second = legacy.attributions[3].word_attributions
    assert expected["the"]["attribution_scores"] == second
    assert cosine(scores(got["the (3)"]["attribution_scores"]), scores(second)) >= 0.98
    first = legacy.attributions[1].word_attributions
    assert cosine(scores(got["the"]["attribution_scores"]), scores(first)) >= 0.98
    assert cosine(scores(first), scores(second)) < 0.98  # the two really differ
    assert got["the (3)"]["label"] == ours.predicted_class_names[3]


def test_unique_keys_suffix_only_repeats_with_their_index():
    assert unique_keys(["[CLS]", "a", "b", "a", "a", "[SEP]"]) == ["[CLS]", "a", "b", "a (3)", "a (4)", "[SEP]"]
    assert unique_keys(["x", "y"]) == ["x", "y"]


def test_ignored_labels_and_indexes_as_transformers_interpret():
    model, tokenizer = ner_model("bert", 1)
    full = TokenClassificationExplainer(model, tokenizer)
    full(TEXT, n_steps=1)
    dropped = full.predicted_class_names[2]
    options = {"ignored_labels": [dropped], "ignored_indexes": [0, 4], "n_steps": 8}
    legacy = transformers_interpret.TokenClassificationExplainer(model, tokenizer)
    expected = legacy(TEXT, **options)
    ours = TokenClassificationExplainer(model, tokenizer)
    got = ours(TEXT, **options)
    kept = [i for i, label in enumerate(full.predicted_class_names) if label != dropped and i not in (0, 4)]
    assert sorted(ours.attributions) == sorted(legacy.attributions) == kept
    assert list(got) == list(expected) and dropped not in [entry["label"] for entry in got.values()]
    for token in expected:
        assert cosine(scores(got[token]["attribution_scores"]), scores(expected[token]["attribution_scores"])) >= 0.98
    assert (ours.ignored_labels, ours.ignored_indexes) == ([dropped], [0, 4])
    ours(TEXT, n_steps=1)
    assert (ours.ignored_labels, ours.ignored_indexes) == (None, None) and len(got) < len(ours.word_attributions)


def test_unknown_ignored_label_is_refused_where_transformers_interpret_ignores_it():
    model, tokenizer = ner_model("bert", 1)
    legacy = transformers_interpret.TokenClassificationExplainer(model, tokenizer)
    assert len(legacy(TEXT, ignored_labels=["PERSON"], n_steps=1)) == len(TEXT.split()) + 3  # wonder ##ful
    with pytest.raises(attrix.UnknownNameError, match="unknown label 'PERSON' in ignored_labels; valid: B-LOC, B-PER"):
        TokenClassificationExplainer(model, tokenizer)(TEXT, ignored_labels=["PERSON"])


def test_attributes_and_the_text_kept_as_given():
    model, tokenizer = ner_model("distilbert", 2)
    text = "who were they, and where is my music?"
    ours = TokenClassificationExplainer(model, tokenizer)
    got = ours(text, n_steps=4, internal_batch_size=2)
    tokens = tokenizer.tokenize(text)
    assert ours.text == text and ours.input_ids.tolist() == [tokenizer(text)["input_ids"]]
    assert list(got) == ["[CLS]", *tokens, "[SEP]"]
    assert isinstance(ours.predicted_class_indexes, np.ndarray) and len(ours.predicted_class_indexes) == len(tokens) + 2
    with torch.no_grad():
        probabilities = torch.softmax(model(**tokenizer(text, return_tensors="pt")).logits, -1)[0]
    assert torch.allclose(ours.pred_probs, probabilities, atol=1e-6)
    assert [entry["label"] for entry in got.values()] == ours.predicted_class_names
    for position, attributions in ours.attributions.items():
        assert attributions.attributions_sum.tolist() == pytest.approx(scores(attributions.word_attributions))
        assert float(attributions.delta) == pytest.approx(ours.explanation.targets[position].delta)
    assert ours.n_steps == 4 and ours.internal_batch_size == 2
    legacy = transformers_interpret.TokenClassificationExplainer(model, tokenizer)
    legacy(text, n_steps=1)
    assert legacy.text == "who were they , and where is my music ? "  # rewritten around punctuation


def test_calls_before_explaining_and_bad_options_get_clear_errors():
    model, tokenizer = ner_model("bert", 1)
    ours = TokenClassificationExplainer(model, tokenizer)
    for attribute in ("word_attributions", "predicted_class_names"):
        with pytest.raises(attrix.InputError, match="nothing explained yet"):
            getattr(ours, attribute)
    with pytest.raises(attrix.UnknownNameError, match="unknown attribution_type 'ig'; valid: lig"):
        TokenClassificationExplainer(model, tokenizer, attribution_type="ig")
    ours(TEXT, n_steps=1)
    with pytest.raises(attrix.InputError, match="true_classes has 2 labels but the text has 12 tokens"):
        ours.visualize(true_classes=["O", "O"])


def test_visualize_writes_html_outside_notebooks(tmp_path):
    model, tokenizer = ner_model("bert", 1)
    ours = TokenClassificationExplainer(model, tokenizer)
    ours("where is my music", n_steps=2, ignored_indexes=[0, 5])
    true_classes = ["O", "O", "B-LOC", "O", "I-LOC", "O"]
    page = ours.visualize(str(tmp_path / "ner"), true_classes=true_classes)
    written = (tmp_path / "ner.html").read_text()
    assert written == page.data == page._repr_html_()
    for position, token in ((1, "where"), (2, "is"), (3, "my"), (4, "music")):
        label = ours.predicted_class_names[position]
        assert f"toward {label} at {token} ({position})" in written
        assert f"<td>{true_classes[position]}</td><td>{label} (" in written
    assert "[SEP] (5)" not in written


def test_readme_example_runs_with_a_tiny_local_model(tmp_path, monkeypatch):
    """transformers-interpret's README example, a tiny local BERT in place of dslim/bert-base-NER."""
    from transformers import AutoModelForTokenClassification, AutoTokenizer

    from attrix import TokenClassificationExplainer as Exported

    monkeypatch.chdir(tmp_path)
    labels = {0: "O", 1: "B-MISC", 2: "I-MISC", 3: "B-PER", 4: "I-PER", 5: "B-ORG", 6: "I-ORG", 7: "B-LOC", 8: "I-LOC"}
    name = str(save("bert", tmp_path / "ner-model", head="token", id2label=labels, seed=5))
    model = AutoModelForTokenClassification.from_pretrained(name)
    tokenizer = AutoTokenizer.from_pretrained(name)
    ner_explainer = Exported(model, tokenizer)
    sample_text = "We visited Paris last weekend, where Emmanuel Macron lives."
    word_attributions = ner_explainer(sample_text, ignored_labels=["O"])
    predicted = ner_explainer.predicted_class_names
    assert [entry["label"] for entry in word_attributions.values()] == [label for label in predicted if label != "O"]
    assert all(entry["attribution_scores"][0] == ("[CLS]", 0.0) for entry in word_attributions.values())
    ner_explainer.visualize("bert_ner_viz.html")
    assert "Emmanuel" in (tmp_path / "bert_ner_viz.html").read_text()


def test_is_importable_from_attrix():
    assert attrix.TokenClassificationExplainer is TokenClassificationExplainer
    assert attrix.compat.TokenClassificationExplainer is TokenClassificationExplainer
