"""The pairwise task: pair encoding, both texts' words, the pipeline's probabilities, flip_sign and bad input."""

from __future__ import annotations

import functools

import pytest
import torch
from transformers import pipeline
from transformers_interpret import PairwiseSequenceClassificationExplainer

import attrix
from helpers.tiny_models import ARCHITECTURES, build
from helpers.tiny_nli import spread

PAIR = ("i love this movie", "the acting was great")


@functools.cache
def cross_encoder(arch: str = "bert", num_labels: int = 1):
    """A tiny cross-encoder with weights wide enough that its score depends on the words (shared, never mutated)."""
    model, tokenizer = build(arch, num_labels=num_labels, seed=7)
    spread(model, 0.3, seed=7)
    return model, tokenizer


def test_pair_is_encoded_as_the_tokenizer_encodes_it():
    model, tokenizer = cross_encoder()
    seen = []
    handle = model.register_forward_pre_hook(lambda module, args, kwargs: seen.append(dict(kwargs)), with_kwargs=True)
    try:
        explanation = attrix.Explainer(model, tokenizer, task="pairwise", n_steps=2)(PAIR)
    finally:
        handle.remove()
    normal = tokenizer(*PAIR, return_tensors="pt")
    assert normal["token_type_ids"].unique().tolist() == [0, 1]
    for key, value in normal.items():
        assert torch.equal(seen[0][key], value), key
    assert explanation.tokens == tokenizer.convert_ids_to_tokens(normal["input_ids"][0])
    assert explanation.inputs == {"text": PAIR[0], "text_pair": PAIR[1]}


@pytest.mark.parametrize("arch", ARCHITECTURES)
def test_words_of_both_texts(arch):
    model, tokenizer = cross_encoder(arch)
    explanation = attrix.Explainer(model, tokenizer, task="pairwise", n_steps=2)(PAIR)
    expected = [(word, 0) for word in PAIR[0].split()] + [(word, 1) for word in PAIR[1].split()]
    assert [(word.text, word.sequence) for word in explanation.words] == expected
    for word in explanation.words:
        assert PAIR[word.sequence][word.start : word.end] == word.text
    assert len(explanation.target().word_scores) == len(explanation.words)


@pytest.mark.parametrize("arch", ARCHITECTURES)
@pytest.mark.parametrize("num_labels", [1, 3])
def test_probabilities_equal_the_text_classification_pipeline(arch, num_labels):
    model, tokenizer = build(arch, num_labels=num_labels, seed=4)
    function = "sigmoid" if num_labels == 1 else "softmax"
    classify = pipeline("text-classification", model=model, tokenizer=tokenizer, top_k=None, function_to_apply=function)
    explanation = attrix.Explainer(model, tokenizer, task="pairwise", n_steps=2)(PAIR)
    expected = classify({"text": PAIR[0], "text_pair": PAIR[1]})
    assert explanation.probabilities == pytest.approx({row["label"]: row["score"] for row in expected}, abs=1e-6)
    assert explanation.predicted_label == max(expected, key=lambda row: row["score"])["label"]


@pytest.mark.parametrize("num_labels", [1, 3])
def test_attributions_are_complete(num_labels):
    model, tokenizer = cross_encoder(num_labels=num_labels)
    explanation = attrix.Explainer(model, tokenizer, task="pairwise", n_steps=32)(PAIR, target="all")
    assert len(explanation.targets) == num_labels
    for target in explanation.targets:
        gap = target.score - target.baseline_score
        assert target.score == pytest.approx(explanation.probabilities[target.label], abs=1e-6)
        assert target.total - gap == pytest.approx(target.delta, abs=1e-6)
        assert abs(target.delta) <= 1e-2 * abs(gap) and abs(gap) > 1e-3


@pytest.mark.parametrize("num_labels", [1, 3])
def test_flip_sign_negates_the_attributions(num_labels):
    model, tokenizer = cross_encoder(num_labels=num_labels)
    plain = attrix.Explainer(model, tokenizer, task="pairwise", n_steps=8)(PAIR)
    flipped = attrix.Explainer(model, tokenizer, task="pairwise", n_steps=8, flip_sign=True)(PAIR)
    assert flipped.target().token_scores == pytest.approx([-score for score in plain.target().token_scores], abs=1e-7)
    assert flipped.target().word_scores == pytest.approx([-score for score in plain.target().word_scores], abs=1e-7)
    assert flipped.target().score == pytest.approx(1 - plain.target().score, abs=1e-6)
    assert flipped.target().baseline_score == pytest.approx(1 - plain.target().baseline_score, abs=1e-6)
    assert flipped.probabilities == plain.probabilities and flipped.settings["flip_sign"] is True
    assert max(map(abs, plain.target().token_scores)) > 1e-3


def test_pair_forms_and_batches_agree(padded_batches):
    model, tokenizer = cross_encoder()
    explainer = attrix.Explainer(model, tokenizer, task="pairwise", n_steps=4, batch_size=3)
    other = ("the food was awful", "a boring plot")
    batched = explainer([PAIR, list(other), {"text": PAIR[1], "text_pair": PAIR[0]}])
    for pair, together in zip([PAIR, other, PAIR[::-1]], batched):
        alone = explainer({"text": pair[0], "text_pair": pair[1]})
        assert together.inputs == alone.inputs and together.tokens == alone.tokens
        assert together.target().token_scores == pytest.approx(alone.target().token_scores, abs=1e-6)
    assert batched[0].target().token_scores != pytest.approx(batched[2].target().token_scores, abs=1e-6)


class FixedPairEncoding(PairwiseSequenceClassificationExplainer):
    """transformers-interpret with its pair encoding fixed: on transformers 5 ``encode([a, b])`` encodes two texts, not a pair."""

    def _make_input_reference_pair(self, text1, text2):
        first, second = self.encode(text1), self.encode(text2)
        pad, sep = self.ref_token_id, self.sep_token_id
        reference = [self.cls_token_id, *[pad] * len(first), sep, *[pad] * len(second), sep]
        return torch.tensor([self.tokenizer(text1, text2)["input_ids"]]), torch.tensor([reference]), len(first) + 1


def test_agrees_with_transformers_interpret():
    model, tokenizer = cross_encoder()
    with pytest.raises((ValueError, RuntimeError)):  # unpatched, it crashes on transformers 5
        PairwiseSequenceClassificationExplainer(model, tokenizer)(*PAIR)
    ours = attrix.Explainer(model, tokenizer, task="pairwise")(PAIR)
    theirs = FixedPairEncoding(model, tokenizer)
    for flip_sign in (False, True):
        attributions = theirs(*PAIR, flip_sign=flip_sign)
        expected = torch.tensor([score for _, score in attributions], dtype=torch.float64)
        actual = torch.tensor(ours.target().token_scores, dtype=torch.float64) * (-1 if flip_sign else 1)
        assert torch.cosine_similarity(expected, actual, dim=0) >= 0.98
    assert float(theirs.pred_probs) == pytest.approx(ours.probabilities[ours.predicted_label], abs=1e-6)


@pytest.mark.parametrize("item, error, message", [
    ("i love it", TypeError, "pairs of texts, \\(text, text_pair\\) or .*got str 'i love it'; a single pair given as a list"),
    (("a", "b", "c"), TypeError, "got tuple"),
    ({"text": "a", "pair": "b"}, attrix.InputError, "exactly the keys 'text' and 'text_pair', got \\['pair', 'text'\\]"),
    (("i love it", ""), attrix.InputError, "text_pair is empty"),
    ((3, "b"), TypeError, "text must be a string, got int"),
])
def test_non_pair_input_gets_a_clear_error(item, error, message):
    model, tokenizer = cross_encoder()
    with pytest.raises(error, match=message):
        attrix.Explainer(model, tokenizer, task="pairwise")(item)


def test_a_pair_given_as_a_top_level_list_says_how_to_give_it():
    model, tokenizer = cross_encoder()
    with pytest.raises(TypeError, match="input 0: .*give it as a tuple"):
        attrix.Explainer(model, tokenizer, task="pairwise")(list(PAIR))


def test_model_with_another_head_is_refused_and_auto_never_picks_pairwise():
    model, tokenizer = build("bert", head="token", num_labels=3)
    with pytest.raises(attrix.TaskMismatchError, match="ForSequenceClassification.*BertForTokenClassification"):
        attrix.Explainer(model, tokenizer, task="pairwise")
    model, tokenizer = cross_encoder()
    assert attrix.Explainer(model, tokenizer).task.name == "sequence"
    with pytest.raises(TypeError, match="option 'flip_sign' of task 'pairwise' must be true or false"):
        attrix.Explainer(model, tokenizer, task="pairwise", flip_sign="yes")


@pytest.mark.parametrize("task", ["sequence", "pairwise"])
def test_encoder_decoder_models_are_explained_at_the_encoder_tokens(task):
    from helpers.tiny_nli import build_nli

    model, tokenizer = build_nli("bart", seed=5)
    item = "a cat sat on the mat" if task == "sequence" else ("a cat sat on the mat", "an animal is here")
    explanation = attrix.Explainer(model, tokenizer, task=task, n_steps=32)(item, target="all")
    encoded = tokenizer(*([item] if task == "sequence" else item), return_tensors="pt")
    with torch.no_grad():
        expected = torch.softmax(model(**encoded).logits, -1)[0]
    assert list(explanation.probabilities.values()) == pytest.approx(expected.tolist(), abs=1e-6)
    assert explanation.tokens == tokenizer.convert_ids_to_tokens(encoded["input_ids"][0])
    for target in explanation.targets:
        assert target.total - (target.score - target.baseline_score) == pytest.approx(target.delta, abs=1e-6)
        assert abs(target.delta) < 0.01 * abs(target.score - target.baseline_score) + 1e-5
    with pytest.raises(attrix.InputError, match="encoder–decoder model: it is explained at its encoder's token embeddings"):
        attrix.Explainer(model, tokenizer, task=task, embedding="position")
