"""``TokenClassificationExplainer``, as transformers-interpret 0.10.0 has it, without losing repeated tokens."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import torch
from transformers import PreTrainedModel, PreTrainedTokenizerBase

from attrix.compat.base import LegacyTextExplainer
from attrix.compat.output import HTML, LegacyAttributions, clean_token, visualize
from attrix.errors import InputError


def unique_keys(tokens: Sequence[str]) -> list[str]:
    """Each token as a key of its own: a token seen before gets its index added, ``"the (4)"`` (tokens hold no spaces)."""
    seen: set[str] = set()
    keys = []
    for index, token in enumerate(tokens):
        keys.append(token if token not in seen else f"{token} ({index})")
        seen.add(token)
    return keys


class TokenClassificationExplainer(LegacyTextExplainer):
    """Explains a ``...ForTokenClassification`` model; call it with a text for each token's attributions toward its label.

    Every token is explained (special tokens included) except those at ``ignored_indexes`` and those predicted as one
    of ``ignored_labels``; each toward the probability of its predicted label.
    """

    task = "token"

    def __init__(self, model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, attribution_type: str = "lig") -> None:
        super().__init__(model, tokenizer, attribution_type)
        self.label2id = model.config.label2id
        self.id2label = model.config.id2label
        self.ignored_indexes: list[int] | None = None
        self.ignored_labels: list[str] | None = None
        self.attributions: dict[int, LegacyAttributions] | None = None
        self.pred_probs: torch.Tensor | None = None

    def __call__(
        self,
        text: str,
        embedding_type: int = 0,
        internal_batch_size: int | None = None,
        n_steps: int | None = None,
        ignored_indexes: list[int] | None = None,
        ignored_labels: list[str] | None = None,
    ) -> dict[str, dict[str, Any]]:
        """Each explained token's predicted label and normalised attributions, keyed by token (see ``word_attributions``)."""
        self.ignored_indexes, self.ignored_labels = ignored_indexes, ignored_labels
        explainer = self._explainer(
            embedding_type,
            n_steps,
            internal_batch_size,
            special_tokens=True,
            ignored_indexes=list(ignored_indexes or []),
            ignored_labels=list(ignored_labels or []),
        )
        self.explanation = explainer(text)
        tokens = self.explanation.tokens
        self.attributions = {target.position: LegacyAttributions.of(tokens, target) for target in self.explanation.targets}
        _, inputs, _ = explainer.task.encode([text])
        with torch.no_grad():
            self.pred_probs = torch.softmax(self.model(**inputs).logits, dim=-1)[0]
        return self.word_attributions

    @property
    def word_attributions(self) -> dict[str, dict[str, Any]]:
        """``{token: {"label": predicted label, "attribution_scores": [(token, score), ...]}}`` for every explained token,
        in text order; a repeated token's later occurrences are keyed ``"token (index)"``, index counting special tokens."""
        explanation = self._explained()
        keys = unique_keys([clean_token(token) for token in explanation.tokens])
        return {
            keys[target.position]: {
                "label": target.label,
                "attribution_scores": self.attributions[target.position].word_attributions,
            }
            for target in explanation.targets
        }

    @property
    def predicted_class_indexes(self) -> np.ndarray:
        """The predicted label index of every token of the last call, special tokens included."""
        self._explained()
        return self.pred_probs.argmax(-1).numpy()

    @property
    def predicted_class_names(self) -> list[str]:
        """The predicted label of every token of the last call, special tokens included."""
        indexes = self.predicted_class_indexes
        if all(int(index) in self.id2label for index in indexes):
            return [self.id2label[int(index)] for index in indexes]
        return indexes  # transformers-interpret falls back to the indexes when a label is missing

    @property
    def text(self) -> str:
        """The text of the last call, as given (never rewritten)."""
        return self._explained().inputs["text"]

    def visualize(self, html_filepath: str | None = None, true_classes: list[str] | None = None) -> HTML:
        """Draw each explained token's attributions as HTML, with its true class when ``true_classes`` (one per token,
        special tokens included) is given; written to ``html_filepath`` when given, shown inline in notebooks."""
        explanation = self._explained()
        if true_classes is not None and len(true_classes) != len(explanation.tokens):
            raise InputError(
                f"true_classes has {len(true_classes)} labels but the text has {len(explanation.tokens)} tokens; "
                f"give one per token, special tokens included"
            )
        pages = []
        for target in explanation.targets:
            true = {} if true_classes is None else {"true_label": str(true_classes[target.position])}
            pages.append(
                replace(
                    explanation,
                    targets=[target],
                    predicted_label=target.label,
                    probabilities={target.label: target.score},
                    details={**explanation.details, **true},
                )
            )
        return visualize(pages, html_filepath)
