"""What the text renderers draw for one target: its scored words or tokens, a heading, and the input's title."""

from __future__ import annotations

from dataclasses import dataclass

from attrix.contracts.explanation import Explanation, TargetAttribution, Word

VIEWS = ("words", "tokens")


@dataclass(frozen=True)
class Piece:
    """A word or token with its attribution toward one target."""

    text: str
    score: float
    sequence: int
    """Which text of the input it belongs to: 0, or 1 for the second text of a pair or a zero-shot hypothesis."""


def is_image(explanation: Explanation) -> bool:
    """Whether ``explanation`` attributes pixels (its targets carry arrays) rather than tokens."""
    return not explanation.tokens and any(target.array is not None for target in explanation.targets)


def pieces(explanation: Explanation, target: TargetAttribution, view: str) -> list[Piece]:
    """The words or tokens of ``target`` with their scores, a zero-shot hypothesis the target explains included."""
    details = explanation.details
    if view == "tokens":
        texts = explanation.tokens + details.get("hypothesis_tokens", {}).get(target.label, [])
        sequences = [0 if position < len(explanation.tokens) else 1 for position in range(len(texts))]
        return [Piece(text, score, sequence) for text, sequence, score in zip(texts, sequences, target.token_scores)]
    words = explanation.words + [Word(**word) for word in details.get("hypothesis_words", {}).get(target.label, [])]
    return [Piece(word.text, score, word.sequence) for word, score in zip(words, target.word_scores)]


def strongest(scored: list[Piece], k: int) -> list[Piece]:
    """The ``k`` pieces of largest magnitude, largest score first."""
    return sorted(sorted(scored, key=lambda piece: -abs(piece.score))[:k], key=lambda piece: -piece.score)


def heading(explanation: Explanation, target: TargetAttribution) -> str:
    """The target's label, and the token it is about when it is about one (a NER token, a QA start or end)."""
    if target.position is None or target.position >= len(explanation.tokens):
        return target.label
    return f"{target.label} at {explanation.tokens[target.position]} ({target.position})"


def title(explanation: Explanation) -> str:
    """The input's texts (or an image's source) joined by `` / ``."""
    return " / ".join(str(value) for value in explanation.inputs.values() if isinstance(value, str))


def prediction(explanation: Explanation) -> str:
    """``predicted LABEL (probability)``, the probability left out where the label has none (a QA answer)."""
    probability = explanation.probabilities.get(explanation.predicted_label)
    return f"predicted {explanation.predicted_label}" + (f" ({probability:.3f})" if probability is not None else "")
