"""``token``: token classification (NER), every explained token toward its label's probability, from one shared problem."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import replace
from typing import Annotated, Any

import torch
from annotated_types import Ge
from transformers import (
    AutoModelForTokenClassification,
    BatchEncoding,
    PreTrainedModel,
    PreTrainedTokenizerBase,
)

from attrix.contracts.backend import Attributions
from attrix.contracts.explanation import Explanation, TargetAttribution
from attrix.contracts.hookspecs import hookimpl
from attrix.contracts.inputs import TEXT
from attrix.contracts.targets import Target, resolve_targets
from attrix.contracts.task import Prepared
from attrix.errors import UnknownNameError
from attrix.plugins.entities import TokenLabel, group_entities
from attrix.text.task import TextTask
from attrix.text.windows import Window, most_central, placed_attributions

NO_ENTITY = "O"
"""The predicted label of a text in which no entity was found."""


class TokenClassification(TextTask):
    """Token classification (NER): which words make the model give each token its label (softmax per token).

    Every explained token is one target: ``position`` is its index in ``tokens``, ``index`` its output in the
    flattened ``[seq * num_labels]`` probabilities, ``label`` the label explained (the predicted one by default;
    ``target=`` names other labels, explained at every selected token). Special tokens are not explained unless
    ``special_tokens=True``; ``ignored_indexes`` (token indices) and ``ignored_labels`` (tokens predicted as one
    of them) leave more out. ``details["tokens"]`` holds each token's prediction and ``details["entities"]`` the
    pipeline's ``aggregation_strategy="simple"`` entities (``"O"`` left out), each with ``token_scores`` and
    ``word_scores``: the summed attributions of its explained tokens toward their own predicted labels (None when
    none of its tokens is explained). ``predicted_label`` is the most frequent entity group (the first on a tie),
    ``"O"`` when there is no entity.
    """

    name = "token"
    inputs = (TEXT,)
    heads = ("ForTokenClassification",)
    auto_model = AutoModelForTokenClassification

    def __init__(
        self,
        model: PreTrainedModel,
        processor: PreTrainedTokenizerBase,
        *,
        ignored_labels: Sequence[str] = (),
        ignored_indexes: Sequence[Annotated[int, Ge(0)]] = (),
        special_tokens: bool = False,
        **options: Any,
    ) -> None:
        super().__init__(model, processor, **options)
        self.ignored_labels = self._checked_labels(ignored_labels)
        self.ignored_indexes = sorted(ignored_indexes)
        self.special_tokens = special_tokens

    def _checked_labels(self, ignored: Sequence[str]) -> list[str]:
        """``ignored`` if each is a label of the model: what the model's config says, which no type hint can."""
        for label in ignored:
            if label not in self.labels.values():
                raise UnknownNameError("label", label, self.labels.values(), "in ignored_labels")
        return list(ignored)

    @property
    def labels(self) -> dict[int, str]:
        """Output index to label name, from the model's config."""
        return {int(index): label for index, label in self.model.config.id2label.items()}

    def scores(self, **inputs: torch.Tensor) -> torch.Tensor:
        """Each token's label probabilities, flattened: ``[batch, seq * num_labels]``."""
        return torch.softmax(self.model(**inputs).logits, dim=-1).flatten(1)

    def prepare(self, items: list[str], target: Target) -> Prepared:
        named = None if target is None else resolve_targets(target, self.labels, [])
        if self.windowed:
            return self._prepare_windows(items, named)
        encoding, inputs, baselines = self.encode(items)
        labels, batch, length = self.labels, len(items), inputs["input_ids"].shape[1]
        prediction = self.predict(inputs, baselines)
        probabilities = prediction.outputs.view(batch, length, len(labels))
        chosen = [self._chosen(encoding, row, probabilities[row].argmax(-1).tolist(), named) for row in range(batch)]
        targets = padded([[position * len(labels) + label for position, label in pairs] for pairs in chosen])
        return Prepared(
            self.problem(inputs, baselines, targets, prediction, self.features(encoding)),
            (items, encoding, probabilities, chosen, None),
        )

    def _prepare_windows(self, items: list[str], named: list[int] | None) -> Prepared:
        """``prepare`` for windows: each token takes its prediction, and is explained, in the window where it is most central."""
        windowed, inputs, baselines = self.encode_windows(items)
        n_labels, length = len(self.labels), inputs["input_ids"].shape[1]
        prediction = self.predict(inputs, baselines)
        window_probabilities = prediction.outputs.view(len(windowed.parts), length, n_labels)
        centres = [most_central(windowed, item) for item in range(len(items))]
        probabilities = window_probabilities.new_zeros(len(items), windowed.whole["input_ids"].shape[1], n_labels)
        for item, centre in enumerate(centres):
            for whole, (window, position) in centre.items():
                probabilities[item, whole] = window_probabilities[window.row, position]
        chosen = [
            self._chosen(windowed.whole, item, probabilities[item].argmax(-1).tolist(), named) for item in range(len(items))
        ]
        per_row: list[list[int]] = [[] for _ in windowed.parts]
        picks: list[list[tuple[int, int, Window]]] = [[] for _ in items]
        for item, pairs in enumerate(chosen):
            for whole, label in pairs:
                window, position = centres[item][whole]
                per_row[window.row].append(position * n_labels + label)
                picks[item].append((window.row, len(per_row[window.row]) - 1, window))
        problem = self.problem(inputs, baselines, padded(per_row), prediction, self.features(windowed.windows))
        rows = [[window.row for window in windowed.of(item)] for item in range(len(items))]
        return Prepared(problem, (items, windowed, probabilities, chosen, picks), rows)

    def _chosen(self, encoding: BatchEncoding, row: int, predicted: list[int], named: list[int] | None) -> list[tuple[int, int]]:
        """The (padded position, label index) pairs explained in row ``row``."""
        positions = encoding["attention_mask"][row].nonzero().flatten().tolist()
        special = encoding["special_tokens_mask"][row].tolist()
        chosen = []
        for token, position in enumerate(positions):
            if (special[position] and not self.special_tokens) or token in self.ignored_indexes:
                continue
            if self.labels[predicted[position]] in self.ignored_labels:
                continue
            chosen.extend((position, label) for label in (named if named is not None else [predicted[position]]))
        return chosen

    def explanations(self, prepared: Prepared, attributions: Attributions) -> list[Explanation]:
        texts, encoding, probabilities, chosen, picks = prepared.context
        problem, labels = prepared.problem, self.labels
        if picks is not None:
            length, encoding = encoding.whole["input_ids"].shape[1], encoding.whole
            attributions = placed_attributions(attributions, picks, length)
            whole_targets = [[position * len(labels) + label for position, label in pairs] for pairs in chosen]
            problem = replace(problem, targets=padded(whole_targets))
        explanations = []
        for row, text in enumerate(texts):
            positions, tokens, words = self.tokens_and_words(encoding, row, [text])
            explained = self.target_attributions(
                attributions, problem, row, positions, words, [labels[label] for _, label in chosen[row]]
            )
            for target, (position, _) in zip(explained, chosen[row]):
                target.position = positions.index(position)
            predictions = self._token_labels(encoding, row, positions, text, probabilities[row])
            entities = group_entities(predictions, self.tokenizer.convert_tokens_to_string)
            for entity in entities:
                entity.update(self._entity_scores(entity["tokens"], explained, predictions))
            groups = Counter(entity["entity_group"] for entity in entities).most_common(1)
            explanations.append(
                Explanation(
                    inputs={"text": text},
                    tokens=tokens,
                    words=words,
                    targets=explained,
                    predicted_label=groups[0][0] if groups else NO_ENTITY,
                    probabilities={},
                    word_aggregation=self.word_aggregation,
                    details={"tokens": [p.to_dict() for p in predictions], "entities": entities},
                )
            )
        return explanations

    def _token_labels(
        self, encoding: BatchEncoding, row: int, positions: list[int], text: str, probabilities: torch.Tensor
    ) -> list[TokenLabel]:
        """Each non-special token's predicted label and probability, with the word the pipeline shows for it."""
        ids, offsets = encoding["input_ids"][row].tolist(), encoding["offset_mapping"][row].tolist()
        special = encoding["special_tokens_mask"][row].tolist()
        predictions = []
        for token, position in enumerate(positions):
            if special[position]:
                continue
            start, end = offsets[position]
            unknown = ids[position] == self.tokenizer.unk_token_id
            score, label = probabilities[position].max(-1)
            predictions.append(
                TokenLabel(
                    index=token,
                    word=text[start:end] if unknown else self.tokenizer.convert_ids_to_tokens(ids[position]),
                    entity=self.labels[int(label)],
                    score=float(score),
                    start=start,
                    end=end,
                )
            )
        return predictions

    @staticmethod
    def _entity_scores(tokens: list[int], explained: list[TargetAttribution], predictions: list[TokenLabel]) -> dict[str, Any]:
        """An entity's token and word scores: the sum over its explained tokens, each toward its predicted label."""
        label_at = {prediction.index: prediction.entity for prediction in predictions}
        own = [target for target in explained if target.position in tokens and target.label == label_at[target.position]]
        if not own:
            return {"token_scores": None, "word_scores": None}
        return {
            "token_scores": [sum(scores) for scores in zip(*(target.token_scores for target in own))],
            "word_scores": [sum(scores) for scores in zip(*(target.word_scores for target in own))],
        }


def padded(rows: list[list[int]]) -> torch.Tensor:
    """Rows of target indices as one tensor, short rows padded with their first (or 0): padding is never read back."""
    width = max(1, *map(len, rows))
    return torch.tensor([row + [row[0] if row else 0] * (width - len(row)) for row in rows])


@hookimpl
def register_tasks(register):
    register(TokenClassification)
