"""``attrix.ZeroShotClassificationExplainer`` against transformers-interpret 0.10.0 and the zero-shot pipeline."""

from __future__ import annotations

import functools

import pytest
import torch
import transformers_interpret
from captum.attr import LayerIntegratedGradients
from transformers import AutoModelForSequenceClassification, AutoTokenizer, pipeline

import attrix
from attrix.compat.zero_shot import DEFAULT_TEMPLATE, ZeroShotClassificationExplainer
from attrix.text.encoding import TruncationWarning
from helpers.legacy_comparison import cosine, equal_token_types, scores
from helpers.tiny_models import build
from helpers.tiny_nli import build_nli

TEXT = "i love this movie it is great"
LABELS = ["sports", "music", "food"]
N_STEPS = 16

pytestmark = pytest.mark.filterwarnings("ignore:Converting a tensor with requires_grad")


@functools.cache
def nli(arch: str, same_token_types: bool = False):
    """A tiny NLI model with wide weights; with ``same_token_types`` its two token-type rows are equal, so
    transformers-interpret's token-type bug changes nothing (shared, never mutated)."""
    model, tokenizer = build_nli(arch, seed=3, std=0.3)
    if same_token_types:
        equal_token_types(model)
    return model, tokenizer


def tokens(pairs):
    return [token for token, _ in pairs]


def pipeline_result(model, tokenizer, text=TEXT, labels=LABELS):
    classify = pipeline("zero-shot-classification", model=model, tokenizer=tokenizer)
    return classify(text, candidate_labels=labels, hypothesis_template=DEFAULT_TEMPLATE)


@pytest.mark.parametrize("include_hypothesis", [False, True])
def test_agrees_with_transformers_interpret(include_hypothesis):
    legacy = transformers_interpret.ZeroShotClassificationExplainer(*nli("bert", same_token_types=True))
    ours = ZeroShotClassificationExplainer(*nli("bert", same_token_types=True))
    options = {"include_hypothesis": include_hypothesis, "n_steps": N_STEPS}
    expected, got = legacy(TEXT, LABELS, **options), ours(TEXT, LABELS, **options)
    assert list(got) == list(expected) == ours.labels == LABELS
    assert ours.predicted_label == legacy.predicted_label
    assert ours.hypothesis_labels == legacy.hypothesis_labels == [f"this text is about {label} ." for label in LABELS]
    assert ours.selected_index == legacy.selected_index == legacy.entailment_idx == ours.entailment_idx
    for label in LABELS:
        # transformers-interpret leaves the text's last token and its [SEP] out (its sep_idx is one short)
        shown = len(expected[label]) if include_hypothesis else len(expected[label]) + 2
        assert len(got[label]) == shown
        assert tokens(got[label])[: len(expected[label])] == tokens(expected[label])
        assert cosine(scores(got[label])[: len(expected[label])], scores(expected[label])) >= 0.98
        assert sum(score**2 for score in scores(got[label])) == pytest.approx(1.0)


def test_the_whole_text_is_shown():
    ours = ZeroShotClassificationExplainer(*nli("bert"))
    legacy = transformers_interpret.ZeroShotClassificationExplainer(*nli("bert"))
    got, expected = ours(TEXT, LABELS, n_steps=2), legacy(TEXT, LABELS, n_steps=2)
    assert tokens(got["food"]) == ["[CLS]", *TEXT.split(), "[SEP]"]
    assert tokens(expected["food"]) == ["[CLS]", *TEXT.split()[:-1]]


@pytest.mark.parametrize("arch", ["bert", "roberta"])
def test_ranking_and_scores_equal_the_pipeline(arch):
    model, tokenizer = nli(arch)
    expected = pipeline_result(model, tokenizer)
    ours = ZeroShotClassificationExplainer(model, tokenizer)
    ours(TEXT, LABELS, n_steps=2)
    assert ours.predicted_label == expected["labels"][0]
    assert ours.predicted_class_name == ours.predicted_label
    assert ours.predicted_class_index == LABELS.index(ours.predicted_label)
    assert ours.pred_probs == pytest.approx([expected["scores"][expected["labels"].index(label)] for label in LABELS], abs=1e-5)
    legacy = transformers_interpret.ZeroShotClassificationExplainer(model, tokenizer)
    legacy(TEXT, LABELS, n_steps=2)
    # transformers-interpret normalises sigmoids of the entailment logits (its issue #84)
    assert max(abs(a - b) for a, b in zip(legacy.pred_probs, ours.pred_probs)) > 1e-3


def test_a_single_label_is_scored_as_the_pipeline_scores_it():
    model, tokenizer = nli("bert")
    expected = pipeline_result(model, tokenizer, labels=["music"])["scores"][0]
    ours = ZeroShotClassificationExplainer(model, tokenizer)
    ours(TEXT, ["music"], n_steps=2)
    assert ours.pred_probs == pytest.approx([expected], abs=1e-5)
    assert ours.explanation.target("music").score == pytest.approx(expected, abs=1e-5)  # what is explained, too
    legacy = transformers_interpret.ZeroShotClassificationExplainer(model, tokenizer)
    legacy(TEXT, ["music"], n_steps=2)
    assert legacy.pred_probs == [1.0]  # a label's sigmoid divided by itself


def test_pairs_are_encoded_as_the_tokenizer_encodes_them():
    model, tokenizer = nli("bert")
    ours = ZeroShotClassificationExplainer(model, tokenizer)
    ours(TEXT, LABELS, n_steps=2, include_hypothesis=True)
    legacy = transformers_interpret.ZeroShotClassificationExplainer(model, tokenizer)
    legacy(TEXT, LABELS, n_steps=2)
    hypothesis = legacy.hypothesis_labels[-1]
    encoding = tokenizer(TEXT, hypothesis, return_tensors="pt")
    assert ours.input_ids.tolist() == encoding["input_ids"].tolist() == legacy.input_ids.tolist()
    # transformers-interpret gives the text's [SEP] token type 1
    assert legacy.token_type_ids.tolist() != encoding["token_type_ids"].tolist()
    with torch.no_grad():
        entailment = torch.softmax(model(**encoding).logits, -1)[0, ours.entailment_idx].item()
    assert ours.explanation.target(LABELS[-1]).score == pytest.approx(entailment, abs=1e-6)


def test_roberta_pairs_keep_their_double_separator():
    model, tokenizer = nli("roberta")
    ours = ZeroShotClassificationExplainer(model, tokenizer)
    ours(TEXT, LABELS, n_steps=2, include_hypothesis=True)
    legacy = transformers_interpret.ZeroShotClassificationExplainer(model, tokenizer)
    legacy(TEXT, LABELS, n_steps=2)
    expected = [tokenizer(TEXT, legacy.hypothesis_labels[-1])["input_ids"]]
    assert ours.input_ids.tolist() == expected
    assert legacy.input_ids.tolist() != expected  # transformers-interpret puts one </s> between the texts, not two


def bart_reference(model, tokenizer, text, hypothesis, entailment):
    """captum's layer integrated gradients at BART's encoder token embeddings, pad in place of both texts."""
    encoding = tokenizer(text, hypothesis, return_tensors="pt", return_special_tokens_mask=True)
    baseline = torch.where(encoding.pop("special_tokens_mask").bool(), encoding["input_ids"], tokenizer.pad_token_id)

    def forward(ids, mask):
        return torch.softmax(model(input_ids=ids, attention_mask=mask).logits, -1)[:, entailment]

    lig = LayerIntegratedGradients(forward, model.model.encoder.embed_tokens)
    values = lig.attribute(
        encoding["input_ids"], baselines=baseline, additional_forward_args=(encoding["attention_mask"],), n_steps=N_STEPS
    )
    return values.sum(-1)[0].tolist()


def test_bart_works_where_transformers_interpret_fails():
    model, tokenizer = nli("bart")
    with pytest.raises(AssertionError, match="Forward hook did not obtain any outputs"):
        transformers_interpret.ZeroShotClassificationExplainer(model, tokenizer)(TEXT, LABELS, n_steps=2)
    ours = ZeroShotClassificationExplainer(model, tokenizer)
    got = ours(TEXT, LABELS, include_hypothesis=True, n_steps=N_STEPS)
    expected = pipeline_result(model, tokenizer)
    assert ours.predicted_label == expected["labels"][0]
    for label, hypothesis in list(zip(LABELS, ours.hypothesis_labels))[:2]:
        reference = bart_reference(model, tokenizer, TEXT, hypothesis, ours.entailment_idx)
        assert cosine(scores(got[label]), reference) >= 0.999


def test_entailment_label_is_found_as_the_pipeline_finds_it():
    model, tokenizer = nli("deberta-v2")  # its labels are "Entailment", "Neutral", "Contradiction"
    with pytest.raises(ValueError, match='Expected label "entailment"'):
        transformers_interpret.ZeroShotClassificationExplainer(model, tokenizer)
    ours = ZeroShotClassificationExplainer(model, tokenizer)
    assert (ours.entailment_idx, ours.entailment_key) == (0, "Entailment")
    not_nli, tokenizer = build("bert", num_labels=3)
    with pytest.raises(attrix.TaskMismatchError, match="needs an NLI model with an entailment label"):
        ZeroShotClassificationExplainer(not_nli, tokenizer)


def test_hypothesis_template_is_used(tmp_path):
    ours = ZeroShotClassificationExplainer(*nli("bert"))
    got = ours(TEXT, ["food", "music"], hypothesis_template="it is about {}", include_hypothesis=True, n_steps=2)
    assert ours.hypothesis_template == "it is about {}" and ours.include_hypothesis
    assert tokens(got["food"])[-5:] == ["it", "is", "about", "food", "[SEP]"]
    with pytest.raises(attrix.InputError, match="must have one \\{\\} where the label goes"):
        ours(TEXT, LABELS, hypothesis_template="it is about food")


def test_visualize_shows_each_label(tmp_path):
    ours = ZeroShotClassificationExplainer(*nli("bert"))
    ours(TEXT, LABELS, n_steps=2)
    page = ours.visualize(str(tmp_path / "text"), true_class="music").data
    assert page == (tmp_path / "text.html").read_text()
    assert all(f"toward {label}</h3>" in page for label in LABELS) and "<td>music</td>" in page
    assert "about" not in page
    ours(TEXT, LABELS, n_steps=2, include_hypothesis=True)
    page = ours.visualize(str(tmp_path / "hypotheses.html")).data
    assert all(f"this text is about {label} ." in page for label in LABELS)
    assert page.count('class="explanation"') == len(LABELS)


def test_nothing_explained_yet_is_a_clear_error():
    with pytest.raises(attrix.InputError, match="nothing explained yet"):
        ZeroShotClassificationExplainer(*nli("bert")).word_attributions


def test_readme_example(tmp_path):
    """transformers-interpret's README example, a tiny local BART NLI model in place of facebook/bart-large-mnli."""
    model, tokenizer = nli("bart")
    model.save_pretrained(tmp_path / "bart-mnli")
    tokenizer.save_pretrained(tmp_path / "bart-mnli")
    tokenizer = AutoTokenizer.from_pretrained(tmp_path / "bart-mnli")
    model = AutoModelForSequenceClassification.from_pretrained(tmp_path / "bart-mnli")
    zero_shot_explainer = attrix.ZeroShotClassificationExplainer(model, tokenizer)
    text = "Today apple released the new Macbook showing off a range of new features found in the proprietary silicon chip computer. "
    with pytest.warns(TruncationWarning):  # the tiny vocabulary spells most of these words letter by letter
        word_attributions = zero_shot_explainer(text, labels=["finance", "technology", "sports"], n_steps=4)
    assert list(word_attributions) == ["finance", "technology", "sports"]
    expected = [token.replace("Ġ", "") for token in tokenizer.convert_ids_to_tokens(tokenizer(text)["input_ids"])]
    for pairs in word_attributions.values():
        shown = tokens(pairs)
        assert shown[:-2] == expected[: len(shown) - 2] and shown[-2:] == ["</s>", "</s>"]
    zero_shot_explainer.visualize(str(tmp_path / "zero_shot.html"))
    assert "technology" in (tmp_path / "zero_shot.html").read_text()


def test_is_importable_from_attrix():
    assert attrix.ZeroShotClassificationExplainer is ZeroShotClassificationExplainer
