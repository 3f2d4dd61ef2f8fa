"""The multi-label task: sigmoid per label, every label from one shared problem, auto-detection and bad input."""

from __future__ import annotations

import functools

import pytest
import torch
from transformers import pipeline
from transformers_interpret import MultiLabelClassificationExplainer
from transformers_interpret.explainer import BaseExplainer

import attrix
from helpers.tiny_models import build
from helpers.tiny_nli import spread

TEXT = "i love this movie it is great"
LABELS = {0: "action", 1: "comedy", 2: "drama", 3: "horror"}


@functools.cache
def multi_label(arch: str = "bert"):
    """A tiny multi-label classifier with weights wide enough that its labels depend on the words (shared, never mutated)."""
    model, tokenizer = build(arch, seed=5, id2label=LABELS)
    spread(model, 0.3, seed=5)
    model.config.problem_type = "multi_label_classification"
    return model, tokenizer


def test_auto_picks_multilabel_only_for_multi_label_models():
    model, tokenizer = multi_label()
    assert attrix.Explainer(model, tokenizer).task.name == "multilabel"
    assert attrix.Explainer(model, tokenizer, task="sequence").task.name == "sequence"
    single, tokenizer = build("bert", num_labels=3)
    assert attrix.Explainer(single, tokenizer).task.name == "sequence"
    assert attrix.Explainer(single, tokenizer, task="multilabel").task.name == "multilabel"


@pytest.mark.parametrize("arch", ["bert", "roberta", "deberta-v2"])
def test_probabilities_are_sigmoids_as_the_pipeline_computes_them(arch):
    model, tokenizer = multi_label(arch)
    (expected,) = pipeline("text-classification", model=model, tokenizer=tokenizer, top_k=None)([TEXT])
    explanation = attrix.Explainer(model, tokenizer, n_steps=2)(TEXT)
    assert explanation.probabilities == pytest.approx({row["label"]: row["score"] for row in expected}, abs=1e-6)
    assert explanation.predicted_label == max(expected, key=lambda row: row["score"])["label"]
    above = {row["label"] for row in expected if row["score"] > 0.5}
    assert explanation.details["predicted_labels"] == [label for label in LABELS.values() if label in above]
    assert 0 < len(explanation.details["predicted_labels"]) < len(LABELS)  # the threshold is exercised both ways


def test_every_label_is_explained_completely_by_default():
    model, tokenizer = multi_label()
    explanation = attrix.Explainer(model, tokenizer, n_steps=32)(TEXT)
    assert [(target.label, target.index) for target in explanation.targets] == [(label, index) for index, label in LABELS.items()]
    for target in explanation.targets:
        gap = target.score - target.baseline_score
        assert target.score == pytest.approx(explanation.probabilities[target.label], abs=1e-6)
        assert target.total - gap == pytest.approx(target.delta, abs=1e-6)
        assert abs(target.delta) <= 1e-2 * abs(gap) and abs(gap) > 1e-3


def test_target_restricts_the_labels():
    model, tokenizer = multi_label()
    explainer = attrix.Explainer(model, tokenizer, n_steps=4)
    assert [target.label for target in explainer(TEXT, target="drama").targets] == ["drama"]
    assert [target.label for target in explainer(TEXT, target=[3, "action"]).targets] == ["horror", "action"]
    with pytest.raises(attrix.UnknownNameError, match="unknown label 'thriller'; valid: action, comedy, drama, horror"):
        explainer(TEXT, target="thriller")


def test_labels_together_equal_each_label_alone(padded_batches):
    model, tokenizer = multi_label()
    explainer = attrix.Explainer(model, tokenizer, n_steps=16)
    together = explainer([TEXT, "the food was awful"])
    for text, explanation in zip([TEXT, "the food was awful"], together):
        for target in explanation.targets:
            alone = explainer(text, target=target.label).target()
            assert target.token_scores == pytest.approx(alone.token_scores, abs=1e-6)
            assert target.delta == pytest.approx(alone.delta, abs=1e-6)


def forward_batches(model, tokenizer, **options) -> list[int]:
    """The batch size of every forward pass the model makes while all labels of ``TEXT`` are explained."""
    batches: list[int] = []
    handle = model.register_forward_pre_hook(
        lambda module, args, kwargs: batches.append(kwargs["input_ids"].shape[0]), with_kwargs=True
    )
    try:
        attrix.Explainer(model, tokenizer, **options)(TEXT)
    finally:
        handle.remove()
    return batches


def test_all_labels_share_each_forward_and_steps_and_internal_batch_size_are_honoured():
    model, tokenizer = multi_label()
    # the prediction (f(x) too), f(baseline), then the 6-step path: one step measuring the memory a row keeps,
    # then the other five in one pass (or in passes of internal_batch_size): never a pass per label
    assert forward_batches(model, tokenizer, n_steps=6) == [1, 1, 1, 5]
    assert forward_batches(model, tokenizer, n_steps=6, internal_batch_size=2) == [1, 1, 2, 2, 2]
    chunked = attrix.Explainer(model, tokenizer, n_steps=6, internal_batch_size=2)(TEXT)
    whole = attrix.Explainer(model, tokenizer, n_steps=6)(TEXT)
    for a, b in zip(chunked.targets, whole.targets):
        assert a.token_scores == pytest.approx(b.token_scores, abs=1e-6)
    assert chunked.settings["n_steps"] == 6 and chunked.settings["internal_batch_size"] == 2


def test_agrees_with_transformers_interpret(monkeypatch):
    # transformers-interpret gives a single text's final [SEP] token type 1 (its ``sep_idx`` is one short): fixed here
    original = BaseExplainer._make_input_reference_token_type_pair
    monkeypatch.setattr(BaseExplainer, "_make_input_reference_token_type_pair", lambda self, ids, sep=0: original(self, ids, sep + 1))
    model, tokenizer = multi_label()
    ours = attrix.Explainer(model, tokenizer)(TEXT)
    theirs = MultiLabelClassificationExplainer(model, tokenizer)
    attributions = theirs(TEXT)
    for target in ours.targets:
        assert float(theirs.label_probs_dict[target.label]) == pytest.approx(target.score, abs=1e-6)
        expected = torch.tensor([score for _, score in attributions[target.label]], dtype=torch.float64)
        actual = torch.tensor(target.token_scores, dtype=torch.float64)
        assert torch.cosine_similarity(expected, actual, dim=0) >= 0.98


def test_model_with_another_head_is_refused():
    model, tokenizer = build("bert", head="token", num_labels=3)
    with pytest.raises(attrix.TaskMismatchError, match="ForSequenceClassification.*BertForTokenClassification"):
        attrix.Explainer(model, tokenizer, task="multilabel")
