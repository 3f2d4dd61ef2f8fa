"""The zero-shot task: the pipeline's ranking and scores, one batched problem per text, BART, hypotheses and bad input."""

from __future__ import annotations

import functools

import pytest
import torch
from captum.attr import LayerIntegratedGradients
from transformers import pipeline
from transformers_interpret import ZeroShotClassificationExplainer

import attrix
from attrix.text.encoding import TruncationWarning
from helpers.tiny_models import build
from helpers.tiny_nli import NLI_ARCHITECTURES, build_nli

TEXTS = ["i love this movie it is great", "the food was awful"]
LABELS = ["sports", "music", "food"]


@functools.cache
def nli(arch: str):
    """A tiny NLI model with weights wide enough that its entailment depends on the words (shared, never mutated)."""
    return build_nli(arch, seed=3, std=0.3)


def token_embeddings(model):
    """The layer attributions are taken at: the token embeddings (BART: its encoder's own)."""
    return model.model.encoder.embed_tokens if model.config.is_encoder_decoder else model.get_input_embeddings()


def entailment(model, tokenizer, text, hypothesis, baseline=False):
    """P(entailment) of the pair computed here; ``baseline`` embeds the text's tokens as pad, keeping the hypothesis."""
    encoding = tokenizer(text, hypothesis, return_tensors="pt")
    layer = token_embeddings(model)
    premise = torch.tensor([[sequence == 0 for sequence in encoding.sequence_ids(0)]])
    padded = layer(encoding["input_ids"].masked_fill(premise, tokenizer.pad_token_id))
    handle = layer.register_forward_hook(lambda module, args, output: padded if baseline else output)
    entail = [index for label, index in model.config.label2id.items() if label.lower() == "entailment"][0]
    try:
        with torch.no_grad():
            return torch.softmax(model(**encoding).logits, -1)[0, entail].item()
    finally:
        handle.remove()


@pytest.mark.parametrize("arch", NLI_ARCHITECTURES)
@pytest.mark.parametrize("multi_label", [False, True])
def test_ranking_and_scores_equal_the_pipeline(arch, multi_label):
    model, tokenizer = nli(arch)
    classify = pipeline("zero-shot-classification", model=model, tokenizer=tokenizer)
    explainer = attrix.Explainer(model, tokenizer, task="zero_shot", multi_label=multi_label, n_steps=2)
    items = [{"text": TEXTS[0], "candidate_labels": LABELS}, {"text": TEXTS[1], "candidate_labels": ["bad"]}]
    for explanation, item in zip(explainer(items), items):
        expected = classify(item["text"], candidate_labels=item["candidate_labels"], multi_label=multi_label)
        assert list(explanation.probabilities) == expected["labels"]
        assert list(explanation.probabilities.values()) == pytest.approx(expected["scores"], abs=1e-5)
        assert explanation.predicted_label == expected["labels"][0]
        assert [target.label for target in explanation.targets] == expected["labels"]


@pytest.mark.parametrize("arch", NLI_ARCHITECTURES)
def test_each_label_explains_its_pair_completely(arch):
    model, tokenizer = nli(arch)
    explanation = attrix.Explainer(model, tokenizer, task="zero_shot", n_steps=32)({"text": TEXTS[0], "candidate_labels": LABELS})
    assert explanation.details["target_score"] == "P(entailment)"
    for target in explanation.targets:
        hypothesis = f"This example is {target.label}."
        assert explanation.details["hypotheses"][target.label] == hypothesis
        assert target.index == LABELS.index(target.label)
        assert target.score == pytest.approx(entailment(model, tokenizer, TEXTS[0], hypothesis), abs=1e-5)
        assert target.baseline_score == pytest.approx(entailment(model, tokenizer, TEXTS[0], hypothesis, baseline=True), abs=1e-5)
        gap = target.score - target.baseline_score
        assert target.total - gap == pytest.approx(target.delta, abs=1e-6)
        assert abs(target.delta) <= 2e-2 * abs(gap) + 1e-6
        assert abs(gap) > 1e-4  # the text moves the entailment, so completeness is not 0 = 0


@pytest.mark.parametrize("embedding", ["position", "embeddings"])
def test_the_text_alone_accounts_for_the_gap_at_other_layers(embedding):
    model, tokenizer = nli("bert")
    item = {"text": TEXTS[0], "candidate_labels": LABELS}
    for include_hypothesis in (False, True):
        explainer = attrix.Explainer(
            model, tokenizer, task="zero_shot", embedding=embedding, include_hypothesis=include_hypothesis, n_steps=32
        )
        explanation = explainer(item)
        for target in explanation.targets:
            gap = target.score - target.baseline_score
            assert abs(target.total - gap) <= 1e-2 * abs(gap) + 1e-6 and abs(gap) > 1e-3


def test_multi_label_targets_explain_the_pipeline_score():
    model, tokenizer = nli("roberta")
    explainer = attrix.Explainer(model, tokenizer, task="zero_shot", multi_label=True, n_steps=32)
    explanation = explainer({"text": TEXTS[0], "candidate_labels": LABELS})
    assert explanation.details["target_score"] == "P(entailment | entailment or contradiction)"
    for target in explanation.targets:
        assert target.score == pytest.approx(explanation.probabilities[target.label], abs=1e-6)
        assert abs(target.total - (target.score - target.baseline_score)) <= 1e-3 * abs(target.score - target.baseline_score) + 1e-6


@pytest.mark.parametrize("arch", ["bert", "xlm-roberta"])
def test_tokens_are_the_shared_text_and_hypotheses_go_to_details(arch):
    model, tokenizer = nli(arch)
    item = {"text": TEXTS[0], "candidate_labels": LABELS}
    without = attrix.Explainer(model, tokenizer, task="zero_shot", n_steps=8)(item)
    explanation = attrix.Explainer(model, tokenizer, task="zero_shot", n_steps=8, include_hypothesis=True)(item)
    assert explanation.tokens == without.tokens
    assert [word.text for word in explanation.words] == TEXTS[0].split()
    assert "hypothesis_tokens" not in without.details
    for target in explanation.targets:
        hypothesis = explanation.details["hypotheses"][target.label]
        pair_tokens = tokenizer.convert_ids_to_tokens(tokenizer(TEXTS[0], hypothesis)["input_ids"])
        extra = explanation.details["hypothesis_tokens"][target.label]
        assert explanation.tokens + extra == pair_tokens
        assert len(target.token_scores) == len(pair_tokens)
        assert len(without.target(target.label).token_scores) == len(explanation.tokens)
        words = explanation.details["hypothesis_words"][target.label]
        assert [hypothesis[word["start"] : word["end"]] for word in words] == [word["text"] for word in words]
        assert any(word["text"].startswith(target.label) for word in words) and all(word["sequence"] == 1 for word in words)
        assert len(target.word_scores) == len(explanation.words) + len(words)
        assert all(pair_tokens[token] in extra for word in words for token in word["tokens"])
        assert target.total - (target.score - target.baseline_score) == pytest.approx(target.delta, abs=1e-6)
        # the hypothesis replaced in the baseline too: the baseline score drops it, unlike the default's
        assert target.baseline_score != pytest.approx(without.target(target.label).baseline_score, abs=1e-6)


def test_all_labels_of_a_batch_are_one_problem(padded_batches):
    model, tokenizer = nli("bert")
    explainer = attrix.Explainer(model, tokenizer, task="zero_shot", n_steps=4)
    items = [{"text": TEXTS[0], "candidate_labels": LABELS}, {"text": TEXTS[1], "candidate_labels": ["food", "music"]}]
    batches: list[int] = []
    handle = model.register_forward_pre_hook(
        lambda module, args, kwargs: batches.append(kwargs["input_ids"].shape[0]), with_kwargs=True
    )
    try:
        together = explainer(items)
    finally:
        handle.remove()
    # five pairs in every pass (three steps each along the path, after one step measuring the memory they keep)
    assert set(batches) <= {5, 15} and 15 in batches
    for item, explanation in zip(items, together):
        alone = explainer(item)
        assert alone.tokens == explanation.tokens and alone.probabilities == pytest.approx(explanation.probabilities, abs=1e-6)
        for a, b in zip(alone.targets, explanation.targets):
            assert (a.label, a.index) == (b.label, b.index)
            assert a.token_scores == pytest.approx(b.token_scores, abs=1e-6)


def test_target_restricts_the_explained_labels():
    model, tokenizer = nli("bert")
    explainer = attrix.Explainer(model, tokenizer, task="zero_shot", n_steps=8)
    item = {"text": TEXTS[0], "candidate_labels": LABELS}
    every = explainer(item)
    one = explainer(item, target="music")
    assert [target.label for target in one.targets] == ["music"]
    assert one.probabilities == every.probabilities
    assert one.target("music").token_scores == pytest.approx(every.target("music").token_scores, abs=1e-6)
    assert [t.label for t in explainer(item, target=[2, 0]).targets] == [label for label in every.probabilities if label != "music"]


def test_candidate_labels_from_the_item_the_option_or_a_comma_separated_string():
    model, tokenizer = nli("bert")
    default = attrix.Explainer(model, tokenizer, task="zero_shot", candidate_labels=["music", "food"], n_steps=2)
    assert default(TEXTS[1]).inputs == {"text": TEXTS[1], "candidate_labels": ["music", "food"]}
    assert default({"text": TEXTS[1]}).inputs["candidate_labels"] == ["music", "food"]
    assert default({"text": TEXTS[1], "candidate_labels": "sports, food"}).inputs["candidate_labels"] == ["sports", "food"]
    assert default.task.settings()["candidate_labels"] == ["music", "food"]


def test_hypothesis_template_is_used():
    model, tokenizer = nli("roberta")
    explanation = attrix.Explainer(model, tokenizer, task="zero_shot", hypothesis_template="it is about {}", n_steps=2)(
        {"text": TEXTS[0], "candidate_labels": LABELS}
    )
    classify = pipeline("zero-shot-classification", model=model, tokenizer=tokenizer)
    expected = classify(TEXTS[0], candidate_labels=LABELS, hypothesis_template="it is about {}")
    assert list(explanation.probabilities.values()) == pytest.approx(expected["scores"], abs=1e-5)
    assert explanation.details["hypotheses"]["food"] == "it is about food"


def _encoder_reference(model, tokenizer, text, hypothesis, n_steps):
    """captum's layer integrated gradients at BART's encoder token embeddings, with a forward written here."""
    encoding = tokenizer(text, hypothesis, return_tensors="pt", return_special_tokens_mask=True)
    special = encoding.pop("special_tokens_mask").bool()
    baseline = torch.where(special, encoding["input_ids"], tokenizer.pad_token_id)
    entail = model.config.label2id["entailment"]

    def forward(ids, mask):
        return torch.softmax(model(input_ids=ids, attention_mask=mask).logits, -1)[:, entail]

    lig = LayerIntegratedGradients(forward, model.model.encoder.embed_tokens)
    values = lig.attribute(
        encoding["input_ids"], baselines=baseline, additional_forward_args=(encoding["attention_mask"],), n_steps=n_steps
    )
    return values.sum(-1)[0]


def test_bart_is_explained_at_its_encoder_token_embeddings():
    model, tokenizer = build_nli("bart", seed=3, std=0.3)
    item = {"text": TEXTS[0], "candidate_labels": ["music", "food"]}
    explainer = attrix.Explainer(model, tokenizer, task="zero_shot", include_hypothesis=True, n_steps=16)
    separate = explainer(item)
    for target in separate.targets:
        expected = _encoder_reference(model, tokenizer, TEXTS[0], separate.details["hypotheses"][target.label], 16)
        assert target.token_scores == pytest.approx(expected.tolist(), abs=1e-6)
    # one embedding module for the encoder and the decoder, as set_input_embeddings and resize_token_embeddings leave it
    model.set_input_embeddings(model.get_input_embeddings())
    assert model.model.encoder.embed_tokens is model.model.decoder.embed_tokens
    shared = attrix.Explainer(model, tokenizer, task="zero_shot", include_hypothesis=True, n_steps=16)(item)
    for a, b in zip(shared.targets, separate.targets):
        assert a.token_scores == pytest.approx(b.token_scores, abs=1e-6)
    assert model.model.encoder.embed_tokens is model.model.decoder.embed_tokens  # the model is left as it was


class FixedTokenTypes(ZeroShotClassificationExplainer):
    """transformers-interpret with its token types fixed: it gives the first [SEP] type 1 (``sep_idx`` is one short)."""

    def _make_input_reference_token_type_pair(self, input_ids, sep_idx=0):
        return super()._make_input_reference_token_type_pair(input_ids, sep_idx + 1)


@pytest.mark.filterwarnings("ignore:Converting a tensor with requires_grad")
def test_agrees_with_transformers_interpret():
    model, tokenizer = nli("bert")
    ours = attrix.Explainer(model, tokenizer, task="zero_shot", include_hypothesis=True)(
        {"text": TEXTS[0], "candidate_labels": LABELS}
    )
    theirs = FixedTokenTypes(model, tokenizer)
    attributions = theirs(TEXTS[0], LABELS, hypothesis_template="This example is {}.", include_hypothesis=True)
    assert theirs.predicted_label == ours.predicted_label
    for target in ours.targets:
        expected = torch.tensor([score for _, score in attributions[target.label]], dtype=torch.float64)
        actual = torch.tensor(target.token_scores, dtype=torch.float64)
        assert torch.cosine_similarity(expected, actual, dim=0) >= 0.98


def test_long_text_is_cut_once_for_every_pair():
    model, tokenizer = nli("bert")
    text = " ".join(["movie"] * 70)
    with pytest.warns(TruncationWarning, match="cut to its first"):
        explanation = attrix.Explainer(model, tokenizer, task="zero_shot", include_hypothesis=True, n_steps=4)(
            {"text": text, "candidate_labels": ["food", "a very long label indeed"]}
        )
    longest = explanation.details["hypothesis_tokens"]["a very long label indeed"]
    assert len(explanation.tokens) + len(longest) == model.config.max_position_embeddings
    for target in explanation.targets:
        assert target.total - (target.score - target.baseline_score) == pytest.approx(target.delta, abs=1e-6)


def test_explanation_survives_json():
    model, tokenizer = nli("bert")
    explainer = attrix.Explainer(model, tokenizer, task="zero_shot", include_hypothesis=True, n_steps=2)
    explanation = explainer({"text": TEXTS[1], "candidate_labels": LABELS})
    assert attrix.Explanation.from_json(explanation.to_json()) == explanation


@pytest.mark.parametrize("item, error, message", [
    ({"text": TEXTS[0], "candidate_labels": []}, attrix.InputError, "candidate_labels is empty; give at least one label"),
    ({"text": TEXTS[0], "candidate_labels": " , "}, attrix.InputError, "candidate_labels is empty"),
    ({"text": TEXTS[0], "candidate_labels": ["a", "a"]}, attrix.InputError, "names 'a' twice"),
    ({"text": TEXTS[0], "candidate_labels": [3]}, TypeError, "must be a list of label strings"),
    ({"text": TEXTS[0], "labels": ["a"]}, attrix.InputError, "takes the keys 'text' and 'candidate_labels', got \\['labels', 'text'\\]"),
    (TEXTS[0], attrix.InputError, "no candidate labels .* or set the option candidate_labels"),
    ({"text": "", "candidate_labels": ["a"]}, attrix.InputError, "text is empty"),
])
def test_bad_input_gets_a_clear_error(item, error, message):
    model, tokenizer = nli("bert")
    with pytest.raises(error, match=message):
        attrix.Explainer(model, tokenizer, task="zero_shot")(item)


def test_bad_options_get_a_clear_error():
    model, tokenizer = nli("bert")
    for options, error, message in (
        ({"candidate_labels": []}, attrix.InputError, "candidate_labels is empty"),
        ({"hypothesis_template": "This example is good."}, attrix.InputError, "must have one \\{\\} where the label goes"),
        ({"hypothesis_template": "about {label}"}, attrix.InputError, "must have one \\{\\}"),
        ({"multi_label": "yes"}, TypeError, "option 'multi_label' of task 'zero_shot' must be true or false"),
    ):
        with pytest.raises(error, match=message):
            attrix.Explainer(model, tokenizer, task="zero_shot", **options)
    bart, bart_tokenizer = nli("bart")
    with pytest.raises(attrix.InputError, match="encoder–decoder model: it is explained at its encoder's token embeddings"):
        attrix.Explainer(bart, bart_tokenizer, task="zero_shot", embedding="embeddings")


def test_models_that_are_not_nli_are_refused():
    model, tokenizer = build("bert", num_labels=3, seed=1)
    message = "needs an NLI model with an entailment label, but BertForSequenceClassification's labels are LABEL_0, LABEL_1, LABEL_2"
    with pytest.raises(attrix.TaskMismatchError, match=message):
        attrix.Explainer(model, tokenizer, task="zero_shot")
    token, tokenizer = build("bert", head="token", num_labels=3)
    with pytest.raises(attrix.TaskMismatchError, match="ForSequenceClassification.*BertForTokenClassification"):
        attrix.Explainer(token, tokenizer, task="zero_shot")


def test_auto_never_picks_zero_shot():
    model, tokenizer = nli("bert")
    assert attrix.Explainer(model, tokenizer).task.name == "sequence"
