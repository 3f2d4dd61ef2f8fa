"""``PairwiseSequenceClassificationExplainer``, as transformers-interpret 0.10.0 has it, with the pair encoded right."""

from __future__ import annotations

import torch

from attrix.compat.output import LegacyAttributions
from attrix.compat.sequence import SequenceClassificationExplainer


class PairwiseSequenceClassificationExplainer(SequenceClassificationExplainer):
    """Explains a text-pair classifier (a cross-encoder, an NLI model); call it with two texts for (token, score) pairs.

    The pair is encoded as the tokenizer encodes a pair, token types included. ``flip_sign=True`` explains
    ``1 - p`` instead of ``p``, which negates every attribution: what makes the two texts dissimilar.
    """

    task = "pairwise"

    def __call__(
        self,
        text1: str,
        text2: str,
        index: int | None = None,
        class_name: str | None = None,
        embedding_type: int = 0,
        internal_batch_size: int | None = None,
        n_steps: int | None = None,
        flip_sign: bool = False,
    ) -> list[tuple[str, float]]:
        """Attributions of both texts toward ``index``, ``class_name`` or the predicted class, normalised together."""
        explainer = self._explainer(embedding_type, n_steps, internal_batch_size, flip_sign=flip_sign)
        self.explanation = explainer((text1, text2), target=self._target(index, class_name))
        self.attributions = LegacyAttributions.of(self.explanation.tokens, self.explanation.target())
        return self.word_attributions

    @property
    def pred_probs(self) -> torch.Tensor:
        """The probability of the explained class (never flipped: ``flip_sign`` changes what is explained, not this)."""
        explanation = self._explained()
        return torch.tensor(explanation.probabilities[explanation.target().label])

    @property
    def text1(self) -> str:
        """The first text of the last call."""
        return self._explained().inputs["text"]

    @property
    def text2(self) -> str:
        """The second text of the last call."""
        return self._explained().inputs["text_pair"]
