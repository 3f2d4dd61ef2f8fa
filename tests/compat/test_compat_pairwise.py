"""``attrix.PairwiseSequenceClassificationExplainer`` against transformers-interpret 0.10.0 itself."""

from __future__ import annotations

import functools

import pytest
import transformers_interpret
from transformers import AutoModelForSequenceClassification, AutoTokenizer, pipeline

import attrix
from attrix.compat.pairwise import PairwiseSequenceClassificationExplainer
from attrix.text.encoding import TruncationWarning
from helpers.legacy_comparison import cosine, scores
from helpers.tiny_models import build, save
from helpers.tiny_nli import spread

QUERY, PASSAGE = "how many people live in the film", "the film has many people and they live there"
N_STEPS = 16


@functools.cache
def cross_encoder(arch: str, num_labels: int):
    """A tiny pair classifier with wide weights (shared, never mutated)."""
    model, tokenizer = build(arch, num_labels=num_labels, seed=1)
    spread(model, 0.2, seed=4)
    return model, tokenizer


class PairEncoding:
    """A tokenizer whose ``encode([text, pair])`` encodes the pair, as it did before transformers 5."""

    def __init__(self, tokenizer) -> None:
        self.tokenizer = tokenizer

    def __getattr__(self, name: str):
        return getattr(self.tokenizer, name)

    def encode(self, text, **options):
        return self.tokenizer.encode(*text, **options) if isinstance(text, list) else self.tokenizer.encode(text, **options)


def legacy_explainer(model, tokenizer):
    """transformers-interpret's pairwise explainer, its pair encoding working again."""
    legacy = transformers_interpret.PairwiseSequenceClassificationExplainer(model, tokenizer)
    legacy.tokenizer = PairEncoding(tokenizer)
    return legacy


def test_transformers_interpret_crashes_on_transformers_5():
    legacy = transformers_interpret.PairwiseSequenceClassificationExplainer(*cross_encoder("bert", 1))
    # tokenizer.encode([text1, text2]) encodes a batch of two texts now, not a pair
    with pytest.raises(ValueError, match="expected sequence of length"):
        legacy(QUERY, PASSAGE, n_steps=2)


@pytest.mark.parametrize("arch, num_labels", [("bert", 1), ("bert", 2), ("roberta", 1)])
def test_agrees_with_transformers_interpret(arch, num_labels):
    legacy = legacy_explainer(*cross_encoder(arch, num_labels))
    ours = PairwiseSequenceClassificationExplainer(*cross_encoder(arch, num_labels))
    expected, got = legacy(QUERY, PASSAGE, n_steps=N_STEPS), ours(QUERY, PASSAGE, n_steps=N_STEPS)
    assert [token for token, _ in got] == [token for token, _ in expected]
    assert ours.predicted_class_index == int(legacy.predicted_class_index)
    assert ours.predicted_class_name == legacy.predicted_class_name
    assert ours.selected_index == legacy.selected_index
    assert float(ours.pred_probs) == pytest.approx(float(legacy.pred_probs), abs=1e-5)
    assert cosine(scores(got), scores(expected)) >= 0.98
    assert sum(score**2 for score in scores(got)) == pytest.approx(1.0)


def test_index_and_class_name_select_the_explained_class():
    legacy = legacy_explainer(*cross_encoder("bert", 2))
    ours = PairwiseSequenceClassificationExplainer(*cross_encoder("bert", 2))
    for selector in ({"index": 0}, {"class_name": "POSITIVE"}):
        expected, got = legacy(QUERY, PASSAGE, n_steps=N_STEPS, **selector), ours(QUERY, PASSAGE, n_steps=N_STEPS, **selector)
        assert ours.selected_index == legacy.selected_index
        assert float(ours.pred_probs) == pytest.approx(float(legacy.pred_probs), abs=1e-5)
        assert cosine(scores(got), scores(expected)) >= 0.98


def test_pair_is_encoded_as_the_tokenizer_and_the_pipeline_encode_it():
    model, tokenizer = cross_encoder("bert", 1)
    ours = PairwiseSequenceClassificationExplainer(model, tokenizer)
    pairs = ours(QUERY, PASSAGE, n_steps=2)
    assert [token for token, _ in pairs] == tokenizer.convert_ids_to_tokens(tokenizer(QUERY, PASSAGE)["input_ids"])
    assert ours.input_ids.tolist() == [tokenizer(QUERY, PASSAGE)["input_ids"]]
    expected = pipeline("text-classification", model=model, tokenizer=tokenizer)({"text": QUERY, "text_pair": PASSAGE})
    assert float(ours.pred_probs) == pytest.approx(expected["score"], abs=1e-6)
    assert (ours.text1, ours.text2) == (QUERY, PASSAGE)


def test_flip_sign_negates_the_attributions_but_not_the_probability():
    legacy = legacy_explainer(*cross_encoder("bert", 1))
    ours = PairwiseSequenceClassificationExplainer(*cross_encoder("bert", 1))
    plain = ours(QUERY, PASSAGE, n_steps=N_STEPS)
    probability = float(ours.pred_probs)
    flipped = ours(QUERY, PASSAGE, n_steps=N_STEPS, flip_sign=True)
    assert scores(flipped) == pytest.approx([-score for score in scores(plain)], abs=1e-6)
    assert float(ours.pred_probs) == pytest.approx(probability)
    assert cosine(scores(flipped), scores(legacy(QUERY, PASSAGE, n_steps=N_STEPS, flip_sign=True))) >= 0.98


def test_flip_sign_is_honoured_for_models_with_several_outputs():
    legacy = legacy_explainer(*cross_encoder("bert", 2))
    ours = PairwiseSequenceClassificationExplainer(*cross_encoder("bert", 2))
    # transformers-interpret flips signs only for single-output models and silently ignores flip_sign otherwise
    legacy_flipped = legacy(QUERY, PASSAGE, n_steps=N_STEPS, flip_sign=True)
    assert scores(legacy_flipped) == pytest.approx(scores(legacy(QUERY, PASSAGE, n_steps=N_STEPS)))
    plain, flipped = ours(QUERY, PASSAGE, n_steps=N_STEPS), ours(QUERY, PASSAGE, n_steps=N_STEPS, flip_sign=True)
    assert scores(flipped) == pytest.approx([-score for score in scores(plain)], abs=1e-6)


def test_bad_input_gets_a_clear_error():
    ours = PairwiseSequenceClassificationExplainer(*cross_encoder("bert", 2))
    with pytest.warns(UserWarning, match=r"'SIMILAR' is not among the labels \(NEGATIVE, POSITIVE\)"):
        ours(QUERY, PASSAGE, class_name="SIMILAR", n_steps=2)  # the prediction explained, as transformers-interpret does
    assert ours.selected_index == ours.predicted_class_index
    with pytest.raises(attrix.InputError, match="text_pair"):
        ours(QUERY, "", n_steps=2)
    with pytest.raises(attrix.InputError, match="nothing explained yet"):
        PairwiseSequenceClassificationExplainer(*cross_encoder("bert", 2)).word_attributions


def test_readme_example(tmp_path):
    """transformers-interpret's README example, a tiny local cross-encoder in place of the Hub's."""
    model_name = str(save("bert", tmp_path / "cross-encoder", num_labels=1, seed=2))
    model = AutoModelForSequenceClassification.from_pretrained(model_name)
    tokenizer = AutoTokenizer.from_pretrained(model_name)
    pairwise_explainer = attrix.PairwiseSequenceClassificationExplainer(model, tokenizer)
    query = "How many people live in Berlin?"
    context = "Berlin has a population of 3,520,031 registered inhabitants in an area of 891.82 square kilometers."
    with pytest.warns(TruncationWarning):  # the tiny vocabulary spells most of these words letter by letter
        pairwise_attr = pairwise_explainer(query, context, n_steps=4)
    tokens = tokenizer.convert_ids_to_tokens(tokenizer(query, context, truncation=True)["input_ids"])
    assert [token for token, _ in pairwise_attr] == tokens
    assert tokens.count("[SEP]") == 2
    pairwise_explainer.visualize(str(tmp_path / "cross_encoder_attr"))
    assert query in (tmp_path / "cross_encoder_attr.html").read_text()
    with pytest.warns(TruncationWarning):
        flipped = pairwise_explainer(query, context, flip_sign=True, n_steps=4)
    assert scores(flipped) == pytest.approx([-score for score in scores(pairwise_attr)], abs=1e-6)


def test_visualize_writes_html(tmp_path):
    ours = PairwiseSequenceClassificationExplainer(*cross_encoder("bert", 2))
    ours(QUERY, PASSAGE, n_steps=2)
    page = ours.visualize(str(tmp_path / "pair.html"), true_class="NEGATIVE")
    written = (tmp_path / "pair.html").read_text()
    assert written == page.data
    assert "<td>NEGATIVE</td>" in written and QUERY in written and PASSAGE in written


def test_is_importable_from_attrix():
    assert attrix.PairwiseSequenceClassificationExplainer is PairwiseSequenceClassificationExplainer
