"""``zero_shot``: an NLI model classifying a text into labels chosen at run time, as transformers' zero-shot pipeline does."""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any

import torch
from transformers import (
    AutoModelForSequenceClassification,
    BatchEncoding,
    PretrainedConfig,
    PreTrainedModel,
    PreTrainedTokenizerBase,
)

from attrix.contracts.backend import Attributions
from attrix.contracts.explanation import Explanation, TargetAttribution
from attrix.contracts.hookspecs import hookimpl
from attrix.contracts.inputs import InputField
from attrix.contracts.problem import Problem
from attrix.contracts.targets import Target, resolve_targets
from attrix.contracts.task import Prepared
from attrix.errors import InputError, InputTypeError, TaskMismatchError
from attrix.text.encoding import TruncationWarning, check_text, check_unicode
from attrix.text.task import TextTask
from attrix.text.windows import Window, mean_by_owner, windows_converged

DEFAULT_TEMPLATE = "This example is {}."
LOGIT, ENTAILMENT, AGAINST_CONTRADICTION = 0, 1, 2
"""The columns of ``ZeroShotClassification.scores``; targets explain the second (single-label) or the third (multi-label)."""
EXPLAINED = {ENTAILMENT: "P(entailment)", AGAINST_CONTRADICTION: "P(entailment | entailment or contradiction)"}


@dataclass(frozen=True)
class Query:
    """A text and the candidate labels to classify it into."""

    text: str
    labels: tuple[str, ...]


def parse_labels(labels: Any) -> tuple[str, ...]:
    """Candidate labels from a list of strings, or from one string of comma-separated labels as the pipeline reads it."""
    if isinstance(labels, str):
        labels = [label.strip() for label in labels.split(",") if label.strip()]
    if not isinstance(labels, (list, tuple)) or not all(isinstance(label, str) for label in labels):
        raise InputTypeError(
            f"candidate_labels must be a list of label strings or one comma-separated string, got {labels!r:.80}"
        )
    if not labels:
        raise InputError("candidate_labels is empty; give at least one label to classify the text into")
    for label in labels:
        if not label.strip():
            raise InputError(f"candidate_labels has an empty label: {list(labels)!r:.80}")
        check_unicode(label, "a candidate label")
        if labels.count(label) > 1:
            raise InputError(f"candidate_labels names {label!r} twice; each candidate label must be different")
    return tuple(labels)


def check_template(template: str) -> str:
    """``template`` if it has one place, ``{}``, where a label goes."""
    try:
        filled = template.format("\0")
    except (IndexError, KeyError, ValueError):
        filled = template
    if filled == template:
        raise InputError(f"hypothesis_template {template!r} must have one {{}} where the label goes, e.g. {DEFAULT_TEMPLATE!r}")
    return check_unicode(template, "hypothesis_template")


def entailment_index(model: PreTrainedModel) -> int:
    """The entailment output, found as the pipeline finds it: the first label starting with "entail", in any case."""
    for label, index in model.config.label2id.items():
        if label.lower().startswith("entail"):
            return int(index)
    raise TaskMismatchError(
        f"zero_shot needs an NLI model with an entailment label, but {type(model).__name__}'s labels are "
        f"{', '.join(map(str, model.config.label2id))}"
    )


class ZeroShotClassification(TextTask):
    """Zero-shot classification with an NLI model: which words make the model rank each candidate label as it does.

    An input is a text with its own labels, ``{"text": ..., "candidate_labels": [...]}``, or a plain string
    classified into the option ``candidate_labels``; labels may also be one comma-separated string, as in the
    pipeline. Each label gives the pair (text, ``hypothesis_template.format(label)``); the pairs of all labels
    form one batched problem. ``probabilities`` (ranked, best first) and ``predicted_label`` are the
    ``zero-shot-classification`` pipeline's: a softmax across labels of the entailment logits, or, with
    ``multi_label=True`` or a single label, each label's softmax of entailment against contradiction.

    There is one target per label, ranked like ``probabilities``, its ``index`` the label's place among the
    candidates, explaining its own pair's probability of entailment: the softmax over the model's NLI outputs,
    as transformers-interpret explains it, or in multi-label mode the pipeline's score itself.

    ``tokens`` and ``words`` are the part every pair shares: the text with the special tokens around it. With
    ``include_hypothesis=False`` (the default) the baseline keeps the hypothesis, so the text's words alone
    account for ``score - baseline_score``. With ``include_hypothesis=True`` the hypothesis is replaced in the
    baseline too, and each target's ``token_scores`` and ``word_scores`` go on past ``tokens`` and ``words`` with
    its hypothesis, whose tokens and words (token indices into the label's whole token list) are in
    ``details["hypothesis_tokens"][label]`` and ``details["hypothesis_words"][label]``. ``details`` also holds
    each label's hypothesis, the entailment label and what the targets' scores are.

    Encoder–decoder models (BART) are explained at their encoder's token embeddings, the decoder reading the
    text as it is. A text too long for the model beside its longest hypothesis is cut once, with a warning, so
    that every pair holds the same text.
    """

    name = "zero_shot"
    heads = ("ForSequenceClassification",)
    auto_model = AutoModelForSequenceClassification
    inputs = (
        InputField("text", str, "the text to classify", "area", "The team won the final in the last minute."),
        InputField(
            "candidate_labels",
            str | list[str],
            "the labels to classify the text into: a list of strings or one comma-separated string; "
            "left out, the option candidate_labels gives them",
            "line",
            "sports, politics, music",
            label="Candidate labels, comma-separated",
            required=False,
        ),
    )

    def __init__(
        self,
        model: PreTrainedModel,
        processor: PreTrainedTokenizerBase,
        *,
        candidate_labels: Sequence[str] | str | None = None,
        hypothesis_template: str = DEFAULT_TEMPLATE,
        include_hypothesis: bool = False,
        multi_label: bool = False,
        **options: Any,
    ) -> None:
        self.entailment = entailment_index(model)
        self.contradiction = model.config.num_labels - 1 if self.entailment == 0 else 0  # by position, as the pipeline has it
        super().__init__(model, processor, **options)
        self.candidate_labels = None if candidate_labels is None else list(parse_labels(candidate_labels))
        self.hypothesis_template = hypothesis_template
        self.include_hypothesis, self.multi_label = include_hypothesis, multi_label

    @classmethod
    def validate_options(cls, options: Mapping[str, Any]) -> None:
        """The text options' rules, and: a hypothesis template needs one ``{}`` where the label goes."""
        super().validate_options(options)
        if "hypothesis_template" in options:
            check_template(options["hypothesis_template"])

    @classmethod
    def auto_fits(cls, architecture: str, config: PretrainedConfig) -> bool:
        return False

    @classmethod
    def target_names(cls, values: Mapping[str, Any], labels: Sequence[str]) -> tuple[str, ...]:
        """The candidate labels in ``values``, parsed as the task parses them; none while they cannot be."""
        try:
            return parse_labels(values.get("candidate_labels", ""))
        except InputError:
            return ()

    def check(self, item: Any) -> Query:
        labels = None
        text_name, labels_name = self.input_names()
        if isinstance(item, Mapping):
            if text_name not in item or not set(item) <= {text_name, labels_name}:
                raise InputError(
                    f"a zero-shot input given as a dict takes the keys {text_name!r} and {labels_name!r}, got {sorted(map(str, item))}"
                )
            item, labels = item[text_name], item.get(labels_name)
        text = check_text(item)
        if labels is not None:
            return Query(text, parse_labels(labels))
        if self.candidate_labels is None:
            raise InputError(
                f"no candidate labels for {text!r:.40}: give the input as {{'text': ..., 'candidate_labels': [...]}} "
                f"or set the option candidate_labels=[...]"
            )
        return Query(text, tuple(self.candidate_labels))

    def length(self, item: Query) -> int:
        return len(item.text)

    def scores(self, **inputs: torch.Tensor) -> torch.Tensor:
        """Each pair's entailment logit, P(entailment) and P(entailment | entailment or contradiction): ``[pairs, 3]``."""
        logits = self.model(**inputs).logits
        entailment, contradiction = logits[:, self.entailment], logits[:, self.contradiction]
        probability = torch.softmax(logits, dim=-1)[:, self.entailment]
        return torch.stack([entailment, probability, torch.sigmoid(entailment - contradiction)], dim=1)

    def column(self, query: Query) -> int:
        """The column of ``scores`` ``query``'s targets explain: labels are independent with ``multi_label`` or only one."""
        return AGAINST_CONTRADICTION if self.multi_label or len(query.labels) == 1 else ENTAILMENT

    def fitted(self, text: str, hypotheses: list[str]) -> str:
        """``text`` cut so that it fits the model beside its longest hypothesis, the same in every pair; warns when cut."""
        if self.limit is None:
            return text
        longest = max(hypotheses, key=lambda hypothesis: len(self.tokenizer(hypothesis)["input_ids"]))
        length = len(self.tokenizer(text, longest)["input_ids"])
        if length <= self.limit:
            return text
        encoding = self.tokenizer(text, longest, truncation="only_first", max_length=self.limit, return_offsets_mapping=True)
        end = max(end for (_, end), sequence in zip(encoding["offset_mapping"], encoding.sequence_ids()) if sequence == 0)
        warnings.warn(
            f"a text has {length} tokens with its longest hypothesis but the model accepts at most {self.limit}; "
            f"it was cut to its first {end} characters in every pair",
            TruncationWarning,
            stacklevel=2,
        )
        return text[:end]

    def prepare(self, items: list[Query], target: Target) -> Prepared:
        hypotheses = [[self.hypothesis_template.format(label) for label in query.labels] for query in items]
        if self.windowed:
            premises = [query.text for query in items]
        else:
            premises = [self.fitted(query.text, texts) for query, texts in zip(items, hypotheses)]
        pairs = [(number, label) for number, query in enumerate(items) for label in range(len(query.labels))]
        texts, pair_texts = [premises[n] for n, _ in pairs], [hypotheses[n][k] for n, k in pairs]
        if self.windowed:
            windowed, inputs, baselines = self.encode_windows(texts, pair_texts, cut=0)
            encoding, owners = windowed.windows, windowed.items
        else:
            encoding, inputs, baselines = self.encode(texts, pair_texts)
            windowed, owners = None, list(range(len(pairs)))
        prediction = self.predict(inputs, baselines)
        if not self.include_hypothesis:
            kept = hypothesis_part(encoding).to(self.model.device)
            baselines = {key: torch.where(kept, inputs[key], value) for key, value in baselines.items()}
        chosen = [resolve_targets(target, dict(enumerate(query.labels)), range(len(query.labels))) for query in items]
        rows = [row for row, (n, k) in enumerate(pairs) if k in chosen[n]]
        groups = None if windowed is None else [windowed.of(row) for row in rows]
        kept_rows = rows if groups is None else [window.row for windows in groups for window in windows]
        targets = torch.tensor([[self.column(items[pairs[owners[row]][0]])] for row in kept_rows])
        problem = self.problem(
            {key: value[kept_rows] for key, value in inputs.items()},
            {key: value[kept_rows] for key, value in baselines.items()},
            targets,
            prediction.rows(kept_rows),
            {name: groups[kept_rows] for name, groups in self.features(encoding).items()},
        )
        per_query = [[i for i, row in enumerate(kept_rows) if pairs[owners[row]][0] == number] for number in range(len(items))]
        if groups is not None:
            groups = [[replace(window, row=kept_rows.index(window.row)) for window in windows] for windows in groups]
        scores = mean_by_owner(prediction.outputs, owners, len(pairs))
        whole = encoding if windowed is None else windowed.whole
        return Prepared(problem, Batch(items, premises, hypotheses, pairs, rows, whole, scores, groups), per_query)

    def converged(self, explanation: Explanation, tolerance: float) -> list[bool]:
        """Each label explained in windows converged where it did in every one of its windows (``details["windows"]``
        holds them by label, one target each)."""
        windows = explanation.details.get("windows")
        if not windows:
            return super().converged(explanation, tolerance)
        return [windows_converged(windows[target.label], 0, tolerance) for target in explanation.targets]

    def explanations(self, prepared: Prepared, attributions: Attributions) -> list[Explanation]:
        batch: Batch = prepared.context
        problem = prepared.problem
        if batch.windows is not None:
            problem, attributions, windows = self.merge_windows(problem, attributions, batch.windows, batch.encoding)
            details_of = dict(zip(batch.rows, windows))
        explanations = []
        for number, query in enumerate(batch.queries):
            own = [row for row, (n, _) in enumerate(batch.pairs) if n == number]
            column = self.column(query)
            independent = column == AGAINST_CONTRADICTION
            scores = batch.scores[own, column] if independent else torch.softmax(batch.scores[own, LOGIT], 0)
            ranking = sorted(range(len(query.labels)), key=lambda k: -float(scores[k]))
            positions, tokens, words = self.tokens_and_words(batch.encoding, own[0], batch.texts(own[0]))
            details: dict[str, Any] = {
                "hypotheses": dict(zip(query.labels, batch.hypotheses[number])),
                "entailment_label": self.model.config.id2label[self.entailment],
                "target_score": EXPLAINED[column],
            }
            if batch.windows is not None:
                details["windows"] = {query.labels[k]: details_of[own[k]] for k in ranking if own[k] in batch.rows}
            explanations.append(
                Explanation(
                    inputs={"text": query.text, "candidate_labels": list(query.labels)},
                    tokens=tokens[: hypothesis_start(batch.encoding, own[0], positions)],
                    words=[word for word in words if word.sequence == 0],
                    targets=[
                        self.label_target(batch, problem, attributions, own[k], details) for k in ranking if own[k] in batch.rows
                    ],
                    predicted_label=query.labels[ranking[0]],
                    probabilities={query.labels[k]: float(scores[k]) for k in ranking},
                    word_aggregation=self.word_aggregation,
                    details=details,
                )
            )
        return explanations

    def label_target(
        self, batch: Batch, problem: Problem, attributions: Attributions, row: int, details: dict[str, Any]
    ) -> TargetAttribution:
        """The target of the label whose pair is row ``row``; an included hypothesis's tokens and words go to ``details``."""
        number, k = batch.pairs[row]
        label = batch.queries[number].labels[k]
        positions, tokens, words = self.tokens_and_words(batch.encoding, row, batch.texts(row))
        (full,) = self.target_attributions(attributions, problem, batch.rows.index(row), positions, words, [label])
        shared, premise_words = hypothesis_start(batch.encoding, row, positions), sum(word.sequence == 0 for word in words)
        if not self.include_hypothesis:
            return full.prefix(shared, premise_words, index=k)
        details.setdefault("hypothesis_tokens", {})[label] = tokens[shared:]
        details.setdefault("hypothesis_words", {})[label] = [asdict(word) for word in words[premise_words:]]
        return replace(full, index=k)


@dataclass
class Batch:
    """A prepared batch: queries, their texts (cut to fit) and hypotheses, and which query and label each row is."""

    queries: list[Query]
    premises: list[str]
    hypotheses: list[list[str]]
    pairs: list[tuple[int, int]]
    """(query, label) of each encoded row."""
    rows: list[int]
    """The encoded rows the problem explains, in its order."""
    encoding: BatchEncoding
    """The pairs' encoding, whole when they were cut into windows."""
    scores: torch.Tensor
    """Each pair's ``scores``: the mean of its windows'."""
    windows: list[list[Window]] | None = None
    """With ``long_inputs="windows"``: the windows of each explained pair (``rows``), by problem row."""

    def texts(self, row: int) -> list[str]:
        """The text and the hypothesis of encoded row ``row``."""
        number, k = self.pairs[row]
        return [self.premises[number], self.hypotheses[number][k]]


def hypothesis_part(encoding: BatchEncoding) -> torch.Tensor:
    """Where each row's own part is, its hypothesis and the special tokens after it: ``[rows, seq]``."""
    starts = [encoding.sequence_ids(row).index(1) for row in range(len(encoding["input_ids"]))]
    return torch.arange(encoding["input_ids"].shape[1]) >= torch.tensor(starts).unsqueeze(1)


def hypothesis_start(encoding: BatchEncoding, row: int, positions: list[int]) -> int:
    """How many of the row's tokens come before its hypothesis: the text with its special tokens."""
    sequences = encoding.sequence_ids(row)
    return next(token for token, position in enumerate(positions) if sequences[position] == 1)


@hookimpl
def register_tasks(register):
    register(ZeroShotClassification)
