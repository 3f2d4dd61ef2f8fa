"""``Explanation``: what one input's attributions say, ready to read, render or store as JSON."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Callable, Sequence

import numpy as np

from attrix.errors import InputError, UnknownNameError

SCHEMA_VERSION = 1

NotebookView = Callable[[Sequence["Explanation"]], str]
_notebook_view: NotebookView | None = None


def set_notebook_view(view: NotebookView) -> None:
    """Draw explanations in notebooks with ``view``: ``attrix.api.display`` sets the html renderer's fragment, so this
    room need not know any renderer."""
    global _notebook_view
    _notebook_view = view


@dataclass
class Word:
    """A word of the input: its text, character span in ``sequence`` and the tokens it is made of."""

    text: str
    start: int
    end: int
    tokens: list[int]
    sequence: int = 0


@dataclass
class TargetAttribution:
    """The attributions toward one explained output (a class, a label, a position)."""

    label: str
    index: int
    token_scores: list[float]
    word_scores: list[float]
    score: float
    baseline_score: float
    delta: float
    position: int | None = None
    """The token position this target is about (a NER token, a QA start or end), if any."""
    array: list[Any] | None = None
    """The raw attributions where they are not per token: pixels as ``[channels][height][width]``."""

    def prefix(self, tokens: int, words: int, index: int | None = None) -> "TargetAttribution":
        """The attributions of the first ``tokens`` tokens and ``words`` words (at output ``index`` if given); the delta
        takes in what was cut, so that completeness still holds."""
        return replace(
            self,
            index=self.index if index is None else index,
            token_scores=self.token_scores[:tokens],
            word_scores=self.word_scores[:words],
            delta=self.delta - sum(self.token_scores[tokens:]),
        )

    @property
    def total(self) -> float:
        """The sum of the attributions (token scores, or the array): f(x) − f(baseline) up to the delta."""
        if self.token_scores or self.array is None:
            return sum(self.token_scores)
        return float(np.asarray(self.array, dtype=np.float64).sum())


@dataclass
class Explanation:
    """Attributions of one input toward one or more targets, with the prediction and how they were made.

    A task fills in what the attributions say; the ``Explainer`` stamps how they were made, once for every task:
    ``task``, ``model``, ``method`` (the backend), ``settings`` and ``details["versions"]``. Those provenance
    fields are keyword-only, empty until stamped.
    """

    task: str = field(default="", kw_only=True)
    model: str = field(default="", kw_only=True)
    inputs: dict[str, Any]
    tokens: list[str]
    words: list[Word]
    targets: list[TargetAttribution]
    predicted_label: str
    probabilities: dict[str, float]
    method: str = field(default="", kw_only=True)
    settings: dict[str, Any] = field(default_factory=dict)
    """The backend's and the task's options in force, and what the backend recorded for this input (``steps_used``)."""
    word_aggregation: str = "sum"
    details: dict[str, Any] = field(default_factory=dict)
    """What a task adds beyond the common fields (a QA answer span, NER entities, ...), and the ``versions`` of the
    libraries that made it; JSON-ready."""

    def target(self, label: str | int | None = None) -> TargetAttribution:
        """The attributions toward ``label`` (a name or output index); the first target by default."""
        if label is None:
            if not self.targets:
                raise InputError("this explanation has no targets: every position was ignored or none was asked for")
            return self.targets[0]
        for candidate in self.targets:
            if label in (candidate.label, candidate.index):
                return candidate
        raise UnknownNameError("explained target", label, [t.label for t in self.targets])

    @property
    def delta(self) -> float:
        """The convergence delta of the first target."""
        return self.target().delta

    def token_attributions(self, label: str | int | None = None) -> list[tuple[str, float]]:
        """(token, score) pairs toward ``label``, special tokens included."""
        return list(zip(self.tokens, self.target(label).token_scores))

    def word_attributions(self, label: str | int | None = None) -> list[tuple[str, float]]:
        """(word, score) pairs toward ``label``."""
        return [(word.text, score) for word, score in zip(self.words, self.target(label).word_scores)]

    def top_words(self, k: int = 5, label: str | int | None = None) -> list[tuple[str, float]]:
        """The ``k`` words that push hardest toward ``label``, largest score first."""
        return sorted(self.word_attributions(label), key=lambda pair: pair[1], reverse=True)[:k]

    def _repr_html_(self) -> str | None:
        """The explanation drawn as an HTML fragment with its own style, for notebooks (see ``set_notebook_view``)."""
        return None if _notebook_view is None else _notebook_view([self])

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict, tagged with the schema version."""
        return {"schema_version": SCHEMA_VERSION, **asdict(self)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Explanation":
        """The explanation ``to_dict`` described."""
        fields = {key: value for key, value in data.items() if key != "schema_version"}
        fields["words"] = [Word(**word) for word in fields["words"]]
        fields["targets"] = [TargetAttribution(**target) for target in fields["targets"]]
        return cls(**fields)

    def to_json(self, **dumps_options: Any) -> str:
        """The explanation as a JSON string."""
        return json.dumps(self.to_dict(), **dumps_options)

    @classmethod
    def from_json(cls, text: str) -> "Explanation":
        """The explanation a ``to_json`` string describes."""
        return cls.from_dict(json.loads(text))
