"""What the drop-in text explainers share: the model, the step settings, the last explanation."""

from __future__ import annotations

import inspect
import warnings
from typing import Any, ClassVar

import torch
from transformers import PreTrainedModel, PreTrainedTokenizerBase

from attrix.api.explainer import Explainer
from attrix.compat.errors import AttributionTypeNotSupportedError, InputIdsNotCalculatedError
from attrix.contracts.explanation import Explanation
from attrix.text.encoding import position_embeddings


class LegacyTextExplainer:
    """A transformers-interpret text explainer built on an attrix task: sticky ``n_steps`` and
    ``internal_batch_size``, ``embedding_type`` numbers, and the last call's ``explanation``."""

    task: ClassVar[str]
    embedding_types: ClassVar[dict[int, str]] = {0: "word", 1: "position"}
    """transformers-interpret's ``embedding_type`` numbers; any other number means the word embeddings."""

    def __init__(self, model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, attribution_type: str = "lig") -> None:
        if attribution_type != "lig":
            raise AttributionTypeNotSupportedError(attribution_type, ["lig"])
        self.model, self.tokenizer, self.attribution_type = model, tokenizer, attribution_type
        self.n_steps: int = 50
        self.internal_batch_size: int | None = None
        self.explanation: Explanation | None = None
        self._set_legacy_attributes()

    def _set_legacy_attributes(self) -> None:
        """The public attributes transformers-interpret's ``BaseExplainer`` sets, with the same values (read only by
        users: attrix's tasks compute their own)."""
        model, tokenizer = self.model, self.tokenizer
        self.ref_token_id = tokenizer.eos_token_id if model.config.model_type == "gpt2" else tokenizer.pad_token_id
        self.sep_token_id = tokenizer.sep_token_id if tokenizer.sep_token_id is not None else tokenizer.eos_token_id
        self.cls_token_id = tokenizer.cls_token_id if tokenizer.cls_token_id is not None else tokenizer.bos_token_id
        self.model_prefix = model.base_model_prefix
        forward = inspect.signature(model.forward).parameters
        standard = model.config.model_type not in ("roberta",)
        self.accepts_position_ids = "position_ids" in forward and standard
        self.accepts_token_type_ids = "token_type_ids" in forward and standard
        self.device = model.device
        self.word_embeddings = model.get_input_embeddings()
        self.position_embeddings = None
        self.token_type_embeddings = None
        base = getattr(model, self.model_prefix, None)
        if model.config.model_type == "gpt2" and hasattr(base, "wpe"):
            self.position_embeddings = base.wpe.weight
        elif hasattr(base, "embeddings"):
            self.model_embeddings = base.embeddings
            self.position_embeddings = getattr(self.model_embeddings, "position_embeddings", None)
            self.token_type_embeddings = getattr(self.model_embeddings, "token_type_embeddings", None)

    def _explainer(self, embedding_type: int, n_steps: int | None, internal_batch_size: int | None, **options: Any) -> Explainer:
        """An attrix explainer for this call; ``n_steps`` and ``internal_batch_size`` stay set for later calls."""
        self.n_steps = n_steps or self.n_steps
        self.internal_batch_size = internal_batch_size or self.internal_batch_size
        embedding = self.embedding_types.get(embedding_type, "word")
        if embedding == "position" and position_embeddings(self.model) is None:
            warnings.warn("this model has no position embeddings to attribute to; using word embeddings", stacklevel=3)
            embedding = "word"
        return Explainer(
            self.model,
            self.tokenizer,
            task=self.task,
            embedding=embedding,
            n_steps=self.n_steps,
            internal_batch_size=self.internal_batch_size,
            **options,
        )

    def _explained(self) -> Explanation:
        if self.explanation is None:
            raise InputIdsNotCalculatedError("nothing explained yet: call the explainer on an input first")
        return self.explanation

    @property
    def input_ids(self) -> torch.Tensor:
        """The token ids of the last call, ``[1, seq]``."""
        return torch.tensor([self.tokenizer.convert_tokens_to_ids(self._explained().tokens)])

    def encode(self, text: str | None = None) -> list[int]:
        """The token ids of ``text``, without special tokens (as transformers-interpret's ``encode``)."""
        return self.tokenizer.encode(text, add_special_tokens=False)

    def decode(self, input_ids: torch.Tensor) -> list[str]:
        """The tokens of the first row of ``input_ids`` (as transformers-interpret's ``decode``)."""
        return self.tokenizer.convert_ids_to_tokens(input_ids[0])

    def __str__(self) -> str:
        return (
            f"{type(self).__name__}(\n\tmodel={type(self.model).__name__},\n\ttokenizer={type(self.tokenizer).__name__},"
            f"\n\tattribution_type='{self.attribution_type}',)"
        )
