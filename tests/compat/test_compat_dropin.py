"""Drop-in means drop-in: transformers-interpret 0.10.0's public names, exceptions, ``str()`` and fallbacks,
each checked against transformers-interpret itself on tiny offline models."""

from __future__ import annotations

import inspect

import pytest
import torch
import transformers_interpret
import transformers_interpret.errors as ti_errors
from transformers import pipeline

import attrix
import attrix.compat
import attrix.compat.errors as errors
from attrix.compat.image import ImageClassificationExplainer
from attrix.compat.multilabel import MultiLabelClassificationExplainer
from attrix.compat.pairwise import PairwiseSequenceClassificationExplainer
from attrix.compat.qa import QuestionAnsweringExplainer
from attrix.compat.sequence import SequenceClassificationExplainer
from attrix.compat.token import TokenClassificationExplainer
from attrix.compat.zero_shot import DEFAULT_TEMPLATE, ZeroShotClassificationExplainer
from helpers import tiny_vision
from helpers.tiny_models import build
from helpers.tiny_nli import build_nli

TEXT = "i love this movie it is wonderful"
NER = {0: "O", 1: "B-PER", 2: "I-PER"}


def public_names(cls: type) -> set[str]:
    return {name for name, _ in inspect.getmembers(cls) if not name.startswith("_")}


@pytest.mark.parametrize("name", attrix.compat.__all__)
def test_every_public_name_of_transformers_interprets_classes_is_here(name):
    legacy, ours = getattr(transformers_interpret, name), getattr(attrix.compat, name)
    assert public_names(legacy), name  # the enumeration finds something to compare
    missing = public_names(legacy) - public_names(ours)
    assert not missing, f"{name} lacks {sorted(missing)}"


def test_every_exception_class_of_transformers_interpret_is_here_catchable_both_ways():
    legacy = {name: cls for name, cls in vars(ti_errors).items() if isinstance(cls, type) and issubclass(cls, Exception)}
    assert {"AttributionTypeNotSupportedError", "AttributionsNotCalculatedError", "InputIdsNotCalculatedError"} <= set(legacy)
    for name, legacy_cls in legacy.items():
        ours = getattr(errors, name)
        builtin = next(base for base in legacy_cls.__mro__ if base.__module__ == "builtins")
        assert issubclass(ours, builtin) and issubclass(ours, attrix.AttrixError), name


def test_bad_attribution_type_raises_transformers_interprets_error():
    model, tokenizer = build("bert")
    for cls in (SequenceClassificationExplainer, MultiLabelClassificationExplainer, PairwiseSequenceClassificationExplainer,
                TokenClassificationExplainer, QuestionAnsweringExplainer):
        with pytest.raises(RuntimeError) as caught:
            cls(model, tokenizer, attribution_type="ig")
        assert isinstance(caught.value, errors.AttributionTypeNotSupportedError)
        assert isinstance(caught.value, attrix.UnknownNameError)  # attrix's own except still works
    with pytest.raises(RuntimeError):  # transformers-interpret's own QA class raises the same type
        transformers_interpret.QuestionAnsweringExplainer(*build("bert", head="qa"), attribution_type="ig")


def test_reading_results_before_a_call_raises_input_ids_not_calculated():
    model, tokenizer = build("bert")
    for explainer, names in [
        (SequenceClassificationExplainer(model, tokenizer), ["predicted_class_index", "predicted_class_name", "word_attributions"]),
        (QuestionAnsweringExplainer(*build("bert", head="qa")), ["start_pos", "end_pos", "predicted_answer"]),
        (TokenClassificationExplainer(*build("bert", head="token", id2label=NER)), ["predicted_class_indexes", "predicted_class_names"]),
    ]:
        for name in names:
            with pytest.raises(RuntimeError) as caught:
                getattr(explainer, name)
            assert isinstance(caught.value, errors.InputIdsNotCalculatedError), name
            assert isinstance(caught.value, attrix.InputError), name
    legacy = transformers_interpret.QuestionAnsweringExplainer(*build("bert", head="qa"))
    legacy.input_ids = []  # as transformers-interpret has it before a call
    with pytest.raises(ti_errors.InputIdsNotCalculatedError):
        legacy.start_pos


def test_image_bad_options_raise_value_error_as_transformers_interpret():
    model, processor = tiny_vision.build("vit", seed=1)
    with pytest.raises(ValueError):
        transformers_interpret.ImageClassificationExplainer(model, processor, attribution_type="nope")
    with pytest.raises(ValueError):
        ImageClassificationExplainer(model, processor, attribution_type="nope")
    ours = ImageClassificationExplainer(model, processor)
    with pytest.raises(ValueError):
        ours(tiny_vision.image(seed=0), noise_tunnel_type="nope", n_steps=2)
    ours(tiny_vision.image(seed=0), n_steps=2)
    with pytest.raises(ValueError, match="unknown method 'sketch'"):
        ours.visualize(method="sketch")
    with pytest.raises(ValueError, match="unknown sign 'sideways'"):
        ours.visualize(sign="sideways")


def test_image_custom_labels_count_is_transformers_interprets_label2id_rule():
    # two outputs named alike: label2id has one entry, so transformers-interpret takes one custom label
    model, processor = tiny_vision.build("vit", num_labels=2, seed=1, id2label={0: "cat", 1: "cat"})
    assert len(model.config.label2id) == 1
    legacy = transformers_interpret.ImageClassificationExplainer(model, processor, custom_labels=["feline"])
    ours = ImageClassificationExplainer(model, processor, custom_labels=["feline"])
    assert ours.id2label == dict(legacy.id2label) == {0: "feline"}
    for wrong in (["a", "b"], []):
        with pytest.raises(ValueError):
            transformers_interpret.ImageClassificationExplainer(model, processor, custom_labels=wrong)
        with pytest.raises(ValueError):
            ImageClassificationExplainer(model, processor, custom_labels=wrong)


def test_encode_and_decode_are_transformers_interprets():
    model, tokenizer = build("bert")
    ids = tokenizer.encode(TEXT, add_special_tokens=True)
    for legacy_cls, ours_cls in [
        (transformers_interpret.SequenceClassificationExplainer, SequenceClassificationExplainer),
        (transformers_interpret.TokenClassificationExplainer, TokenClassificationExplainer),
    ]:
        legacy, ours = legacy_cls(model, tokenizer), ours_cls(model, tokenizer)
        assert ours.encode(TEXT) == legacy.encode(TEXT) == tokenizer.encode(TEXT, add_special_tokens=False)
        assert ours.decode(torch.tensor([ids])) == legacy.decode(torch.tensor([ids]))
        assert ours.decode(torch.tensor([ids]))[0] == tokenizer.cls_token


def test_predicted_class_name_falls_back_to_the_index_when_no_label_has_it():
    model, tokenizer = build("bert", seed=1)
    legacy, ours = transformers_interpret.SequenceClassificationExplainer(model, tokenizer), SequenceClassificationExplainer(model, tokenizer)
    legacy(TEXT, n_steps=2), ours(TEXT, n_steps=2)
    legacy.id2label, ours.id2label = {}, {}
    assert ours.predicted_class_name == int(legacy.predicted_class_name) == ours.predicted_class_index
    token_model, token_tokenizer = build("bert", head="token", id2label=NER)
    legacy_t, ours_t = (transformers_interpret.TokenClassificationExplainer(token_model, token_tokenizer),
                        TokenClassificationExplainer(token_model, token_tokenizer))
    legacy_t(TEXT, n_steps=2), ours_t(TEXT, n_steps=2)
    legacy_t.id2label, ours_t.id2label = {}, {}
    assert list(ours_t.predicted_class_names) == list(legacy_t.predicted_class_names) == list(ours_t.predicted_class_indexes)


def test_str_is_transformers_interprets():
    model, tokenizer = build("bert")
    qa_model, qa_tokenizer = build("bert", head="qa")
    token_model, _ = build("bert", head="token", id2label=NER)
    nli_model, nli_tokenizer = build_nli("bert", seed=3)
    cases = [
        ("SequenceClassificationExplainer", (model, tokenizer)),
        ("PairwiseSequenceClassificationExplainer", (model, tokenizer)),
        ("TokenClassificationExplainer", (token_model, tokenizer)),
        ("QuestionAnsweringExplainer", (qa_model, qa_tokenizer)),
        ("ZeroShotClassificationExplainer", (nli_model, nli_tokenizer)),
    ]
    for name, args in cases:
        assert str(getattr(attrix.compat, name)(*args)) == str(getattr(transformers_interpret, name)(*args)), name
    # transformers-interpret's multi-label str() reads a custom_labels attribute it never sets (an AttributeError);
    # ours gives the text it would have given with the attribute set
    legacy = transformers_interpret.MultiLabelClassificationExplainer(model, tokenizer, custom_labels=["a", "b"])
    with pytest.raises(AttributeError):
        str(legacy)
    legacy.custom_labels = ["a", "b"]
    assert str(MultiLabelClassificationExplainer(model, tokenizer, custom_labels=["a", "b"])) == str(legacy)
    assert "custom_labels=None" in str(MultiLabelClassificationExplainer(model, tokenizer))


def test_multilabel_attributions_is_none_before_a_call():
    model, tokenizer = build("bert")
    legacy, ours = transformers_interpret.MultiLabelClassificationExplainer(model, tokenizer), MultiLabelClassificationExplainer(model, tokenizer)
    assert ours.attributions is None and legacy.attributions is None
    ours(TEXT, n_steps=2)
    assert len(ours.attributions) == 2


def test_zero_shot_label_exists_and_qa_position():
    nli_model, nli_tokenizer = build_nli("bert", seed=3)
    legacy = transformers_interpret.ZeroShotClassificationExplainer(nli_model, nli_tokenizer)
    assert ZeroShotClassificationExplainer(nli_model, nli_tokenizer).label_exists is legacy.label_exists is True
    qa_model, qa_tokenizer = build("bert", head="qa")
    legacy_qa, ours_qa = transformers_interpret.QuestionAnsweringExplainer(qa_model, qa_tokenizer), QuestionAnsweringExplainer(qa_model, qa_tokenizer)
    assert ours_qa.position == legacy_qa.position == 0
    legacy_qa("who is it", "it is my wonderful music", n_steps=2), ours_qa("who is it", "it is my wonderful music", n_steps=2)
    assert ours_qa.position == legacy_qa.position == 1


def test_zero_shot_accepts_a_repeated_label_as_transformers_interpret():
    model, tokenizer = build_nli("bert", seed=3, std=0.3)
    labels = ["sport", "music", "sport"]
    legacy = transformers_interpret.ZeroShotClassificationExplainer(model, tokenizer)
    expected = legacy(TEXT, labels, n_steps=2)
    ours = ZeroShotClassificationExplainer(model, tokenizer)
    got = ours(TEXT, labels, n_steps=2)
    assert list(got) == list(expected) == ["sport", "music"]
    assert ours.labels == legacy.labels == labels
    assert len(ours.attributions) == len(legacy.attributions) == 3
    assert ours.hypothesis_labels == [DEFAULT_TEMPLATE.format(label) for label in labels]
    # the pipeline's scores over the labels as given, the repeated label counted twice
    ranked = pipeline("zero-shot-classification", model=model, tokenizer=tokenizer)(
        TEXT, labels, hypothesis_template=DEFAULT_TEMPLATE
    )
    by_label = dict(zip(ranked["labels"], ranked["scores"]))
    assert ours.pred_probs == pytest.approx([by_label[label] for label in labels], abs=1e-5)
    assert sum(ours.pred_probs) == pytest.approx(1.0)
    assert ours.predicted_label == ranked["labels"][0]


def test_every_public_attribute_transformers_interpret_sets_in_its_constructor_is_here():
    model, tokenizer = build("bert")
    cases = {
        "SequenceClassificationExplainer": (model, tokenizer),
        "MultiLabelClassificationExplainer": (model, tokenizer),
        "PairwiseSequenceClassificationExplainer": (model, tokenizer),
        "TokenClassificationExplainer": build("bert", head="token", id2label=NER),
        "QuestionAnsweringExplainer": build("bert", head="qa"),
        "ZeroShotClassificationExplainer": build_nli("bert", seed=3),
        "ImageClassificationExplainer": tiny_vision.build("vit", seed=1),
    }
    assert set(cases) == set(attrix.compat.__all__)
    same = ("ref_token_id", "sep_token_id", "cls_token_id", "model_prefix", "accepts_position_ids",
            "accepts_token_type_ids", "device", "n_steps", "internal_batch_size", "position", "label_exists")
    for name, args in cases.items():
        legacy, ours = getattr(transformers_interpret, name)(*args), getattr(attrix.compat, name)(*args)
        public = {key for key in vars(legacy) if not key.startswith("_")}
        missing = {key for key in public if key not in vars(ours) and not hasattr(type(ours), key)}
        assert not missing, f"{name} lacks {sorted(missing)}"
        for key in public & set(same):
            assert getattr(ours, key) == getattr(legacy, key), (name, key)
        for key in public & {"word_embeddings", "position_embeddings", "token_type_embeddings", "model_embeddings"}:
            assert getattr(ours, key) is getattr(legacy, key), (name, key)
