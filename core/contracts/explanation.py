"""``Explanation``: what one input's attributions say, ready to read, render or store as JSON."""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np

from attrix.errors import InputError, UnknownNameError

SCHEMA_VERSION = 3
"""Version 2 added the optional ``generation`` object (generation tasks), version 3 each target's optional
``converged``; documents of versions 1 and 2 read unchanged."""
ROUNDING_FLOOR = 4 * float(np.finfo(np.float32).eps)
"""A delta within this share of the scores' size is float32 rounding: it counts as converged, however small
f(x) − f(baseline) is (as in attrix.integration.adaptive)."""

NotebookView = Callable[[Sequence["Explanation"]], str]
_notebook_view: NotebookView | None = None


def set_notebook_view(view: NotebookView) -> None:
    """Draw explanations in notebooks with ``view``: ``attrix.api.display`` sets the html renderer's fragment, so this
    room need not know any renderer."""
    global _notebook_view
    _notebook_view = view


def within_tolerance(delta: float, score: float, baseline_score: float, tolerance: float) -> bool:
    """Whether |delta| ≤ ``tolerance`` · |score − baseline_score|, or is float32 rounding of the scores."""
    floor = ROUNDING_FLOOR * max(abs(score), abs(baseline_score))
    return abs(delta) <= tolerance * abs(score - baseline_score) + floor


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
    converged: bool | None = None
    """Whether |delta| is within the method's tolerance of |score − baseline_score| (its completeness holds); None
    when the method does not claim completeness (occlusion, LIME, saliency, ...) or the document is older."""

    def meets(self, tolerance: float) -> bool:
        """Whether its completeness holds within ``tolerance`` (``within_tolerance``)."""
        return within_tolerance(self.delta, self.score, self.baseline_score, tolerance)

    def prefix(self, tokens: int, words: int, index: int | None = None) -> TargetAttribution:
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
class GeneratedToken:
    """One generated (or forced) token of a continuation: an explained step."""

    token: str
    """The token as the tokenizer writes it (``Ġ``, ``▁`` marks included)."""
    text: str
    """What the token adds to the continuation's text."""
    id: int
    position: int
    """Its index in ``Explanation.tokens``."""
    probability: float
    """The model's probability of this token at its step, given everything before it."""
    contrast: str | None = None
    """The contrast token this step is explained against, if any."""
    contrast_probability: float | None = None
    """The model's probability of ``contrast`` at this step (same prefix)."""


@dataclass
class Generation:
    """What a generation task explained: a continuation of a prompt, token by token.

    ``Explanation.tokens`` are the prompt's (or source's) tokens followed by the continuation's (after the decoder's
    start token, for encoder–decoders); each target explains one step of ``steps`` (its ``position``), so the targets'
    ``token_scores`` are the step × token attribution matrix.
    """

    text: str
    """The continuation, as text."""
    prompt_length: int
    """How many of ``Explanation.tokens`` belong to the prompt (source): ``tokens[:prompt_length]``."""
    steps: list[GeneratedToken]
    forced: bool = False
    """Whether the continuation was given (``target_text``) rather than generated."""
    kept: list[int] = field(default_factory=list)
    """Token indices that are not features and keep their value in the baseline: special and chat-template tokens."""


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
    metrics: dict[str, Any] = field(default_factory=dict)
    """Faithfulness metrics of the attributions, by metric name (``attrix.evaluate`` fills them): each with its
    ``values`` per target (in the order of ``targets``), the same for a seeded random ranking (``random``), the
    ``curves`` when the metric draws some, the ``features`` removed, the ``removal`` and the metric's ``settings``;
    JSON-ready. Left out of ``to_dict`` when empty."""
    generation: Generation | None = None
    """The explained continuation, for generation tasks (schema version 2); left out of ``to_dict`` when None."""

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

    @property
    def converged(self) -> list[bool | None]:
        """Each target's ``converged``, in the order of ``targets``."""
        return [target.converged for target in self.targets]

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
        """A JSON-ready dict, tagged with the schema version; a non-finite number (NaN, ±infinity) becomes None
        (``null`` in JSON), so that the dict is standard JSON."""
        data = asdict(self)
        for key in ("metrics", "generation"):
            if not data[key]:
                del data[key]
        return finite({"schema_version": SCHEMA_VERSION, **data})

    @classmethod
    def from_dict(cls, data: dict[str, Any], where: str = "the explanation") -> Explanation:
        """The explanation ``to_dict`` described; an ``InputError`` naming ``where`` and what is missing or wrong when
        ``data`` is none, or has no ``schema_version`` or one newer than this attrix reads. A ``null`` score
        (a number that was not finite) reads back as NaN."""
        if not isinstance(data, dict):
            raise InputError(f"{where} is not an explanation: expected an object, got {type(data).__name__}")
        check_schema_version(data, where)
        try:
            return _explanation(data)
        except _Invalid as error:
            raise InputError(f"{where} is not an explanation of schema_version {data['schema_version']}: {error}") from None
        except RecursionError:
            raise InputError(f"{where} is not an explanation: it is nested too deeply") from None

    def to_json(self, **dumps_options: Any) -> str:
        """The explanation as a standard JSON string: non-finite numbers are written as ``null``."""
        return json.dumps(self.to_dict(), **{"allow_nan": False, **dumps_options})

    @classmethod
    def from_json(cls, text: str | bytes, where: str = "the explanation") -> Explanation:
        """The explanation a ``to_json`` string describes; an ``InputError`` when it is not JSON or no explanation."""
        try:
            data = json.loads(text)
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            raise InputError(f"{where} is not JSON: {error}") from None
        except (TypeError, RecursionError) as error:
            raise InputError(f"{where} is not JSON text: {error}") from None
        return cls.from_dict(data, where)


def check_schema_version(data: dict[str, Any], where: str) -> None:
    """Raise a clear error when ``data`` has no schema version, or one newer than this attrix reads."""
    version = data.get("schema_version")
    if isinstance(version, bool) or not isinstance(version, int):
        raise InputError(f"{where} has no schema_version (an integer); it was not written by attrix")
    if version > SCHEMA_VERSION:
        raise InputError(
            f"{where} has schema_version {version}, newer than the {SCHEMA_VERSION} this attrix reads: upgrade attrix"
        )


def finite(value: Any) -> Any:
    """``value`` (JSON-ready data) with every non-finite float (NaN, ±infinity) replaced by None."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: finite(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite(item) for item in value]
    return value


class _Invalid(Exception):
    """What is wrong with a dict that should describe an explanation (``from_dict`` names where)."""


_FIELDS = {
    "Explanation": ("inputs", "tokens", "words", "targets", "predicted_label", "probabilities"),
    "Word": ("text", "start", "end", "tokens"),
    "TargetAttribution": ("label", "index", "token_scores", "word_scores", "score", "baseline_score", "delta"),
    "Generation": ("text", "prompt_length", "steps"),
    "GeneratedToken": ("token", "text", "id", "position", "probability"),
}
"""The keys an object must have: the fields without defaults."""


def _explanation(data: dict[str, Any]) -> Explanation:
    fields = _fields(Explanation, data, "")
    for key in ("task", "model", "predicted_label", "method", "word_aggregation"):
        if key in fields:
            _string(fields[key], key)
    for key in ("inputs", "settings", "details", "probabilities", "metrics"):
        if key in fields:
            _object(fields[key], key)
    fields["tokens"] = [_string(token, f"tokens[{n}]") for n, token in enumerate(_list(fields["tokens"], "tokens"))]
    fields["probabilities"] = {label: _number(p, f"probabilities[{label!r}]") for label, p in fields["probabilities"].items()}
    fields["words"] = [_word(word, f"words[{n}]") for n, word in enumerate(_list(fields["words"], "words"))]
    fields["targets"] = [_target(target, f"targets[{n}]") for n, target in enumerate(_list(fields["targets"], "targets"))]
    if fields.get("generation") is not None:
        fields["generation"] = _generation(fields["generation"], "generation")
    return Explanation(**fields)


def _generation(data: Any, where: str) -> Generation:
    fields = _fields(Generation, data, where)
    _string(fields["text"], f"{where}.text")
    _integer(fields["prompt_length"], f"{where}.prompt_length")
    if "forced" in fields and not isinstance(fields["forced"], bool):
        raise _wrong(fields["forced"], f"{where}.forced", "true or false")
    if "kept" in fields:
        fields["kept"] = [_integer(t, f"{where}.kept[{n}]") for n, t in enumerate(_list(fields["kept"], f"{where}.kept"))]
    steps = _list(fields["steps"], f"{where}.steps")
    fields["steps"] = [_generated_token(step, f"{where}.steps[{n}]") for n, step in enumerate(steps)]
    return Generation(**fields)


def _generated_token(data: Any, where: str) -> GeneratedToken:
    fields = _fields(GeneratedToken, data, where)
    for key in ("token", "text"):
        _string(fields[key], f"{where}.{key}")
    for key in ("id", "position"):
        _integer(fields[key], f"{where}.{key}")
    fields["probability"] = _number(fields["probability"], f"{where}.probability")
    if fields.get("contrast") is not None:
        _string(fields["contrast"], f"{where}.contrast")
    if fields.get("contrast_probability") is not None:
        fields["contrast_probability"] = _number(fields["contrast_probability"], f"{where}.contrast_probability")
    return GeneratedToken(**fields)


def _word(data: Any, where: str) -> Word:
    fields = _fields(Word, data, where)
    _string(fields["text"], f"{where}.text")
    for key in ("start", "end", "sequence"):
        if key in fields:
            _integer(fields[key], f"{where}.{key}")
    fields["tokens"] = [_integer(t, f"{where}.tokens[{n}]") for n, t in enumerate(_list(fields["tokens"], f"{where}.tokens"))]
    return Word(**fields)


def _target(data: Any, where: str) -> TargetAttribution:
    fields = _fields(TargetAttribution, data, where)
    _string(fields["label"], f"{where}.label")
    _integer(fields["index"], f"{where}.index")
    for key in ("token_scores", "word_scores"):
        fields[key] = [_number(s, f"{where}.{key}[{n}]") for n, s in enumerate(_list(fields[key], f"{where}.{key}"))]
    for key in ("score", "baseline_score", "delta"):
        fields[key] = _number(fields[key], f"{where}.{key}")
    if fields.get("position") is not None:
        _integer(fields["position"], f"{where}.position")
    if fields.get("array") is not None:
        fields["array"] = _numbers(_list(fields["array"], f"{where}.array"), f"{where}.array")
    if fields.get("converged") is not None and not isinstance(fields["converged"], bool):
        raise _wrong(fields["converged"], f"{where}.converged", "true, false or null")
    return TargetAttribution(**fields)


def _fields(cls: type, data: Any, where: str) -> dict[str, Any]:
    """``data``'s keys, checked against ``cls``'s fields: none missing, none unknown."""
    name = where or "it"
    if not isinstance(data, dict):
        raise _Invalid(f"{name} must be an object, got {type(data).__name__}")
    fields = {key: value for key, value in data.items() if key != "schema_version" or where}
    missing = [key for key in _FIELDS[cls.__name__] if key not in fields]
    if missing:
        raise _Invalid(f"{name} has no {', '.join(map(repr, missing))}")
    known = {field.name for field in dataclasses.fields(cls)}
    unknown = [key for key in fields if key not in known]
    if unknown:
        raise _Invalid(f"{name} has unknown keys {', '.join(map(repr, unknown))}; valid: {', '.join(sorted(known))}")
    return dict(fields)


def _wrong(value: Any, where: str, expected: str) -> _Invalid:
    return _Invalid(f"{where} must be {expected}, got {type(value).__name__} {value!r:.60}")


def _string(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise _wrong(value, where, "a string")
    return value


def _integer(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _wrong(value, where, "an integer")
    return value


def _number(value: Any, where: str) -> float:
    """A number as a float; None (``null``: a number that was not finite) as NaN."""
    if value is None:
        return math.nan
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _wrong(value, where, "a number or null")
    return value


def _list(value: Any, where: str) -> list[Any]:
    if not isinstance(value, list):
        raise _wrong(value, where, "an array")
    return value


def _object(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _wrong(value, where, "an object")
    return value


def _numbers(value: Any, where: str) -> Any:
    """A nested array of numbers, its nulls as NaN."""
    if isinstance(value, list):
        return [_numbers(item, f"{where}[{n}]") for n, item in enumerate(value)]
    return _number(value, where)
