"""``SequenceClassificationExplainer``, as transformers-interpret 0.10.0 has it."""

from __future__ import annotations

import warnings
from typing import Any

import torch
from transformers import PreTrainedModel, PreTrainedTokenizerBase

from attrix.compat.output import HTML, LegacyAttributions, custom_id2label, visualize
from attrix.errors import InputError, UnknownNameError
from attrix.explainer import Explainer
from attrix.explanation import Explanation
from attrix.targets import resolve_label
from attrix.text import position_embeddings

EMBEDDING_TYPES = {0: "word", 1: "position"}


class SequenceClassificationExplainer:
    """Explains a ``...ForSequenceClassification`` model; call it with a text for (token, score) pairs."""

    task = "sequence"

    def __init__(
        self,
        model: PreTrainedModel,
        tokenizer: PreTrainedTokenizerBase,
        attribution_type: str = "lig",
        custom_labels: list[str] | None = None,
    ) -> None:
        if attribution_type != "lig":
            raise UnknownNameError("attribution_type", attribution_type, ["lig"])
        self.model, self.tokenizer, self.attribution_type = model, tokenizer, attribution_type
        self.id2label = custom_id2label(model, custom_labels)
        self.label2id = {label: index for index, label in self.id2label.items()}
        self.n_steps: int = 50
        self.internal_batch_size: int | None = None
        self.explanation: Explanation | None = None
        self.attributions: LegacyAttributions | None = None

    def __call__(
        self,
        text: str,
        index: int | None = None,
        class_name: str | None = None,
        embedding_type: int = 0,
        internal_batch_size: int | None = None,
        n_steps: int | None = None,
    ) -> list[tuple[str, float]]:
        """Attributions of ``text`` toward ``index``, ``class_name`` or the predicted class, normalised."""
        self.n_steps = n_steps or self.n_steps
        self.internal_batch_size = internal_batch_size or self.internal_batch_size
        self.explanation = self._explainer(embedding_type)(text, target=self._target(index, class_name))
        self.attributions = LegacyAttributions.of(self.explanation.tokens, self.explanation.target())
        return self.word_attributions

    def _target(self, index: int | None, class_name: str | None) -> int | None:
        """The output index ``index`` or ``class_name`` names (custom labels applied); None for the prediction."""
        if index is not None:
            return index
        return None if class_name is None else resolve_label(class_name, self.id2label)

    def _explainer(self, embedding_type: int, **options: Any) -> Explainer:
        embedding = EMBEDDING_TYPES.get(embedding_type, "word")
        if embedding == "position" and position_embeddings(self.model) is None:
            warnings.warn("this model has no position embeddings to attribute to; using word embeddings", stacklevel=3)
            embedding = "word"
        return Explainer(
            self.model, self.tokenizer, task=self.task, embedding=embedding,
            n_steps=self.n_steps, internal_batch_size=self.internal_batch_size, **options,
        )

    def _explained(self) -> Explanation:
        if self.explanation is None:
            raise InputError("nothing explained yet: call the explainer on a text first")
        return self.explanation

    @property
    def word_attributions(self) -> list[tuple[str, float]]:
        """(token, score) pairs of the last call, special tokens included, scores divided by their L2 norm."""
        self._explained()
        return self.attributions.word_attributions

    @property
    def selected_index(self) -> int:
        """The output index the last call explained."""
        return self._explained().target().index

    @property
    def predicted_class_index(self) -> int:
        """The predicted output index of the last call."""
        model_labels = {label: int(index) for index, label in self.model.config.id2label.items()}
        return model_labels[self._explained().predicted_label]

    @property
    def predicted_class_name(self) -> str:
        """The predicted label of the last call (custom labels applied)."""
        return self.id2label[self.predicted_class_index]

    @property
    def pred_probs(self) -> torch.Tensor:
        """The probability of the explained class."""
        return torch.tensor(self._explained().target().score)

    @property
    def text(self) -> str:
        """The text of the last call, as given (never rewritten)."""
        return self._explained().inputs["text"]

    @property
    def input_ids(self) -> torch.Tensor:
        """The token ids of the last call, ``[1, seq]``."""
        return torch.tensor([self.tokenizer.convert_tokens_to_ids(self._explained().tokens)])

    def visualize(self, html_filepath: str | None = None, true_class: str | None = None) -> HTML:
        """Draw the last explanation as HTML; written to ``html_filepath`` when given, shown inline in notebooks."""
        explanation = self._explained()
        if true_class is not None:
            explanation.details["true_label"] = str(true_class)
        return visualize([explanation], html_filepath)

    def __str__(self) -> str:
        return (
            f"{type(self).__name__}(\n\tmodel={type(self.model).__name__},\n\ttokenizer={type(self.tokenizer).__name__},"
            f"\n\tattribution_type='{self.attribution_type}',\n)"
        )
