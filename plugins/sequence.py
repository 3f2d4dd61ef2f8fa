"""``sequence``: text classification, explained toward class probabilities."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Iterator, Literal

import torch
from transformers import AutoModelForSequenceClassification, BatchEncoding, PreTrainedModel, PreTrainedTokenizerBase

from attrix.backend import Attributions
from attrix.errors import InputError, UnknownNameError
from attrix.explanation import Explanation, TargetAttribution
from attrix.hookspecs import hookimpl
from attrix.problem import InputEmbedding, Problem
from attrix.targets import Target, resolve_targets
from attrix.task import Prepared, Task
from attrix.text import aggregate, check_fast_tokenizer, check_text, embeddings_module, encode, position_embeddings, token_limit, words_of

EMBEDDINGS = ("word", "position", "embeddings")
AGGREGATIONS = ("sum", "mean")
BASELINE_TOKENS = ("pad", "unk", "mask")


class SequenceClassification(Task):
    """Text classification: which words push a text toward a class (softmax, or sigmoid for one output)."""

    name = "sequence"
    heads = ("ForSequenceClassification",)
    auto_model = AutoModelForSequenceClassification

    def __init__(
        self,
        model: PreTrainedModel,
        processor: PreTrainedTokenizerBase,
        *,
        embedding: Literal["word", "position", "embeddings"] = "word",
        baseline: str | int = "pad",
        word_aggregation: Literal["sum", "mean"] = "sum",
    ) -> None:
        super().__init__(model, processor)
        self.tokenizer = check_fast_tokenizer(processor)
        self.embedding, self.baseline, self.word_aggregation = embedding, baseline, word_aggregation
        if word_aggregation not in AGGREGATIONS:
            raise UnknownNameError("word_aggregation", word_aggregation, AGGREGATIONS)
        self.layer = self._layer(embedding)
        self.baseline_id = self._baseline_id(baseline)
        self.limit = token_limit(model, processor)
        self.labels = {int(index): label for index, label in model.config.id2label.items()}

    def _layer(self, embedding: str) -> torch.nn.Module:
        if embedding == "word":
            return self.model.get_input_embeddings()
        if embedding == "embeddings":
            return embeddings_module(self.model)
        if embedding == "position":
            layer = position_embeddings(self.model)
            if layer is None:
                raise InputError(
                    f"{type(self.model).__name__} has no absolute position embeddings; "
                    f"use embedding='word' or embedding='embeddings'"
                )
            return layer
        raise UnknownNameError("embedding", embedding, EMBEDDINGS)

    def _baseline_id(self, baseline: str | int) -> int:
        if isinstance(baseline, int) and not isinstance(baseline, bool):
            if 0 <= baseline < len(self.tokenizer):
                return baseline
            raise InputError(f"baseline token id {baseline} is outside the vocabulary (0..{len(self.tokenizer) - 1})")
        if baseline not in BASELINE_TOKENS:
            raise UnknownNameError("baseline", baseline, [*BASELINE_TOKENS, "<token id>"])
        token_id = getattr(self.tokenizer, f"{baseline}_token_id")
        if token_id is None:
            raise InputError(f"the tokenizer has no {baseline} token; choose another baseline: {', '.join(BASELINE_TOKENS)} or a token id")
        return token_id

    def check(self, item: Any) -> str:
        return check_text(item)

    def length(self, item: str) -> int:
        return len(item)

    def probabilities(self, **inputs: torch.Tensor) -> torch.Tensor:
        """Class probabilities as the text-classification pipeline computes them: ``[batch, n_labels]``."""
        logits = self.model(**inputs).logits
        config = self.model.config
        if config.num_labels == 1 or config.problem_type == "multi_label_classification":
            return torch.sigmoid(logits)
        return torch.softmax(logits, dim=-1)

    def prepare(self, items: list[str], target: Target) -> Prepared:
        encoding = encode(self.tokenizer, items, None, self.limit)
        inputs = {key: encoding[key] for key in self.tokenizer.model_input_names if key in encoding}
        baselines = dict(inputs, input_ids=torch.where(encoding["special_tokens_mask"].bool(), inputs["input_ids"], self.baseline_id))
        with torch.no_grad(), self._recorded_positions(inputs) as positions:
            probabilities = self.probabilities(**inputs)
        if positions:
            inputs["position_ids"] = positions[0].expand_as(inputs["input_ids"]).clone()
            baselines["position_ids"] = torch.zeros_like(inputs["position_ids"])
        predicted = probabilities.argmax(-1).tolist()
        targets = torch.tensor([resolve_targets(target, self.labels, [row]) for row in predicted])
        problem = Problem(
            inputs=inputs,
            baselines=baselines,
            forward=self.probabilities,
            targets=targets,
            layer=self.layer,
            embedding=InputEmbedding("input_ids", "inputs_embeds", self.model.get_input_embeddings()),
        )
        return Prepared(problem, (items, encoding, probabilities))

    @contextmanager
    def _recorded_positions(self, inputs: dict[str, torch.Tensor]) -> Iterator[list[torch.Tensor]]:
        """The position ids the model computes for ``inputs``, when attributing at position embeddings."""
        seen: list[torch.Tensor] = []
        if self.embedding != "position":
            yield seen
            return
        handle = self.layer.register_forward_pre_hook(lambda module, args: seen.append(args[0]))
        try:
            yield seen
        finally:
            handle.remove()

    def explanations(self, prepared: Prepared, attributions: Attributions, method: str, settings: dict[str, Any]) -> list[Explanation]:
        texts, encoding, probabilities = prepared.context
        token_scores = attributions.values.flatten(3).sum(-1)
        return [
            self._explanation(row, text, encoding, probabilities[row], token_scores[row], attributions, prepared.problem, method, settings)
            for row, text in enumerate(texts)
        ]

    def _explanation(
        self,
        row: int,
        text: str,
        encoding: BatchEncoding,
        probabilities: torch.Tensor,
        token_scores: torch.Tensor,
        attributions: Attributions,
        problem: Problem,
        method: str,
        settings: dict[str, Any],
    ) -> Explanation:
        positions = encoding["attention_mask"][row].nonzero().flatten().tolist()
        words = words_of(encoding, row, positions, [text])
        targets = []
        for column, index in enumerate(problem.targets[row].tolist()):
            scores = token_scores[column, positions]
            targets.append(
                TargetAttribution(
                    label=self.labels[index],
                    index=index,
                    token_scores=scores.tolist(),
                    word_scores=aggregate(scores, words, self.word_aggregation),
                    score=float(attributions.scores[row, column]),
                    baseline_score=float(attributions.baseline_scores[row, column]),
                    delta=float(attributions.delta[row, column]),
                )
            )
        return Explanation(
            task=self.name,
            model=self.model_name,
            inputs={"text": text},
            tokens=self.tokenizer.convert_ids_to_tokens(encoding["input_ids"][row, positions].tolist()),
            words=words,
            targets=targets,
            predicted_label=self.labels[int(probabilities.argmax())],
            probabilities={self.labels[index]: float(p) for index, p in enumerate(probabilities.tolist())},
            method=method,
            settings={**settings, **self.settings()},
            word_aggregation=self.word_aggregation,
        )


@hookimpl
def register_tasks(register):
    register(SequenceClassification)
