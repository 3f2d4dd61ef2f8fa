"""Removing text features by token id: a removed token replaced by one of the tokenizer's special tokens (mask, pad,
unk), or deleted from the sequence."""

from __future__ import annotations

from dataclasses import replace

import torch
from transformers import PreTrainedTokenizerBase

from attrix.contracts.problem import Inputs, Problem
from attrix.errors import InputError
from attrix.integration.removal import VALUES_PER_PASS, RemovalScorer, kept_elements
from attrix.text.task import BASELINE_TOKENS

POSITION_IDS = "position_ids"
"""Left out of a shortened sequence's inputs: the model numbers the positions that remain anew."""


def removal_token_id(tokenizer: PreTrainedTokenizerBase, name: str) -> int:
    """The id of the tokenizer's ``name`` token (``"mask"``, ``"pad"`` or ``"unk"``); an error names the ones it has."""
    token_id = getattr(tokenizer, f"{name}_token_id")
    if token_id is None:
        has = [token for token in BASELINE_TOKENS if getattr(tokenizer, f"{token}_token_id") is not None]
        named = ", ".join(repr(token) for token in has) if has else f"none of {', '.join(map(repr, BASELINE_TOKENS))}"
        raise InputError(
            f"removal={name!r} needs a {name} token, which the tokenizer does not have; it has {named} "
            "(choose one of them, or removal='baseline')"
        )
    return token_id


def with_removal_token(problem: Problem, ids: torch.Tensor, token_id: int) -> Problem:
    """``problem`` with a baseline holding ``token_id`` at every removable token (feature 1, 2, … of the grouping
    ``ids``; feature 0, the tokens the task's baseline keeps, stays as it is)."""
    source = problem.embedding.source
    baseline = problem.baselines[source]
    removable = ids.reshape(baseline.shape) != 0
    return replace(problem, baselines=dict(problem.baselines, **{source: baseline.masked_fill(removable, token_id)}))


class DeletionScorer(RemovalScorer):
    """Removes tokens by deleting them from the sequence: a variant is its row's remaining tokens packed together and
    padded to the longest variant of its pass (on the tokenizer's side, with its pad token), the attention mask and
    every other per-token input following, the positions numbered anew by the model. Variants are shared as
    ``RemovalScorer`` shares them, and run shortest first in passes of at most ``rows_per_pass`` and
    ``VALUES_PER_PASS`` that pad little (``snug_chunks``)."""

    def __init__(self, problem: Problem, ids: torch.Tensor, rows_per_pass: int, tokenizer: PreTrainedTokenizerBase) -> None:
        self.padding_side = tokenizer.padding_side
        self.pad_id = next(token for token in (tokenizer.pad_token_id, tokenizer.eos_token_id, 0) if token is not None)
        self.inputs = deletable_inputs(problem, tokenizer)
        check_positionless(problem, self.inputs, self.pad_id)
        super().__init__(problem, ids, rows_per_pass)

    def run(self, rows: torch.Tensor, kept: torch.Tensor) -> torch.Tensor:
        tokens = kept_elements(kept, self.ids[rows], self.first).flatten(1).bool()
        tokens &= self.inputs["attention_mask"][rows].bool()
        lengths, order = tokens.sum(1).sort(stable=True)
        outputs = []
        with torch.no_grad():
            for chunk in snug_chunks(lengths.tolist(), self.rows_per_pass, VALUES_PER_PASS // self.end.shape[-1]):
                chunk = order[chunk]
                inputs = {key: tensor[rows[chunk]] for key, tensor in self.inputs.items()}
                outputs.append(self.problem.forward(**packed(inputs, tokens[chunk], self.pad_id, self.padding_side)))
        ran = torch.cat(outputs)
        return ran.new_empty(ran.shape).index_copy_(0, order, ran)


PADDING_SLACK = 0.1
"""The share of a pass's token slots that may be padding before the pass is closed."""


def snug_chunks(lengths: list[int], rows_per_pass: int, slots: int) -> list[slice]:
    """Consecutive passes over rows sorted by length (ascending): each at most ``rows_per_pass`` rows and ``slots``
    token slots (or one row), closed before padding every row to the next one's length would waste more than
    ``PADDING_SLACK`` of its slots."""
    chunks, start, tokens = [], 0, 0
    for end, length in enumerate(lengths):
        rows = end - start + 1
        padded = rows * length
        if rows > 1 and (rows > rows_per_pass or padded > slots or padded > (1 + PADDING_SLACK) * (tokens + length)):
            chunks.append(slice(start, end))
            start, tokens = end, 0
        tokens += length
    if start < len(lengths):
        chunks.append(slice(start, len(lengths)))
    return chunks


def deletable_inputs(problem: Problem, tokenizer: PreTrainedTokenizerBase) -> Inputs:
    """The problem's model inputs without position ids, once checked to be all per token (the tokenizer's own
    inputs, an attention mask among them); an error names the others."""
    inputs = {key: tensor for key, tensor in problem.inputs.items() if key != POSITION_IDS}
    others = [key for key in inputs if key not in tokenizer.model_input_names]
    if others or "attention_mask" not in inputs:
        raise InputError(
            "removal='delete' shortens the token inputs, which this task's model inputs are not all: "
            f"{', '.join(others) or 'no attention_mask'}; choose removal='baseline' (or a replacing token)"
        )
    return inputs


def check_positionless(problem: Problem, inputs: Inputs, pad_id: int) -> None:
    """An error when the task's outputs follow token positions (a span's start, a token's label), which deleting
    tokens would shift: seen as outputs that change in number when one padding position is added."""
    row = {key: tensor[:1] for key, tensor in inputs.items()}
    longer = {key: torch.cat([tensor, torch.full_like(tensor[:, :1], pad_value(key, pad_id))], 1) for key, tensor in row.items()}
    with torch.no_grad():
        widths = problem.forward(**row).shape[1], problem.forward(**longer).shape[1]
    if widths[0] != widths[1]:
        raise InputError(
            "removal='delete' shifts the tokens that remain, and this task's outputs follow token positions; "
            "choose removal='baseline' or a replacing token ('mask', 'pad', 'unk')"
        )


def pad_value(key: str, pad_id: int) -> int:
    """What pads model input ``key``: the pad token for the input ids, 0 for the rest (the attention mask among them)."""
    return pad_id if key == "input_ids" else 0


def packed(inputs: Inputs, tokens: torch.Tensor, pad_id: int, side: str) -> Inputs:
    """Each row of ``inputs`` keeping only its ``tokens`` (``[n, seq]``, bool), in order, padded on ``side`` to the
    longest (at least one position), as ``pad_value`` says."""
    lengths = tokens.sum(1, keepdim=True)
    width = max(int(lengths.max()), 1)
    slots = torch.arange(width, device=tokens.device).unsqueeze(0)
    filled = slots >= width - lengths if side == "left" else slots < lengths
    shortened = {}
    for key, tensor in inputs.items():
        value = tensor.new_full((len(tensor), width), pad_value(key, pad_id))
        value[filled] = tensor[tokens]
        shortened[key] = value
    return shortened
