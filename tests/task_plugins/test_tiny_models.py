"""Tests for the tiny test-model factory in helpers/tiny_models.py."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
import transformers

from helpers.tiny_models import ARCHITECTURES, build, build_model, build_tokenizer, save

TEXT = "I love this Wonderful movie, it's xylophonic... 42 STARS!"
ABSOLUTE_POSITIONS = ("bert", "distilbert", "roberta")

pytestmark = pytest.mark.parametrize("arch", ARCHITECTURES)


def _surface(tokenizer: transformers.PreTrainedTokenizerFast, token: str) -> str:
    """Text a single token stands for, without sub-word markers or surrounding whitespace."""
    return tokenizer.convert_tokens_to_string([token]).strip().removeprefix("##").strip()


def _logits(model: transformers.PreTrainedModel, encoding: transformers.BatchEncoding) -> torch.Tensor:
    """Logits of `model` on `encoding`, without gradients."""
    with torch.no_grad():
        return model(**encoding).logits


def test_offsets_map_back_to_text(arch: str) -> None:
    tokenizer = build_tokenizer(arch)
    encoding = tokenizer(TEXT, return_offsets_mapping=True)
    tokens = encoding.tokens()
    covered = ""
    previous_end = 0
    for index, (start, end) in enumerate(encoding["offset_mapping"]):
        if encoding.sequence_ids()[index] is None:
            assert (start, end) == (0, 0)
            continue
        assert previous_end <= start <= end <= len(TEXT)
        assert _surface(tokenizer, tokens[index]).lower() == TEXT[start:end].strip().lower()
        covered += TEXT[start:end]
        previous_end = end
    assert "".join(covered.split()) == "".join(TEXT.split())


def test_word_ids_group_multi_token_word(arch: str) -> None:
    tokenizer = build_tokenizer(arch)
    text = "the wonderful film"
    encoding = tokenizer(text)
    word_ids = [w for w in encoding.word_ids() if w is not None]
    assert sorted(set(word_ids)) == [0, 1, 2]
    assert word_ids.count(1) >= 2, encoding.tokens()
    span = encoding.word_to_chars(1)
    assert text[span.start : span.end].strip() == "wonderful"
    assert word_ids.count(0) == word_ids.count(2) == 1


def test_any_ascii_text_tokenises_without_unknowns(arch: str) -> None:
    tokenizer = build_tokenizer(arch)
    printable = "".join(chr(code) for code in range(33, 127))
    ids = tokenizer(f"{printable} Zebra-like quokkas 12345", add_special_tokens=False)["input_ids"]
    assert ids and tokenizer.unk_token_id not in ids


def test_pair_encoding_has_two_sequences(arch: str) -> None:
    tokenizer = build_tokenizer(arch)
    first, second = "the food was awful", "i love it"
    encoding = tokenizer(first, second, return_offsets_mapping=True)
    sequence_ids = encoding.sequence_ids()
    assert set(sequence_ids) == {None, 0, 1}
    assert sequence_ids.index(1) > max(i for i, s in enumerate(sequence_ids) if s == 0)
    for index, sequence in enumerate(sequence_ids):
        if sequence is not None:
            start, end = encoding["offset_mapping"][index]
            assert (first, second)[sequence][start:end].strip()
    if arch in ("distilbert", "roberta"):
        assert "token_type_ids" not in encoding
    else:
        types = encoding["token_type_ids"]
        assert all(types[i] == s for i, s in enumerate(sequence_ids) if s is not None)
        assert types[0] == 0 and types[-1] == 1


def test_special_tokens_mask_marks_exactly_special_tokens(arch: str) -> None:
    tokenizer = build_tokenizer(arch)
    special_ids = set(tokenizer.all_special_ids)
    single = tokenizer("i love it", return_special_tokens_mask=True)
    pair = tokenizer("i love it", "so good", return_special_tokens_mask=True)
    for encoding, expected in ((single, 2), (pair, 4 if arch == "roberta" else 3)):
        mask = encoding["special_tokens_mask"]
        assert sum(mask) == expected
        assert mask == [int(token_id in special_ids) for token_id in encoding["input_ids"]]
        assert mask == [int(s is None) for s in encoding.sequence_ids()]
    assert single["input_ids"][0] == tokenizer.cls_token_id
    assert single["input_ids"][-1] == tokenizer.sep_token_id


def test_config_matches_tokenizer(arch: str) -> None:
    model, tokenizer = build(arch)
    assert model.config.pad_token_id == tokenizer.pad_token_id is not None
    assert model.get_input_embeddings().num_embeddings == len(tokenizer)
    assert not model.training
    usable = model.config.max_position_embeddings - (2 if arch == "roberta" else 0)
    assert tokenizer.model_max_length == usable


def test_truncation_limit_is_the_model_limit(arch: str) -> None:
    model, tokenizer = build(arch)
    long_text = " ".join(["the food was really good"] * 40)
    encoding = tokenizer(long_text, truncation=True, return_tensors="pt")
    assert encoding["input_ids"].shape[1] == tokenizer.model_max_length
    assert _logits(model, encoding).shape == (1, 2)
    if arch in ABSOLUTE_POSITIONS:
        too_long = tokenizer(long_text, truncation=True, max_length=tokenizer.model_max_length + 1, return_tensors="pt")
        with pytest.raises((IndexError, RuntimeError)):
            _logits(model, too_long)


@pytest.mark.parametrize("num_labels", [2, 3])
def test_sequence_logits_shape_and_padding(arch: str, num_labels: int) -> None:
    model, tokenizer = build(arch, num_labels=num_labels)
    texts = ["a", "longer text here"]
    logits = _logits(model, tokenizer(texts, padding=True, return_tensors="pt"))
    assert logits.shape == (2, num_labels)
    alone = _logits(model, tokenizer(texts[0], return_tensors="pt"))
    torch.testing.assert_close(logits[0], alone[0], atol=1e-5, rtol=1e-5)


def test_other_heads(arch: str) -> None:
    tokenizer = build_tokenizer(arch)
    encoding = tokenizer(["a", "longer text here"], padding=True, return_tensors="pt")
    length = encoding["input_ids"].shape[1]
    with torch.no_grad():
        token = build_model(arch, head="token", num_labels=5)(**encoding)
        qa = build_model(arch, head="qa")(**encoding)
        base = build_model(arch, head="base")(**encoding)
    assert token.logits.shape == (2, length, 5)
    assert qa.start_logits.shape == qa.end_logits.shape == (2, length)
    assert base.last_hidden_state.shape == (2, length, 32)


def test_labels(arch: str) -> None:
    assert build_model(arch).config.id2label == {0: "NEGATIVE", 1: "POSITIVE"}
    assert build_model(arch).config.label2id == {"NEGATIVE": 0, "POSITIVE": 1}
    assert build_model(arch, num_labels=3).config.id2label == {0: "LABEL_0", 1: "LABEL_1", 2: "LABEL_2"}
    assert build_model(arch, head="token").config.id2label == {0: "LABEL_0", 1: "LABEL_1"}
    custom = build_model(arch, id2label={0: "neg", 1: "neu", 2: "pos"})
    assert custom.config.num_labels == 3
    assert custom.config.label2id == {"neg": 0, "neu": 1, "pos": 2}


def test_seed_determinism(arch: str) -> None:
    tokenizer = build_tokenizer(arch)
    encoding = tokenizer(["i love this movie", "awful"], padding=True, return_tensors="pt")
    torch.manual_seed(123)
    before = torch.rand(3)
    first = _logits(build_model(arch, seed=0), encoding)
    torch.manual_seed(123)
    build_model(arch, seed=5)
    assert torch.equal(torch.rand(3), before)  # the global RNG is left alone
    assert torch.equal(first, _logits(build_model(arch, seed=0), encoding))
    assert not torch.allclose(first, _logits(build_model(arch, seed=1), encoding))


def test_save_round_trip(arch: str, tmp_path: Path) -> None:
    directory = save(arch, tmp_path / arch, num_labels=3, seed=7)
    assert directory == tmp_path / arch
    model, tokenizer = build(arch, num_labels=3, seed=7)
    loaded_model = transformers.AutoModelForSequenceClassification.from_pretrained(directory)
    loaded_tokenizer = transformers.AutoTokenizer.from_pretrained(directory)
    assert type(loaded_model) is type(model) and type(loaded_tokenizer) is type(tokenizer)
    assert loaded_tokenizer.model_max_length == tokenizer.model_max_length
    texts = [TEXT, "the film was boring"]
    encoding = tokenizer(texts, padding=True, return_tensors="pt")
    reloaded = loaded_tokenizer(texts, padding=True, return_tensors="pt")
    assert encoding.keys() == reloaded.keys()
    assert all(torch.equal(encoding[key], reloaded[key]) for key in encoding)
    assert loaded_model.config.id2label == model.config.id2label
    assert torch.equal(_logits(model, encoding), _logits(loaded_model.eval(), reloaded))


def test_text_classification_pipeline(arch: str) -> None:
    model, tokenizer = build(arch)
    classifier = transformers.pipeline("text-classification", model=model, tokenizer=tokenizer, top_k=None)
    scores = {item["label"]: item["score"] for item in classifier(["i love this movie"])[0]}
    probabilities = torch.softmax(_logits(model, tokenizer("i love this movie", return_tensors="pt"))[0], -1)
    assert scores == pytest.approx({"NEGATIVE": probabilities[0].item(), "POSITIVE": probabilities[1].item()})


def test_invalid_arguments(arch: str) -> None:
    with pytest.raises(ValueError):
        build_model(arch, head="mlm")
    with pytest.raises(ValueError):
        build_model(arch, id2label={1: "a", 2: "b"})
    with pytest.raises(ValueError):
        build_tokenizer(arch + "-xl")
