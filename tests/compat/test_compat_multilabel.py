"""``attrix.MultiLabelClassificationExplainer`` against transformers-interpret 0.10.0 itself."""

from __future__ import annotations

import functools

import pytest
import transformers_interpret
from transformers import AutoModelForSequenceClassification, AutoTokenizer, pipeline

import attrix
from attrix.compat.multilabel import MultiLabelClassificationExplainer
from helpers.legacy_comparison import cosine, equal_token_types, scores
from helpers.tiny_models import build, save
from helpers.tiny_nli import spread

TEXT = "i love this movie but the plot was boring"
LABELS = {0: "joy", 1: "anger", 2: "boredom"}


@functools.cache
def classifier(same_token_types: bool):
    """A tiny three-label BERT with wide weights; with ``same_token_types`` its two token-type rows are equal,
    so transformers-interpret's token-type bug changes nothing (shared, never mutated)."""
    model, tokenizer = build("bert", seed=1, id2label=LABELS)
    spread(model, 0.2, seed=5)
    if same_token_types:
        equal_token_types(model)
    return model, tokenizer


@pytest.fixture(scope="module")
def both():
    """transformers-interpret's and our explanation of ``TEXT`` (transformers-interpret always takes 50 steps)."""
    legacy = transformers_interpret.MultiLabelClassificationExplainer(*classifier(True))
    ours = MultiLabelClassificationExplainer(*classifier(True))
    return legacy, legacy(TEXT), ours, ours(TEXT)


def test_agrees_with_transformers_interpret(both):
    legacy, expected, ours, got = both
    assert list(got) == list(expected) == ours.labels == legacy.labels == ["joy", "anger", "boredom"]
    for label in expected:
        assert [token for token, _ in got[label]] == [token for token, _ in expected[label]]
        assert cosine(scores(got[label]), scores(expected[label])) >= 0.98
        assert sum(score**2 for score in scores(got[label])) == pytest.approx(1.0)
        assert float(ours.label_probs_dict[label]) == pytest.approx(float(legacy.label_probs_dict[label]), abs=1e-5)
    assert [float(p) for p in ours.pred_probs_list] == pytest.approx([float(p) for p in legacy.pred_probs_list], abs=1e-5)


def test_attributes_left_after_the_call_are_transformers_interprets(both):
    legacy, _, ours, _ = both
    assert ours.predicted_class_index == int(legacy.predicted_class_index)
    assert ours.predicted_class_name == legacy.predicted_class_name
    assert ours.selected_index == legacy.selected_index == 2  # the last label explained
    assert float(ours.pred_probs) == pytest.approx(float(legacy.pred_probs), abs=1e-5)
    assert [a.word_attributions for a in ours.attributions] == list(ours.word_attributions.values())


def test_probabilities_are_the_pipelines_sigmoids():
    model, tokenizer = classifier(False)
    expected = pipeline("text-classification", model=model, tokenizer=tokenizer, top_k=None, function_to_apply="sigmoid")([TEXT])[0]
    expected = {row["label"]: row["score"] for row in expected}
    ours = MultiLabelClassificationExplainer(model, tokenizer)
    ours(TEXT, n_steps=2)
    assert {label: float(p) for label, p in ours.label_probs_dict.items()} == pytest.approx(expected, abs=1e-6)
    legacy = transformers_interpret.MultiLabelClassificationExplainer(model, tokenizer)
    legacy(TEXT)
    # transformers-interpret gives the final [SEP] token type 1, so its probabilities are not the model's
    assert max(abs(float(legacy.label_probs_dict[label]) - expected[label]) for label in expected) > 1e-3


def test_n_steps_and_internal_batch_size_are_honoured():
    legacy = transformers_interpret.MultiLabelClassificationExplainer(*classifier(True))
    legacy(TEXT, n_steps=2, internal_batch_size=1)
    # transformers-interpret explains every label with a new explainer of its own defaults
    assert (legacy.attributions[0].n_steps, legacy.attributions[0].internal_batch_size) == (50, None)
    ours = MultiLabelClassificationExplainer(*classifier(True))
    ours(TEXT, n_steps=2, internal_batch_size=1)
    assert (ours.explanation.settings["n_steps"], ours.explanation.settings["internal_batch_size"]) == (2, 1)
    assert (ours.n_steps, ours.internal_batch_size) == (2, 1)


def test_embedding_type_is_honoured(both):
    _, expected, _, got = both
    legacy = transformers_interpret.MultiLabelClassificationExplainer(*classifier(True))
    # transformers-interpret passes embedding_type on as the class name, where it is ignored
    assert legacy(TEXT, embedding_type=1) == expected
    ours = MultiLabelClassificationExplainer(*classifier(True))
    by_position = ours(TEXT, embedding_type=1)
    assert ours.explanation.settings["embedding"] == "position"
    for label in by_position:
        assert cosine(scores(by_position[label]), scores(got[label])) < 0.98
        target = ours.explanation.target(label)
        assert target.total == pytest.approx(target.score - target.baseline_score, abs=abs(target.delta) + 1e-6)
        assert abs(target.delta) < 0.05 * max(abs(target.score - target.baseline_score), 1e-3)


def test_custom_labels_name_the_outputs(tmp_path):
    legacy = transformers_interpret.MultiLabelClassificationExplainer(*classifier(True), custom_labels=["a", "b", "c"])
    ours = MultiLabelClassificationExplainer(*classifier(True), custom_labels=["a", "b", "c"])
    got = ours(TEXT, n_steps=2)
    assert list(got) == list(legacy(TEXT)) == ["a", "b", "c"]
    assert list(ours.label_probs_dict) == list(legacy.label_probs_dict) == ["a", "b", "c"]
    page = ours.visualize(str(tmp_path / "labels.html")).data
    assert all(f"toward {label}</h3>" in page for label in "abc") and "toward joy" not in page
    with pytest.raises(attrix.InputError, match="custom_labels has 2 labels but the model has 3"):
        MultiLabelClassificationExplainer(*classifier(True), custom_labels=["a", "b"])


def test_str_shows_the_custom_labels():
    legacy = transformers_interpret.MultiLabelClassificationExplainer(*classifier(True), custom_labels=["a", "b", "c"])
    with pytest.raises(AttributeError, match="custom_labels"):  # transformers-interpret never stores them
        str(legacy)
    assert "custom_labels=['a', 'b', 'c']" in str(MultiLabelClassificationExplainer(*classifier(True), custom_labels=["a", "b", "c"]))


def test_nothing_explained_yet_is_a_clear_error():
    with pytest.raises(attrix.InputError, match="nothing explained yet"):
        MultiLabelClassificationExplainer(*classifier(True)).word_attributions


def test_readme_example(tmp_path):
    """transformers-interpret's README example, a tiny local RoBERTa in place of the Hub's emotion model."""
    emotions = ["anger", "disgust", "fear", "joy", "neutral", "sadness", "surprise"]
    model_name = str(save("roberta", tmp_path / "emotions", id2label=dict(enumerate(emotions))))
    model = AutoModelForSequenceClassification.from_pretrained(model_name)
    tokenizer = AutoTokenizer.from_pretrained(model_name)
    cls_explainer = attrix.MultiLabelClassificationExplainer(model, tokenizer)
    text = "There were many aspects of the film I liked, but it was frightening and gross in parts. My parents hated it."
    word_attributions = cls_explainer(text, n_steps=4)
    assert list(word_attributions) == emotions
    tokens = [token.replace("Ġ", "") for token in tokenizer.convert_ids_to_tokens(tokenizer(text)["input_ids"])]
    for label in emotions:
        assert [token for token, _ in word_attributions[label]] == tokens
        assert sum(score**2 for score in scores(word_attributions[label])) == pytest.approx(1.0)
    assert tokens[0] == "<s>" and tokens[-1] == "</s>"
    cls_explainer.visualize(str(tmp_path / "multilabel_viz.html"))
    assert all(f"toward {label}</h3>" in (tmp_path / "multilabel_viz.html").read_text() for label in emotions)


def test_is_importable_from_attrix():
    assert attrix.MultiLabelClassificationExplainer is MultiLabelClassificationExplainer
