"""Shared pytest fixtures, and the ``real_weights`` mark on every test that uses real model weights (MiniLM, SmolLM2)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

REAL_WEIGHTS = {"default_lm_dir_fixture", "default_model_dir_fixture", "emotion_head", "ner_head", "nli_head", "qa_head"}
"""The fixtures that load real weights: MiniLM (and train a head on it), or SmolLM2 (converted from GGUF)."""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark ``real_weights`` each test that needs a real-weights fixture, directly or through another fixture."""
    for item in items:
        if REAL_WEIGHTS & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.real_weights)


@contextmanager
def _session_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Point ATTRIX_CACHE_DIR at a temporary folder while active, unless it is already set."""
    with pytest.MonkeyPatch.context() as patch:
        if not os.environ.get("ATTRIX_CACHE_DIR"):
            patch.setenv("ATTRIX_CACHE_DIR", str(tmp_path_factory.mktemp("attrix-cache")))
        yield


@pytest.fixture(scope="session")
def default_model_dir_fixture(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Build the default model once per session (in a temporary ATTRIX_CACHE_DIR if none is set)."""
    from attrix.api.default_model import default_model_dir

    with _session_cache(tmp_path_factory):
        yield default_model_dir()


@pytest.fixture(scope="session")
def default_lm_dir_fixture(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Convert the embedded language model once per session (in a temporary ATTRIX_CACHE_DIR if none is set)."""
    from attrix.api.default_lm import default_lm_dir

    with _session_cache(tmp_path_factory):
        yield default_lm_dir()


@pytest.fixture(scope="session")
def emotion_head():
    """The real MiniLM multi-label emotion classifier of helpers/real_heads.py, trained once per session: (model, tokenizer)."""
    from helpers.real_heads import emotion_classifier

    return emotion_classifier()


@pytest.fixture(scope="session")
def ner_head():
    """The real MiniLM person / place tagger of helpers/real_heads.py, trained once per session: (model, tokenizer)."""
    from helpers.real_heads import ner_tagger

    return ner_tagger()


@pytest.fixture(scope="session")
def nli_head():
    """The real MiniLM NLI model for zero-shot topics of helpers/real_heads.py, trained once per session: (model, tokenizer)."""
    from helpers.real_heads import nli_classifier

    return nli_classifier()


@pytest.fixture(scope="session")
def qa_head():
    """The real MiniLM extractive QA model of helpers/real_heads.py, trained once per session: (model, tokenizer)."""
    from helpers.real_heads import qa_reader

    return qa_reader()


@pytest.fixture(scope="module")
def one_torch_thread() -> Iterator[None]:
    """Run torch on one thread: small models gain little from more, and lose much on a busy machine's shared cores."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


@pytest.fixture
def padded_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    """Inputs of any lengths batched together (no padding allowance), so that a test sees padded batches."""
    import attrix.integration.batching

    monkeypatch.setattr(attrix.integration.batching, "PADDING_ALLOWANCE", float("inf"))
