"""``ZeroShotClassificationExplainer``, as transformers-interpret 0.10.0 has it, ranking labels as the pipeline does."""

from __future__ import annotations

from dataclasses import replace

import torch
from transformers import PreTrainedModel, PreTrainedTokenizerBase

from attrix.compat.output import HTML, LegacyAttributions, visualize
from attrix.compat.sequence import SequenceClassificationExplainer
from attrix.contracts.explanation import Explanation, TargetAttribution, Word
from attrix.errors import AttrixError
from attrix.host.registry import create

DEFAULT_TEMPLATE = "this text is about {} ."
"""transformers-interpret's hypothesis template (the pipeline's is ``"This example is {}."``)."""
HYPOTHESIS_DETAILS = ("hypothesis_tokens", "hypothesis_words")


class ZeroShotClassificationExplainer(SequenceClassificationExplainer):
    """Explains an NLI model classifying a text into labels chosen at call time, one attribution list per label.

    Each label's attributions explain the entailment probability of (text, ``hypothesis_template.format(label)``)
    against a baseline of pad tokens in place of both texts; ``predicted_label`` and ``pred_probs`` are the
    ``zero-shot-classification`` pipeline's ranking and scores.
    """

    task = "zero_shot"

    def __init__(self, model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, attribution_type: str = "lig") -> None:
        super().__init__(model, tokenizer, attribution_type)
        self.entailment_idx: int = create("task", self.task, model, tokenizer).entailment
        self.entailment_key: str = model.config.id2label[self.entailment_idx]
        self.label_exists = True
        # set by transformers-interpret's question-answering base class, which its zero-shot class also inherits
        self.position = 0
        self.start_attributions: LegacyAttributions | None = None
        self.end_attributions: LegacyAttributions | None = None
        self.include_hypothesis = False
        self.hypothesis_template = DEFAULT_TEMPLATE
        self.labels: list[str] = []
        self.hypothesis_labels: list[str] = []
        self.attributions: list[LegacyAttributions] = []

    def __call__(
        self,
        text: str,
        labels: list[str],
        embedding_type: int = 0,
        hypothesis_template: str = DEFAULT_TEMPLATE,
        include_hypothesis: bool = False,
        internal_batch_size: int | None = None,
        n_steps: int | None = None,
    ) -> dict[str, list[tuple[str, float]]]:
        """Attributions of ``text`` (and each hypothesis with ``include_hypothesis``) per label, in ``labels`` order."""
        explainer = self._explainer(
            embedding_type, n_steps, internal_batch_size, hypothesis_template=hypothesis_template, include_hypothesis=True
        )
        repeated = isinstance(labels, (list, tuple)) and len(set(labels)) < len(labels)
        # transformers-interpret takes a label given twice; each distinct label is explained once, then repeated
        distinct = list(dict.fromkeys(labels)) if repeated else labels
        explanation = explainer({"text": text, "candidate_labels": distinct})
        self.explanation = explanation if include_hypothesis else text_part(explanation)
        self.include_hypothesis, self.hypothesis_template = include_hypothesis, hypothesis_template
        self.labels = list(labels) if repeated else explanation.inputs["candidate_labels"]
        self.hypothesis_labels = [explanation.details["hypotheses"][label] for label in self.labels]
        self.attributions = [
            LegacyAttributions.of(self._tokens(self.explanation, label), self.explanation.target(label)) for label in self.labels
        ]
        return self.word_attributions

    def _tokens(self, explanation: Explanation, label: str) -> list[str]:
        """The tokens ``label``'s attributions are over: the text's, then its hypothesis's if included."""
        return explanation.tokens + explanation.details.get("hypothesis_tokens", {}).get(label, [])

    @property
    def word_attributions(self) -> dict[str, list[tuple[str, float]]]:
        """``{label: [(token, score), ...]}`` of the last call in ``labels`` order, each label normalised on its own."""
        self._explained()
        return {label: attributions.word_attributions for label, attributions in zip(self.labels, self.attributions)}

    @property
    def predicted_label(self) -> str:
        """The best label, as the zero-shot-classification pipeline ranks them."""
        return self._explained().predicted_label

    @property
    def predicted_class_index(self) -> int:
        """The place of ``predicted_label`` among the labels of the last call."""
        return self.labels.index(self.predicted_label)

    @property
    def predicted_class_name(self) -> str:
        """``predicted_label``."""
        return self.predicted_label

    @property
    def pred_probs(self) -> list[float]:
        """Each label's score in ``labels`` order: the pipeline's, a softmax across labels of the entailment logits
        (a label given twice counted twice)."""
        probabilities = self._explained().probabilities
        scores = [probabilities[label] for label in self.labels]
        if len(set(self.labels)) == len(self.labels):
            return scores
        if len(set(self.labels)) == 1:  # equal entailment logits: the softmax shares out evenly
            return [1.0 / len(self.labels)] * len(self.labels)
        # the softmax over the labels as given, a repeated label counted each time it is given
        return [score / sum(scores) for score in scores]

    @property
    def selected_index(self) -> int:
        """The model's entailment output: what every label's attributions explain."""
        return self.entailment_idx

    @property
    def input_ids(self) -> torch.Tensor:
        """The token ids of the last label's pair (its text only, without ``include_hypothesis``), ``[1, seq]``."""
        return torch.tensor([self.tokenizer.convert_tokens_to_ids(self._tokens(self._explained(), self.labels[-1]))])

    def visualize(self, html_filepath: str | None = None, true_class: str | None = None) -> HTML:
        """Draw the last explanation, a section per label (a page part per label with its hypothesis); HTML file if a path is given."""
        explanation = self._explained()
        if true_class is not None:
            explanation.details["true_label"] = str(true_class)
        if not self.include_hypothesis:
            return visualize([explanation], html_filepath)
        return visualize([with_hypothesis(explanation, target) for target in explanation.targets], html_filepath)


def text_part(explanation: Explanation) -> Explanation:
    """``explanation`` (made with the hypotheses in it) with each label's attributions cut to the text's tokens and words."""
    tokens, words = len(explanation.tokens), len(explanation.words)
    return replace(
        explanation,
        targets=[target.prefix(tokens, words) for target in explanation.targets],
        details={key: value for key, value in explanation.details.items() if key not in HYPOTHESIS_DETAILS},
    )


def with_hypothesis(explanation: Explanation, target: TargetAttribution) -> Explanation:
    """``explanation`` of ``target`` alone, its tokens and words going on with the target's hypothesis."""
    details = explanation.details
    return replace(
        explanation,
        inputs={**explanation.inputs, "hypothesis": details["hypotheses"][target.label]},
        tokens=explanation.tokens + details["hypothesis_tokens"][target.label],
        words=explanation.words + [Word(**word) for word in details["hypothesis_words"][target.label]],
        targets=[target],
    )


def _not_for_zero_shot(name: str) -> property:
    """transformers-interpret's zero-shot class inherits ``name`` from its question-answering class, where it has
    no zero-shot meaning; here it raises InputIdsNotCalculatedError before a call, as there, and says so after."""

    def get(self: ZeroShotClassificationExplainer) -> int | str:
        self._explained()
        raise AttrixError(f"{name} is a question-answering attribute; a zero-shot explanation has none")

    return property(get, doc=get.__doc__)


for _name in ("start_pos", "end_pos", "predicted_answer"):
    setattr(ZeroShotClassificationExplainer, _name, _not_for_zero_shot(_name))
