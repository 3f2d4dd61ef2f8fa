"""``sequence``: text classification, explained toward class probabilities."""

from __future__ import annotations

from typing import Any, ClassVar

import torch
from transformers import AutoModelForSequenceClassification, PretrainedConfig

from attrix.contracts.backend import Attributions
from attrix.contracts.explanation import Explanation
from attrix.contracts.hookspecs import hookimpl
from attrix.contracts.inputs import TEXT
from attrix.contracts.targets import Target, resolve_targets
from attrix.contracts.task import Prepared
from attrix.text.task import TextTask
from attrix.text.windows import mean_by_owner


class SequenceClassification(TextTask):
    """Text classification: which words push a text toward a class (softmax, or sigmoid for one output)."""

    name = "sequence"
    heads = ("ForSequenceClassification",)
    auto_model = AutoModelForSequenceClassification
    inputs = (TEXT,)

    @classmethod
    def auto_fits(cls, architecture: str, config: PretrainedConfig) -> bool:
        """Not for multi-label classifiers, which ``task="auto"`` gives the ``multilabel`` task."""
        return cls.accepts(architecture, config) and config.problem_type != "multi_label_classification"

    @property
    def labels(self) -> dict[int, str]:
        """Output index to label name, from the model's config."""
        return {int(index): label for index, label in self.model.config.id2label.items()}

    def scores(self, **inputs: torch.Tensor) -> torch.Tensor:
        return self.probabilities(**inputs)

    def probabilities(self, **inputs: torch.Tensor) -> torch.Tensor:
        """Class probabilities as the text-classification pipeline computes them: ``[batch, n_labels]``."""
        logits = self.model(**inputs).logits
        config = self.model.config
        if config.num_labels == 1 or config.problem_type == "multi_label_classification":
            return torch.sigmoid(logits)
        return torch.softmax(logits, dim=-1)

    def sequences(self, item: Any) -> tuple[str, ...]:
        """The texts of one input, one per encoded sequence, named by ``inputs``."""
        return (item,)

    def length(self, item: Any) -> int:
        """Its number of tokens, special ones included: what padding is counted in."""
        return len(self.tokenizer(*self.sequences(item))["input_ids"])

    cut: ClassVar[int] = 0
    """The sequence a long input is cut into windows along (``long_inputs="windows"``)."""

    def prepare(self, items: list[Any], target: Target) -> Prepared:
        sequences = list(zip(*map(self.sequences, items)))
        if self.windowed:
            windowed, inputs, baselines = self.encode_windows(*sequences, cut=self.cut)
            encoding, owners = windowed.windows, windowed.items
        else:
            encoding, inputs, baselines = self.encode(*sequences)
            windowed, owners = None, list(range(len(items)))
        prediction = self.predict(inputs, baselines)
        probabilities = mean_by_owner(prediction.outputs, owners, len(items))
        labels = self.labels
        chosen = torch.tensor([resolve_targets(target, labels, [row]) for row in probabilities.argmax(-1).tolist()])
        problem = self.problem(inputs, baselines, chosen[owners], prediction, self.features(encoding))
        rows = None if windowed is None else [[window.row for window in windowed.of(item)] for item in range(len(items))]
        return Prepared(problem, (items, windowed or encoding, probabilities), rows)

    def explanations(self, prepared: Prepared, attributions: Attributions) -> list[Explanation]:
        items, encoding, probabilities = prepared.context
        encoding, problem, attributions, details = self.read_back(prepared.problem, attributions, encoding)
        labels = self.labels
        explanations = []
        for row, item in enumerate(items):
            texts = self.sequences(item)
            positions, tokens, words = self.tokens_and_words(encoding, row, texts)
            explained = [labels[index] for index in problem.targets[row].tolist()]
            explanations.append(
                Explanation(
                    inputs=dict(zip(self.input_names(), texts)),
                    tokens=tokens,
                    words=words,
                    targets=self.target_attributions(attributions, problem, row, positions, words, explained),
                    predicted_label=labels[int(probabilities[row].argmax())],
                    probabilities={labels[index]: float(p) for index, p in enumerate(probabilities[row].tolist())},
                    word_aggregation=self.word_aggregation,
                    details=details[row],
                )
            )
        return explanations


@hookimpl
def register_tasks(register):
    register(SequenceClassification)
