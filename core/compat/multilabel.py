"""``MultiLabelClassificationExplainer``, as transformers-interpret 0.10.0 has it, honouring every call argument."""

from __future__ import annotations

from dataclasses import replace

import torch
from transformers import PreTrainedModel, PreTrainedTokenizerBase

from attrix.compat.output import HTML, LegacyAttributions, visualize
from attrix.compat.sequence import SequenceClassificationExplainer
from attrix.contracts.explanation import Explanation


class MultiLabelClassificationExplainer(SequenceClassificationExplainer):
    """Explains every label of a sequence classifier on its own, each label's probability a sigmoid of its logit.

    Calling it with a text gives ``{label: [(token, score), ...]}`` for every label, in output order; all labels
    are explained together from one problem, so the time grows little with their number.
    """

    task = "multilabel"

    def __init__(
        self,
        model: PreTrainedModel,
        tokenizer: PreTrainedTokenizerBase,
        attribution_type: str = "lig",
        custom_labels: list[str] | None = None,
    ) -> None:
        super().__init__(model, tokenizer, attribution_type, custom_labels)
        self.custom_labels = custom_labels
        self.labels: list[str] = []
        self.attributions: list[LegacyAttributions] | None = None
        self.pred_probs_list: list[torch.Tensor] = []
        self.label_probs_dict: dict[str, torch.Tensor] = {}

    def __call__(
        self,
        text: str,
        embedding_type: int = 0,
        internal_batch_size: int | None = None,
        n_steps: int | None = None,
    ) -> dict[str, list[tuple[str, float]]]:
        """Attributions of ``text`` toward each label's probability, each label's scores normalised on their own."""
        self.explanation = self._explainer(embedding_type, n_steps, internal_batch_size)(text)
        targets = self.explanation.targets
        self.labels = [self.id2label[target.index] for target in targets]
        self.attributions = [LegacyAttributions.of(self.explanation.tokens, target) for target in targets]
        self.pred_probs_list = [torch.tensor(target.score) for target in targets]
        self.label_probs_dict = dict(zip(self.labels, self.pred_probs_list))
        return self.word_attributions

    @property
    def word_attributions(self) -> dict[str, list[tuple[str, float]]]:
        """``{label: [(token, score), ...]}`` of the last call, special tokens included, each label normalised."""
        self._explained()
        return {label: attributions.word_attributions for label, attributions in zip(self.labels, self.attributions)}

    @property
    def selected_index(self) -> int:
        """The last label's output index, as transformers-interpret leaves it after explaining every label."""
        return self._explained().targets[-1].index

    @property
    def pred_probs(self) -> torch.Tensor:
        """The last label's probability, as transformers-interpret leaves it (``label_probs_dict`` has them all)."""
        self._explained()
        return self.pred_probs_list[-1]

    def visualize(self, html_filepath: str | None = None, true_class: str | None = None) -> HTML:
        """Draw the last explanation, one section per label (custom labels shown); written to ``html_filepath`` if given."""
        explanation = self._explained()
        if true_class is not None:
            explanation.details["true_label"] = str(true_class)
        return visualize([self._custom_labelled(explanation)], html_filepath)

    def _custom_labelled(self, explanation: Explanation) -> Explanation:
        """``explanation`` with the custom labels in place of the model's."""
        names = {label: self.id2label[int(index)] for index, label in self.model.config.id2label.items()}
        return replace(
            explanation,
            targets=[replace(target, label=names[target.label]) for target in explanation.targets],
            predicted_label=names[explanation.predicted_label],
            probabilities={names[label]: p for label, p in explanation.probabilities.items()},
        )

    def __str__(self) -> str:
        return (
            f"{type(self).__name__}(\n\tmodel={type(self.model).__name__},\n\ttokenizer={type(self.tokenizer).__name__},"
            f"\n\tattribution_type='{self.attribution_type}',\n\tcustom_labels={self.custom_labels},)"
        )
