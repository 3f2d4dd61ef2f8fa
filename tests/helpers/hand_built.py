"""Explanations built by hand, with scores chosen so that what a renderer must show is known in advance."""

from __future__ import annotations

from typing import Any

from attrix.contracts.explanation import Explanation, TargetAttribution, Word

POSITIVE_WORD, NEGATIVE_WORD, NEUTRAL_WORD = "love", "awful", "movie"


def words_of(texts: list[str], sequence: int = 0) -> list[Word]:
    """Words with made-up spans, one token each (token 0 being ``[CLS]``)."""
    return [Word(text, 0, len(text), [number + 1], sequence) for number, text in enumerate(texts)]


def text_explanation(texts: list[str] | None = None, scores: list[float] | None = None, **changes: Any) -> Explanation:
    """A sentiment explanation toward POSITIVE (and NEGATIVE, the opposite scores): ``love`` pushes hard toward
    POSITIVE, ``awful`` hard against it, ``movie`` not at all, the other words a little."""
    texts = texts or ["i", "love", "this", "movie", "but", "the", "end", "was", "awful"]
    scores = scores or [{POSITIVE_WORD: 2.0, NEGATIVE_WORD: -2.0, NEUTRAL_WORD: 0.0}.get(text, 0.1) for text in texts]
    tokens = ["[CLS]", *texts, "[SEP]"]
    targets = [
        TargetAttribution(label, index, [0.0, *(sign * s for s in scores), 0.0], [sign * s for s in scores],
                          score=0.9 if sign > 0 else 0.1, baseline_score=0.5, delta=0.001)
        for label, index, sign in (("POSITIVE", 1, 1.0), ("NEGATIVE", 0, -1.0))
    ]
    fields: dict[str, Any] = dict(
        task="sequence", model="hand-built", inputs={"text": " ".join(texts)}, tokens=tokens, words=words_of(texts),
        targets=targets, predicted_label="POSITIVE", probabilities={"NEGATIVE": 0.1, "POSITIVE": 0.9},
        method="layer_ig", settings={"n_steps": 8},
    )
    return Explanation(**{**fields, **changes})


def image_explanation(array: list[Any], **details: Any) -> Explanation:
    """An image explanation toward ``cat`` with the pixel attributions ``array`` (``[channels][height][width]``)."""
    height, width = len(array[0]), len(array[0][0])
    return Explanation(
        task="image", model="hand-built", inputs={"image": "PIL image RGB 8x8"}, tokens=[], words=[],
        targets=[TargetAttribution("cat", 0, [], [], score=0.7, baseline_score=0.3, delta=0.01, array=array)],
        predicted_label="cat", probabilities={"cat": 0.7, "dog": 0.3}, method="ig",
        details={"image_size": [height, width], **details},
    )
