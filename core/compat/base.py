"""What the drop-in text explainers share: the model, the step settings, the last explanation."""

from __future__ import annotations

import warnings
from typing import Any, ClassVar

import torch
from transformers import PreTrainedModel, PreTrainedTokenizerBase

from attrix.api.explainer import Explainer
from attrix.contracts.explanation import Explanation
from attrix.errors import InputError, UnknownNameError
from attrix.text.encoding import position_embeddings


class LegacyTextExplainer:
    """A transformers-interpret text explainer built on an attrix task: sticky ``n_steps`` and
    ``internal_batch_size``, ``embedding_type`` numbers, and the last call's ``explanation``."""

    task: ClassVar[str]
    embedding_types: ClassVar[dict[int, str]] = {0: "word", 1: "position"}
    """transformers-interpret's ``embedding_type`` numbers; any other number means the word embeddings."""

    def __init__(self, model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, attribution_type: str = "lig") -> None:
        if attribution_type != "lig":
            raise UnknownNameError("attribution_type", attribution_type, ["lig"])
        self.model, self.tokenizer, self.attribution_type = model, tokenizer, attribution_type
        self.n_steps: int = 50
        self.internal_batch_size: int | None = None
        self.explanation: Explanation | None = None

    def _explainer(self, embedding_type: int, n_steps: int | None, internal_batch_size: int | None, **options: Any) -> Explainer:
        """An attrix explainer for this call; ``n_steps`` and ``internal_batch_size`` stay set for later calls."""
        self.n_steps = n_steps or self.n_steps
        self.internal_batch_size = internal_batch_size or self.internal_batch_size
        embedding = self.embedding_types.get(embedding_type, "word")
        if embedding == "position" and position_embeddings(self.model) is None:
            warnings.warn("this model has no position embeddings to attribute to; using word embeddings", stacklevel=3)
            embedding = "word"
        return Explainer(
            self.model, self.tokenizer, task=self.task, embedding=embedding,
            n_steps=self.n_steps, internal_batch_size=self.internal_batch_size, **options,
        )

    def _explained(self) -> Explanation:
        if self.explanation is None:
            raise InputError("nothing explained yet: call the explainer on an input first")
        return self.explanation

    @property
    def input_ids(self) -> torch.Tensor:
        """The token ids of the last call, ``[1, seq]``."""
        return torch.tensor([self.tokenizer.convert_tokens_to_ids(self._explained().tokens)])

    def __str__(self) -> str:
        return (
            f"{type(self).__name__}(\n\tmodel={type(self.model).__name__},\n\ttokenizer={type(self.tokenizer).__name__},"
            f"\n\tattribution_type='{self.attribution_type}',\n)"
        )
