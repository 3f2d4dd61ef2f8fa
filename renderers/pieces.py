"""What the text renderers draw for one target: its scored words or tokens, a heading, and the input's title; and, for
a generation, its explained steps with the words each one draws on."""

from __future__ import annotations

from dataclasses import dataclass

from attrix.contracts.explanation import Explanation, GeneratedToken, TargetAttribution, Word

VIEWS = ("words", "tokens")
UNCONVERGED_NOTE = (
    "|delta| is above the method's tolerance of |score − baseline score|: these attributions have not converged "
    "(n_steps='auto', or more steps, would help)"
)


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


def is_generation(explanation: Explanation) -> bool:
    """Whether ``explanation`` explains a continuation step by step (a generation or seq2seq task)."""
    return explanation.generation is not None


def steps(explanation: Explanation) -> list[tuple[GeneratedToken, TargetAttribution]]:
    """Each explained step of a generation with its target, in the order of the targets (matched by token position)."""
    generated = {step.position: step for step in explanation.generation.steps} if explanation.generation else {}
    return [(generated[target.position], target) for target in explanation.targets if target.position in generated]


def before(word: Word, position: int) -> bool:
    """Whether ``word`` has a token before ``position``: whether the step at ``position`` can draw on it."""
    return any(token < position for token in word.tokens)


def sources(explanation: Explanation, step: GeneratedToken, target: TargetAttribution) -> list[Piece]:
    """The words ``step`` can draw on (the prompt's, and the continuation's before it) with their scores toward it."""
    return [
        Piece(word.text, score, word.sequence)
        for word, score in zip(explanation.words, target.word_scores)
        if before(word, step.position)
    ]


def unconverged(target: TargetAttribution) -> bool:
    """Whether the target is known not to have converged (``TargetAttribution.converged`` is False, not None)."""
    return target.converged is False


def token_text(step: GeneratedToken) -> str:
    """A generated token as a label: its text without the spaces around it, or the token itself when that is blank."""
    return step.text.strip() or step.token


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
    """The input's texts (or an image's source, or a chat prompt's messages) joined by `` / ``."""
    return " / ".join(text for value in explanation.inputs.values() for text in _texts(value))


def _texts(value: object) -> list[str]:
    """An input's texts: itself when a string, the contents of its messages when a chat, else none."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [message["content"] for message in value if isinstance(message, dict) and isinstance(message.get("content"), str)]
    return []


def prediction(explanation: Explanation) -> str:
    """``predicted LABEL (probability)``, the probability left out where the label has none (a QA answer)."""
    probability = explanation.probabilities.get(explanation.predicted_label)
    return f"predicted {explanation.predicted_label}" + (f" ({probability:.3f})" if probability is not None else "")
