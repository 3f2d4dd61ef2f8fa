"""``TextTask``: what every text task shares — tokenizer, attributed embedding layer, baseline, words."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import replace
from typing import Annotated, Any, Literal

import torch
from annotated_types import Ge
from transformers import BatchEncoding, PreTrainedModel, PreTrainedTokenizerBase

from attrix.contracts.backend import Attributions
from attrix.contracts.explanation import Explanation, TargetAttribution, Word
from attrix.contracts.options import OptionError
from attrix.contracts.problem import (
    InputEmbedding,
    Inputs,
    Prediction,
    Problem,
    tensors_to,
)
from attrix.contracts.task import Task
from attrix.errors import InputError, UnknownNameError
from attrix.integration.points import captured_output
from attrix.text.encoding import (
    TokenEmbedding,
    aggregate,
    check_fast_tokenizer,
    check_text,
    embeddings_module,
    encode,
    encoding_through,
    position_embeddings,
    token_limit,
    words_of,
)
from attrix.text.features import feature_groups
from attrix.text.windows import (
    Window,
    Windowed,
    encode_windows,
    merged_attributions,
    window_details,
    windows_converged,
)

BASELINE_TOKENS = ("pad", "unk", "mask")
MIN_WINDOW_LENGTH = 8
"""The shortest ``window_length``: room for the special tokens and a few of the text's."""
WINDOW_OPTIONS = {"stride": "how much windows overlap", "window_length": "how many tokens a window holds"}


class TokenizedTask(Task):
    """A task over tokenized text: a fast tokenizer, the token embedding attributed at, the ``baseline`` token that
    replaces every token the baseline does not keep, and ``word_aggregation`` (how token scores make a word's)."""

    def __init__(
        self,
        model: PreTrainedModel,
        processor: PreTrainedTokenizerBase,
        *,
        baseline: str | int = "pad",
        word_aggregation: Literal["sum", "mean"] = "sum",
    ) -> None:
        super().__init__(model, processor)
        self.tokenizer = check_fast_tokenizer(processor)
        self.baseline, self.word_aggregation = baseline, word_aggregation
        self.baseline_id = self._baseline_id(baseline)

    def _baseline_id(self, baseline: str | int) -> int:
        if isinstance(baseline, int) and not isinstance(baseline, bool):
            if 0 <= baseline < len(self.tokenizer):
                return baseline
            raise InputError(f"baseline token id {baseline} is outside the vocabulary (0..{len(self.tokenizer) - 1})")
        if baseline not in BASELINE_TOKENS:
            raise UnknownNameError("baseline", baseline, [*BASELINE_TOKENS, "<token id>"])
        token_id = getattr(self.tokenizer, f"{baseline}_token_id")
        if token_id is None:
            raise InputError(
                f"the tokenizer has no {baseline} token; choose another baseline: {', '.join(BASELINE_TOKENS)} or a token id"
            )
        return token_id

    @abstractmethod
    def scores(self, **inputs: torch.Tensor) -> torch.Tensor:
        """The model's scores for ``inputs``, ``[batch, n_outputs]``: what targets index into."""

    def forward(self, **inputs: torch.Tensor) -> torch.Tensor:
        """The scores as backends call them (a task that routes its embeddings specially says how)."""
        return self.scores(**inputs)

    def problem(
        self,
        inputs: Inputs,
        baselines: Inputs,
        targets: torch.Tensor,
        prediction: Prediction | None = None,
        features: Inputs | None = None,
    ) -> Problem:
        """The problem of explaining ``targets`` (``[batch, n_targets]`` indices into ``scores``); ``prediction``
        is ``predict``'s result for these inputs, if the task has it; ``features`` their ``features()``."""
        return Problem(
            inputs=inputs,
            baselines=baselines,
            forward=self.forward,
            targets=targets.to(self.model.device),
            layer=self.layer,
            embedding=InputEmbedding("input_ids", "inputs_embeds", self.token_embedding),
            prediction=prediction,
            features=features or {},
        )

    @property
    def layer(self) -> torch.nn.Module:
        """The layer ``layer_ig`` attributes at: the model's token embedding."""
        return self.model.get_input_embeddings()

    @property
    def token_embedding(self) -> torch.nn.Module:
        """What turns input ids into the model's continuous input (``inputs_embeds``)."""
        return self.model.get_input_embeddings()

    def target_attributions(
        self,
        attributions: Attributions,
        problem: Problem,
        row: int,
        positions: list[int],
        words: list[Word],
        labels: Sequence[str],
    ) -> list[TargetAttribution]:
        """Row ``row``'s attributions toward each of its targets, per token and per word; ``labels`` names them."""
        token_scores = attributions.values[row].flatten(2).sum(-1)
        explained = []
        for column, (index, label) in enumerate(zip(problem.targets[row].tolist(), labels)):
            scores = token_scores[column, positions]
            explained.append(
                TargetAttribution(
                    label=label,
                    index=index,
                    token_scores=scores.tolist(),
                    word_scores=aggregate(scores, words, self.word_aggregation),
                    score=float(attributions.scores[row, column]),
                    baseline_score=float(attributions.baseline_scores[row, column]),
                    delta=float(attributions.delta[row, column]),
                )
            )
        return explained


class TextTask(TokenizedTask):
    """A task over text: options ``embedding`` (the layer ``layer_ig`` attributes at), ``baseline``,
    ``word_aggregation``, and what to do with a text longer than the model accepts: ``long_inputs="truncate"``
    (explain its beginning, with a warning) or ``"windows"`` (explain all of it in windows of ``window_length``
    tokens, the model's length by default, overlapping by ``stride`` tokens, a quarter of a window by default;
    attrix.text.windows)."""

    def __init__(
        self,
        model: PreTrainedModel,
        processor: PreTrainedTokenizerBase,
        *,
        embedding: Literal["word", "position", "embeddings"] = "word",
        long_inputs: Literal["truncate", "windows"] = "truncate",
        stride: Annotated[int, Ge(0)] | None = None,
        window_length: Annotated[int, Ge(MIN_WINDOW_LENGTH)] | None = None,
        **options: Any,
    ) -> None:
        super().__init__(model, processor, **options)
        self.long_inputs, self.stride, self.window_length = long_inputs, stride, window_length
        self.embedding = embedding
        self._layer = self._embedding_layer(embedding)
        self.limit = token_limit(model, processor)
        if window_length is not None and self.limit is not None and window_length > self.limit:
            raise OptionError("window_length", f"at most {self.limit} tokens, the most {type(model).__name__} accepts")

    @classmethod
    def validate_options(cls, options: Mapping[str, Any]) -> None:
        """``stride`` and ``window_length`` only with ``long_inputs="windows"``, which they shape."""
        for option, shapes in WINDOW_OPTIONS.items():
            if options.get(option) is not None and options.get("long_inputs", "truncate") != "windows":
                raise OptionError(option, f"given only with long_inputs='windows' (it sets {shapes})")

    def settings(self) -> dict[str, Any]:
        """The options in force; ``stride`` and ``window_length`` only with windows, which they shape."""
        settings = super().settings()
        if self.long_inputs != "windows":
            for option in WINDOW_OPTIONS:
                del settings[option]
        return settings

    def converged(self, explanation: Explanation, tolerance: float) -> list[bool]:
        """Merged from windows, a target converged where it did in every window (the merged scores are means, which
        its attributions need not sum to); otherwise by its own delta."""
        windows = explanation.details.get("windows")
        if not windows:
            return super().converged(explanation, tolerance)
        return [windows_converged(windows, column, tolerance) for column in range(len(explanation.targets))]

    @property
    def layer(self) -> torch.nn.Module:
        """The layer ``layer_ig`` attributes at, as ``embedding`` names it."""
        return self._layer

    def _embedding_layer(self, embedding: str) -> torch.nn.Module:
        """The layer ``embedding`` names (one of the values its hint lists, which ``create`` checked)."""
        if self.model.config.is_encoder_decoder:
            if embedding != "word":
                raise InputError(
                    f"{type(self.model).__name__} is an encoder–decoder model: it is explained at its encoder's "
                    f"token embeddings, embedding='word'"
                )
            return TokenEmbedding(self.model.get_encoder().get_input_embeddings())
        if embedding == "word":
            return self.model.get_input_embeddings()
        if embedding == "embeddings":
            return embeddings_module(self.model)
        layer = position_embeddings(self.model)
        if layer is None:
            raise InputError(
                f"{type(self.model).__name__} has no absolute position embeddings; use embedding='word' or embedding='embeddings'"
            )
        return layer

    def check(self, item: Any) -> Any:
        return check_text(item)

    def length(self, item: Any) -> int:
        return len(item)

    def forward(self, **inputs: torch.Tensor) -> torch.Tensor:
        """``scores`` with the encoder of an encoder–decoder model embedding its tokens through ``self.layer``."""
        if not isinstance(self.layer, TokenEmbedding):
            return self.scores(**inputs)
        with encoding_through(self.model, self.layer):
            return self.scores(**inputs)

    def encode(
        self, texts: Sequence[str], pairs: Sequence[str] | None = None, truncation: str = "longest_first"
    ) -> tuple[BatchEncoding, Inputs, Inputs]:
        """The encoding of a batch, the model inputs it gives and their baseline (special tokens kept, the rest
        replaced); the inputs and baselines are on the model's device, the encoding stays on the CPU."""
        encoding = encode(self.tokenizer, texts, pairs, self.limit, truncation)
        return encoding, *self.model_inputs(encoding)

    def model_inputs(self, encoding: BatchEncoding) -> tuple[Inputs, Inputs]:
        """The model inputs an encoding gives and their baseline (special tokens kept, the rest replaced), on the model's device."""
        inputs = {key: encoding[key] for key in self.tokenizer.model_input_names if key in encoding}
        kept = encoding["special_tokens_mask"].bool()
        baselines = dict(inputs, input_ids=torch.where(kept, inputs["input_ids"], self.baseline_id))
        return tensors_to(inputs, self.model.device), tensors_to(baselines, self.model.device)

    @property
    def windowed(self) -> bool:
        """Whether long texts are explained in windows (when their length is known)."""
        return self.long_inputs == "windows" and self.window_limit is not None

    @property
    def window_limit(self) -> int | None:
        """The most tokens a window holds: ``window_length``, else the model's limit."""
        return self.window_length or self.limit

    def encode_windows(
        self, texts: Sequence[str], pairs: Sequence[str] | None = None, cut: int = 0
    ) -> tuple[Windowed, Inputs, Inputs]:
        """A batch as windows cut from sequence ``cut`` (one row each), the model inputs they give and their baseline."""
        windowed = encode_windows(self.tokenizer, texts, pairs, self.window_limit, self.stride, cut)
        return windowed, *self.model_inputs(windowed.windows)

    def predict(self, inputs: Inputs, baselines: Inputs) -> Prediction:
        """The scores for ``inputs`` without gradients, with the attributed layer's output in that pass, which
        backends reuse; with ``embedding="position"``, fixes the position ids instead (the layer then ran on others)."""
        with torch.no_grad(), self._recorded_positions() as positions, captured_output(self.layer, strict=False) as layer:
            scores = self.forward(**inputs)
        if positions:
            inputs["position_ids"] = positions[0].expand_as(inputs["input_ids"]).clone()
            baselines["position_ids"] = torch.zeros_like(inputs["position_ids"])
        return Prediction(scores, layer[0] if layer and not positions else None)

    @contextmanager
    def _recorded_positions(self) -> Iterator[list[torch.Tensor]]:
        """The position ids the model computes itself, recorded when attributing at position embeddings."""
        seen: list[torch.Tensor] = []
        if self.embedding != "position":
            yield seen
            return
        handle = self.layer.register_forward_pre_hook(lambda module, args: seen.append(args[0]))
        try:
            yield seen
        finally:
            handle.remove()

    def read_back(
        self, problem: Problem, attributions: Attributions, encoding: BatchEncoding | Windowed
    ) -> tuple[BatchEncoding, Problem, Attributions, list[dict[str, Any]]]:
        """What explanations are read from, one row per input: the encoding, the problem's targets and the
        attributions, merged onto whole texts from their windows, and each input's details (its windows)."""
        if not isinstance(encoding, Windowed):
            return encoding, problem, attributions, [{} for _ in range(problem.batch_size)]
        problem, merged, windows = self.merge_windows(
            problem, attributions, [encoding.of(item) for item in range(encoding.n_items)], encoding.whole
        )
        return encoding.whole, problem, merged, [{"windows": own} for own in windows]

    def merge_windows(
        self, problem: Problem, attributions: Attributions, groups: list[list[Window]], whole: BatchEncoding
    ) -> tuple[Problem, Attributions, list[list[dict[str, Any]]]]:
        """Window rows merged onto whole texts, one per group of windows (attrix.text.windows): the problem's targets
        and the attributions of each group, and each group's windows as ``details`` records them."""
        details = [window_details(attributions, windows, whole) for windows in groups]
        merged = merged_attributions(attributions, groups, whole["input_ids"].shape[1])
        return replace(problem, targets=problem.targets[[windows[0].row for windows in groups]]), merged, details

    def features(self, encoding: BatchEncoding) -> Inputs:
        """The encoded rows' token, word and sentence features (attrix.text.features), on the model's device."""
        return tensors_to(feature_groups(encoding, self.tokenizer), self.model.device)

    def tokens_and_words(
        self, encoding: BatchEncoding, row: int, texts: Sequence[str]
    ) -> tuple[list[int], list[str], list[Word]]:
        """Row ``row``'s unpadded positions, its tokens and its words (``texts`` holds one string per sequence)."""
        positions = encoding["attention_mask"][row].nonzero().flatten().tolist()
        tokens = self.tokenizer.convert_ids_to_tokens(encoding["input_ids"][row, positions].tolist())
        return positions, tokens, words_of(encoding, row, positions, texts)
