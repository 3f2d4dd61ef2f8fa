"""``SequenceClassificationExplainer``, as transformers-interpret 0.10.0 has it."""

from __future__ import annotations

import warnings

import torch
from transformers import PreTrainedModel, PreTrainedTokenizerBase

from attrix.compat.base import LegacyTextExplainer
from attrix.compat.output import HTML, LegacyAttributions, custom_id2label, visualize


class SequenceClassificationExplainer(LegacyTextExplainer):
    """Explains a ``...ForSequenceClassification`` model; call it with a text for (token, score) pairs."""

    task = "sequence"

    def __init__(
        self,
        model: PreTrainedModel,
        tokenizer: PreTrainedTokenizerBase,
        attribution_type: str = "lig",
        custom_labels: list[str] | None = None,
    ) -> None:
        super().__init__(model, tokenizer, attribution_type)
        self.id2label = custom_id2label(model, custom_labels)
        self.label2id = {label: index for index, label in self.id2label.items()}
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
        explainer = self._explainer(embedding_type, n_steps, internal_batch_size)
        self.explanation = explainer(text, target=self._target(index, class_name))
        self.attributions = LegacyAttributions.of(self.explanation.tokens, self.explanation.target())
        return self.word_attributions

    def _target(self, index: int | None, class_name: str | None) -> int | None:
        """The output index ``index`` or ``class_name`` names (custom labels applied); None for the prediction, also
        for a ``class_name`` that is not a label, with a warning (as transformers-interpret did)."""
        if index is not None or class_name is None:
            return index
        if class_name in self.label2id:
            return self.label2id[class_name]
        warnings.warn(
            f"{class_name!r} is not among the labels ({', '.join(self.label2id)}): explaining the predicted class instead",
            UserWarning,
            stacklevel=3,
        )
        return None

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
        """The predicted label of the last call (custom labels applied); the index if no label has it."""
        index = self.predicted_class_index
        return self.id2label.get(int(index), index)

    @property
    def pred_probs(self) -> torch.Tensor:
        """The probability of the explained class."""
        return torch.tensor(self._explained().target().score)

    @property
    def text(self) -> str:
        """The text of the last call, as given (never rewritten)."""
        return self._explained().inputs["text"]

    def visualize(self, html_filepath: str | None = None, true_class: str | None = None) -> HTML:
        """Draw the last explanation as HTML; written to ``html_filepath`` when given, shown inline in notebooks."""
        explanation = self._explained()
        if true_class is not None:
            explanation.details["true_label"] = str(true_class)
        return visualize([explanation], html_filepath)
