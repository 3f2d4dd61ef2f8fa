"""``GenerationTask``: explaining a continuation of a prompt, every step from one teacher-forced sequence.

A causal model's output at step t depends on nothing after t, so one forward pass over prompt + continuation gives
every step's logits, and one integration path over the whole sequence serves every generated token as a target
(each target's backward pass reads only its own step). An encoder–decoder reads the source and the decoder prefix
the same way. The task's outputs are ``[batch, steps + 1]``: each step's score (``score``: log-probability by
default; with a ``contrast_text``, its difference between the target and the contrast token) and, last, their sum.
"""

from __future__ import annotations

import warnings
from abc import abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any

import torch
from annotated_types import Ge, Gt, Le
from transformers import PreTrainedModel, PreTrainedTokenizerBase

from attrix.contracts.backend import Attributions
from attrix.contracts.explanation import Explanation, GeneratedToken, Generation, TargetAttribution, Word
from attrix.contracts.inputs import InputField
from attrix.contracts.options import OptionError
from attrix.contracts.problem import Inputs, Prediction, tensors_to
from attrix.contracts.step_score import step_score
from attrix.contracts.targets import Target
from attrix.contracts.task import Prepared
from attrix.errors import InputError, InputTypeError
from attrix.integration.points import captured_output
from attrix.text.chat import Messages, check_messages, render_chat
from attrix.text.continuation import Span, decoded_spans, words_of_spans
from attrix.text.encoding import UNBOUNDED, TruncationWarning, aggregate, check_text, check_unicode
from attrix.text.features import position_groups
from attrix.text.task import TokenizedTask

PROMPT = InputField(
    "prompt", str | list, "the prompt: a string, or chat messages [{role, content}, ...]", "area", "The capital of France is"
)
TARGET_TEXT = InputField(
    "target_text", str, "a continuation to explain instead of generating one", "line", required=False
)
CONTRAST_TEXT = InputField(
    "contrast_text", str, "a continuation to contrast target_text with, step by step", "line", required=False
)
SEQUENCE = "sequence"
"""The target naming the whole continuation: the sum of its steps' scores."""
BASELINE_ORDER = ("unk", "pad", "eos")


@dataclass
class Request:
    """One input of a generation task: a prompt, and optionally the continuation to explain and one to contrast."""

    prompt: str | Messages
    target_text: str | None = None
    contrast_text: str | None = None

    def as_inputs(self) -> dict[str, Any]:
        """The input as an explanation records it."""
        given = {"target_text": self.target_text, "contrast_text": self.contrast_text}
        return {"prompt": self.prompt, **{key: value for key, value in given.items() if value is not None}}


@dataclass
class Segment:
    """Token ids with their character spans in ``text`` and whether each keeps its value in the baseline."""

    text: str
    ids: list[int]
    spans: list[Span]
    kept: list[bool]


@dataclass
class Layout:
    """One input laid out for the model: the segments (prompt, or source and decoder), the steps explained."""

    request: Request
    segments: list[Segment]
    continuation: Segment
    first_step: int
    """Where the continuation's first token sits in the joined token list."""
    contrast_ids: list[int] = field(default_factory=list)

    @property
    def steps(self) -> int:
        """How many steps are explained: the continuation's tokens (as far as the contrast's, given one)."""
        n = len(self.continuation.ids)
        return min(n, len(self.contrast_ids)) if self.request.contrast_text is not None else n


class GenerationTask(TokenizedTask):
    """Explains a continuation of a prompt, one target per generated token; see the module docstring.

    Options: ``max_new_tokens``, ``do_sample`` (greedy by default), ``temperature``, ``top_p``, ``seed``, ``stop``
    (strings that end the generation) shape the continuation when an input gives no ``target_text``; ``score``
    is what each step explains (``"logprob"``, ``"prob"``, ``"logit"``, or a plugin's registered step score);
    ``continuation_features=False`` keeps the
    earlier continuation tokens fixed in the baseline (as captum's ``LLMAttribution`` does) instead of attributing to
    them too; ``baseline`` is the token that replaces features (the first of unk, pad, eos the tokenizer has, by
    default). Targets: every step (``None`` or ``"all"``), step numbers (negative from the end), or ``"sequence"``.
    """

    inputs = (PROMPT, TARGET_TEXT, CONTRAST_TEXT)

    def __init__(
        self,
        model: PreTrainedModel,
        processor: PreTrainedTokenizerBase,
        *,
        max_new_tokens: Annotated[int, Ge(1)] = 20,
        do_sample: bool = False,
        temperature: Annotated[float, Gt(0)] = 1.0,
        top_p: Annotated[float, Gt(0), Le(1)] = 1.0,
        seed: Annotated[int, Ge(0)] = 0,
        stop: Sequence[str] = (),
        score: str = "logprob",
        continuation_features: bool = True,
        baseline: str | int | None = None,
        **options: Any,
    ) -> None:
        if baseline is None:
            baseline = next((name for name in BASELINE_ORDER if getattr(processor, f"{name}_token_id", None) is not None), 0)
        super().__init__(model, processor, baseline=baseline, **options)
        self.step_score = step_score(score)
        self.max_new_tokens, self.do_sample, self.temperature, self.top_p = max_new_tokens, do_sample, temperature, top_p
        self.seed, self.stop, self.score = seed, list(stop), score
        self.continuation_features = continuation_features
        self.limit = self.context_limit()

    @classmethod
    def validate_options(cls, options: Mapping[str, Any]) -> None:
        """``temperature`` and ``top_p`` shape sampling only."""
        for name in ("temperature", "top_p"):
            if name in options and not options.get("do_sample", False):
                raise OptionError(name, "given only with do_sample=True (greedy decoding ignores it)")

    def _baseline_id(self, baseline: str | int) -> int:
        if baseline == "eos":
            return self.tokenizer.eos_token_id
        return super()._baseline_id(baseline)

    def context_limit(self) -> int | None:
        """The most tokens the model reads at once, from its config and tokenizer."""
        limits = [getattr(self.model.config, "max_position_embeddings", None)]
        if self.tokenizer.model_max_length < UNBOUNDED:
            limits.append(int(self.tokenizer.model_max_length))
        known = [int(limit) for limit in limits if isinstance(limit, int) and limit > 0]
        return min(known) if known else None

    # inputs

    def check(self, item: Any) -> Request:
        if isinstance(item, Request):
            return item
        if isinstance(item, str):
            return Request(check_text(item, "the prompt"))
        if not isinstance(item, Mapping):
            raise InputTypeError(
                f"a generation input is a prompt string or an object with 'prompt' (and optionally 'target_text', "
                f"'contrast_text'), got {type(item).__name__} {item!r:.80}"
            )
        if set(item) == {"role", "content"}:
            raise InputError(
                "this looks like one chat message; chat messages go in {'prompt': [{'role': ..., 'content': ...}, ...]} "
                "(a list of inputs is a batch)"
            )
        values = dict(self.input_item(item))
        prompt = values["prompt"]
        prompt = check_text(prompt, "the prompt") if isinstance(prompt, str) else check_messages(prompt)
        target, contrast = values.get("target_text"), values.get("contrast_text")
        if target is not None:
            target = self._checked_continuation(target, "target_text")
        if contrast is not None:
            if target is None:
                raise InputError("contrast_text is explained against target_text: give target_text too")
            contrast = self._checked_continuation(contrast, "contrast_text")
        return Request(prompt, target, contrast)

    @classmethod
    def target_names(cls, values: Mapping[str, Any], labels: Sequence[str]) -> tuple[str, ...]:
        """What a UI can offer besides every step: the whole continuation."""
        return (SEQUENCE,)

    def _checked_continuation(self, value: Any, name: str) -> str:
        if not isinstance(value, str):
            raise InputTypeError(f"{name} must be a string, got {type(value).__name__} {value!r:.80}")
        if not self.continuation_ids(check_unicode(value, name)):
            raise InputError(f"{name} {value!r:.80} tokenizes to nothing; give some text to explain")
        return value

    def length(self, item: Request) -> int:
        prompt = item.prompt if isinstance(item.prompt, str) else " ".join(m["content"] for m in item.prompt)
        return len(prompt) + len(item.target_text or "")

    def prompt_segment(self, prompt: str | Messages, add_special_tokens: bool = True) -> Segment:
        """A prompt tokenized: a string as the tokenizer adds its special tokens, chat messages through the chat
        template (whose own tokens are kept in the baseline, as special tokens are)."""
        if isinstance(prompt, str):
            text, contents = prompt, None
        else:
            (text, contents), add_special_tokens = render_chat(self.tokenizer, prompt), False
        encoding = self.tokenizer(
            text, add_special_tokens=add_special_tokens, return_offsets_mapping=True, return_special_tokens_mask=True
        )
        spans = [tuple(span) for span in encoding["offset_mapping"]]
        kept = [bool(special) for special in encoding["special_tokens_mask"]]
        if contents is not None:
            kept = [keep or not any(start < end and a <= start and end <= b for a, b in contents) for keep, (start, end) in zip(kept, spans)]
        return Segment(text, list(encoding["input_ids"]), spans, kept)

    def continuation_ids(self, text: str) -> list[int]:
        """The token ids of a given continuation, as the model would write them after the prompt."""
        return list(self.tokenizer(text, add_special_tokens=False)["input_ids"])

    def continuation_segment(self, ids: list[int], context: list[int]) -> Segment:
        """Continuation ids with their text, decoded after ``context`` (the prompt's last token) so spaces are kept."""
        text, spans = decoded_spans(self.tokenizer, ids, context)
        special = set(self.tokenizer.all_special_ids)
        return Segment(text, ids, spans, [(token in special) or not self.continuation_features for token in ids])

    def fitted_prompt(self, prompt: Segment, new_tokens: int) -> Segment:
        """The prompt cut from the left so that it and ``new_tokens`` fit the model's context, with a warning."""
        if self.limit is None or len(prompt.ids) + new_tokens <= self.limit:
            return prompt
        room = self.limit - new_tokens
        if room < 1:
            raise InputError(
                f"{new_tokens} new tokens leave no room for the prompt: the model reads at most {self.limit} tokens; "
                f"lower max_new_tokens or shorten target_text"
            )
        warnings.warn(
            f"the prompt has {len(prompt.ids)} tokens and the continuation {new_tokens}, but the model reads at most "
            f"{self.limit}: the prompt was cut to its last {room} tokens",
            TruncationWarning,
            stacklevel=4,
        )
        cut = len(prompt.ids) - room
        start = prompt.spans[cut][0]
        spans = [(max(a - start, 0), max(b - start, 0)) for a, b in prompt.spans[cut:]]
        return Segment(prompt.text[start:], prompt.ids[cut:], spans, prompt.kept[cut:])

    def sequence(self, request: Request) -> Layout:
        """``request`` laid out for the model, its continuation generated unless given."""
        prompt = self.prompt_segment(request.prompt)
        if request.target_text is None:
            ids = self.generate(self.fitted_prompt(prompt, self.max_new_tokens))
        else:
            ids = self.continuation_ids(request.target_text)
        prompt = self.fitted_prompt(prompt, len(ids) + self.extra_tokens)
        contrast = [] if request.contrast_text is None else self.continuation_ids(request.contrast_text)
        return self.layout(request, prompt, ids, contrast)

    extra_tokens = 0
    """Tokens a layout adds besides the prompt and the continuation (an encoder–decoder's decoder start)."""

    def generation_options(self) -> dict[str, Any]:
        """The arguments ``generate`` takes from the task's options."""
        sampling = {"do_sample": True, "temperature": self.temperature, "top_p": self.top_p} if self.do_sample else {"do_sample": False}
        stops = {"stop_strings": self.stop, "tokenizer": self.tokenizer} if self.stop else {}
        return {"max_new_tokens": self.max_new_tokens, "pad_token_id": self.pad_id, **sampling, **stops}

    def generate(self, prompt: Segment) -> list[int]:
        """The continuation the model writes after ``prompt`` (ending tokens left out); an error when it is empty."""
        inputs = tensors_to(self.generation_inputs(prompt), self.model.device)
        with torch.no_grad(), torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.seed)
            output = self.model.generate(**inputs, **self.generation_options())
        ids = self.new_tokens(output[0].tolist(), prompt)
        ending = {self.tokenizer.eos_token_id, self.tokenizer.pad_token_id} - {None}
        while ids and ids[-1] in ending:
            ids.pop()
        if not ids:
            raise InputError(
                "the model ended its answer at once, so there is nothing to explain: give target_text= to explain a "
                "continuation of your choice"
            )
        return ids

    @abstractmethod
    def generation_inputs(self, prompt: Segment) -> Inputs:
        """What ``generate`` is called with for ``prompt``."""

    @abstractmethod
    def new_tokens(self, output: list[int], prompt: Segment) -> list[int]:
        """The tokens ``generate`` added to ``prompt`` in ``output``."""

    @abstractmethod
    def layout(self, request: Request, prompt: Segment, ids: list[int], contrast: list[int]) -> Layout:
        """``prompt`` and the continuation ``ids`` as segments the model reads."""

    @abstractmethod
    def logits(self, score_positions: torch.Tensor, **model_inputs: torch.Tensor) -> torch.Tensor:
        """The logits ``[batch, steps, vocab]`` at ``score_positions`` of the last segment."""

    # the model's scores

    def scores(
        self,
        *,
        score_positions: torch.Tensor,
        score_ids: torch.Tensor,
        score_mask: torch.Tensor,
        contrast_ids: torch.Tensor,
        **model_inputs: torch.Tensor,
    ) -> torch.Tensor:
        """Each step's score (minus the contrast token's where a row has one) and their sum, ``[batch, steps + 1]``."""
        return self.step_outputs(self.logits(score_positions, **model_inputs), score_ids, score_mask, contrast_ids)

    def step_outputs(
        self, logits: torch.Tensor, score_ids: torch.Tensor, score_mask: torch.Tensor, contrast_ids: torch.Tensor
    ) -> torch.Tensor:
        """The scores ``scores`` returns, from the step logits."""
        function = self.step_score
        contrasted = contrast_ids >= 0
        steps = function(logits, score_ids) - contrasted * function(logits, contrast_ids.clamp(min=0))
        steps = steps * score_mask
        return torch.cat([steps, steps.sum(1, keepdim=True)], 1)

    # problems

    def prepare(self, items: list[Request], target: Target) -> Prepared:
        sequences = [self.sequence(item) for item in items]
        inputs, baselines = self.batch(sequences)
        with torch.no_grad(), captured_output(self.layer, strict=False) as layer:
            logits = self.logits(inputs["score_positions"], **self.model_inputs(inputs))
            outputs = self.step_outputs(logits, inputs["score_ids"], inputs["score_mask"], inputs["contrast_ids"])
        probabilities = torch.softmax(logits.float(), -1)
        chosen = [self.chosen_steps(target, sequence.steps) for sequence in sequences]
        total = outputs.shape[1] - 1
        columns = [[total if step == -1 else step for step in steps] for steps in chosen]
        width = max(len(steps) for steps in columns)
        targets = torch.tensor([steps + [steps[0]] * (width - len(steps)) for steps in columns])
        prediction = Prediction(outputs, layer[0] if layer else None)
        words = [self.words(sequence) for sequence in sequences]
        problem = self.problem(inputs, baselines, targets, prediction, self.features(words, inputs))
        problem.targets_move_alike = False
        return Prepared(problem, (sequences, words, chosen, probabilities))

    @staticmethod
    def model_inputs(inputs: Inputs) -> Inputs:
        """``inputs`` without the keys that say what is scored."""
        return {key: value for key, value in inputs.items() if not key.startswith(("score_", "contrast_"))}

    def explained_target(self, explanation: Explanation) -> Target:
        """The steps ``explanation`` explains, by number, or ``"sequence"``."""
        if any(one.position is None for one in explanation.targets):
            return SEQUENCE
        return [one.index for one in explanation.targets]

    def chosen_steps(self, target: Target, steps: int) -> list[int]:
        """The steps ``target`` names for a continuation of ``steps`` steps; -1 for the whole continuation."""
        if target is None or target == "all":
            return list(range(steps))
        if target == SEQUENCE:
            return [-1]
        named = [target] if isinstance(target, (int, str)) else list(target)
        chosen = []
        for step in named:
            if isinstance(step, bool) or not isinstance(step, int):
                raise InputError(
                    f"a generation target is a step number, a list of them, 'all' or {SEQUENCE!r}, got {step!r:.60}"
                )
            if not -steps <= step < steps:
                raise InputError(f"step {step} is out of range: this continuation has {steps} steps (0..{steps - 1})")
            chosen.append(step % steps)
        return chosen

    def batch(self, sequences: list[Layout]) -> tuple[Inputs, Inputs]:
        """The padded model inputs of ``sequences`` (segment by segment, padded on the right) and their baseline."""
        rows = len(sequences)
        widths = [max(len(sequence.segments[k].ids) for sequence in sequences) for k in range(len(sequences[0].segments))]
        ids = torch.full((rows, sum(widths)), self.pad_id)
        mask = torch.zeros(rows, sum(widths), dtype=torch.long)
        kept = torch.ones(rows, sum(widths), dtype=torch.bool)
        steps = max(1, max(sequence.steps for sequence in sequences))
        score = {name: torch.zeros(rows, steps, dtype=torch.long) for name in ("score_positions", "score_ids", "score_mask")}
        contrast = torch.full((rows, steps), -1)
        for row, sequence in enumerate(sequences):
            offset = 0
            for segment, width in zip(sequence.segments, widths):
                span = slice(offset, offset + len(segment.ids))
                ids[row, span], mask[row, span] = torch.tensor(segment.ids), 1
                kept[row, span] = torch.tensor(segment.kept)
                offset += width
            n = sequence.steps
            last = len(sequence.segments[-1].ids) - len(sequence.continuation.ids)
            score["score_positions"][row, :n] = torch.arange(last - 1, last - 1 + n)
            score["score_ids"][row, :n] = torch.tensor(sequence.continuation.ids[:n])
            score["score_mask"][row, :n] = 1
            if sequence.request.contrast_text is not None:
                contrast[row, :n] = torch.tensor(sequence.contrast_ids[:n])
        inputs = {"input_ids": ids, "attention_mask": mask, **score, "contrast_ids": contrast, **self.extra_inputs(rows, widths)}
        baselines = dict(inputs, input_ids=torch.where(kept | (mask == 0), ids, self.baseline_id))
        return tensors_to(inputs, self.model.device), tensors_to(baselines, self.model.device)

    @property
    def pad_id(self) -> int:
        """The id padding is written with (never read: the attention mask hides it)."""
        return next(token for token in (self.tokenizer.pad_token_id, self.tokenizer.eos_token_id, 0) if token is not None)

    def extra_inputs(self, rows: int, widths: list[int]) -> Inputs:
        """Inputs a layout needs besides ids and mask, given the number of rows and the padded widths of its segments."""
        return {}

    def features(self, words: list[list[Word]], inputs: Inputs) -> Inputs:
        """Token, word and sentence features of the padded rows (kept tokens and padding are feature 0)."""
        keys: list[list[Any]] = []
        tokens: list[list[str]] = []
        for row, row_words in enumerate(words):
            positions = self.positions(inputs, row)
            row_keys: list[Any] = [None] * inputs["input_ids"].shape[1]
            for word_number, word in enumerate(row_words):
                for token in word.tokens:
                    row_keys[positions[token]] = (word.sequence, word_number)
            keys.append(row_keys)
            tokens.append(self.tokenizer.convert_ids_to_tokens(inputs["input_ids"][row].tolist()))
        return tensors_to(position_groups(keys, tokens), self.model.device)

    @staticmethod
    def positions(inputs: Inputs, row: int) -> list[int]:
        """The padded positions of row ``row``'s tokens, in order."""
        return inputs["attention_mask"][row].nonzero().flatten().tolist()

    def words(self, sequence: Layout) -> list[Word]:
        """The words of the prompt (sequence 0) and of the continuation (sequence 1), as token indices into the
        joined tokens; tokens kept in the baseline belong to no word."""
        words = []
        for number, (first, segment) in enumerate(self.word_segments(sequence)):
            free = [(first + index, span) for index, (span, keep) in enumerate(zip(segment.spans, segment.kept)) if not keep]
            words += words_of_spans(self.tokenizer, segment.text, [span for _, span in free], [t for t, _ in free], number)
        return words

    def word_segments(self, sequence: Layout) -> list[tuple[int, Segment]]:
        """The prompt's and the continuation's segments with the index of their first token in the joined tokens."""
        return [(0, sequence.segments[0]), (sequence.first_step, sequence.continuation)]

    # explanations

    def explanations(self, prepared: Prepared, attributions: Attributions) -> list[Explanation]:
        sequences, all_words, chosen, probabilities = prepared.context
        problem, explanations = prepared.problem, []
        for row, sequence in enumerate(sequences):
            positions = self.positions(problem.inputs, row)
            ids = problem.inputs["input_ids"][row, positions].tolist()
            words = all_words[row]
            steps = self.generated_tokens(sequence, probabilities[row])
            explained = self.step_attributions(attributions, row, positions, words, chosen[row], steps, sequence)
            explanations.append(
                Explanation(
                    inputs=sequence.request.as_inputs(),
                    tokens=self.tokenizer.convert_ids_to_tokens(ids),
                    words=words,
                    targets=explained,
                    predicted_label=sequence.continuation.text,
                    probabilities={},
                    word_aggregation=self.word_aggregation,
                    generation=Generation(
                        text=sequence.continuation.text,
                        prompt_length=len(sequence.segments[0].ids),
                        steps=steps,
                        forced=sequence.request.target_text is not None,
                        kept=[index for index, keep in enumerate(self.kept(sequence)) if keep],
                    ),
                )
            )
        return explanations

    @staticmethod
    def kept(sequence: Layout) -> list[bool]:
        """Whether each joined token keeps its value in the baseline."""
        return [keep for segment in sequence.segments for keep in segment.kept]

    def generated_tokens(self, sequence: Layout, probabilities: torch.Tensor) -> list[GeneratedToken]:
        """Each explained step's token, where it sits, and the model's probability of it (and of the contrast's)."""
        continuation, steps = sequence.continuation, []
        for step in range(sequence.steps):
            token_id = continuation.ids[step]
            start, end = continuation.spans[step]
            contrast = sequence.contrast_ids[step] if sequence.request.contrast_text is not None else None
            steps.append(
                GeneratedToken(
                    token=self.tokenizer.convert_ids_to_tokens(token_id),
                    text=continuation.text[start:end],
                    id=token_id,
                    position=sequence.first_step + step,
                    probability=float(probabilities[step, token_id]),
                    contrast=None if contrast is None else self.tokenizer.convert_ids_to_tokens(contrast),
                    contrast_probability=None if contrast is None else float(probabilities[step, contrast]),
                )
            )
        return steps

    def step_attributions(
        self,
        attributions: Attributions,
        row: int,
        positions: list[int],
        words: list[Any],
        chosen: list[int],
        steps: list[GeneratedToken],
        sequence: Layout,
    ) -> list[TargetAttribution]:
        """Row ``row``'s attributions toward each chosen step (or the whole continuation), per token and per word."""
        token_scores = attributions.values[row].flatten(2).sum(-1)
        explained = []
        for column, step in enumerate(chosen):
            scores = token_scores[column, positions]
            whole = step == -1
            explained.append(
                TargetAttribution(
                    label=sequence.continuation.text if whole else steps[step].text,
                    index=len(steps) if whole else step,
                    token_scores=scores.tolist(),
                    word_scores=aggregate(scores, words, self.word_aggregation),
                    score=float(attributions.scores[row, column]),
                    baseline_score=float(attributions.baseline_scores[row, column]),
                    delta=float(attributions.delta[row, column]),
                    position=None if whole else steps[step].position,
                )
            )
        return explained
