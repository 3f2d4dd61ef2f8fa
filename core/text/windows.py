"""Texts longer than the model's limit, cut into overlapping windows of tokens and merged back onto the whole text."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
from transformers import BatchEncoding, PreTrainedTokenizerBase

from attrix.contracts.backend import Attributions, convergence_delta
from attrix.contracts.explanation import within_tolerance
from attrix.errors import AttrixError, InputError


@dataclass(frozen=True)
class Window:
    """One window: the input it belongs to, its row in the windows' encoding, and where its tokens sit in the whole text."""

    item: int
    row: int
    positions: list[int]
    """The window's unpadded positions in its own row."""
    whole_positions: list[int]
    """The position in the whole text's encoding of each of ``positions``."""
    weights: list[float]
    """Each position's weight when overlapping windows are merged: a taper that peaks at the window's centre."""
    centrality: list[int]
    """Each position's distance in tokens to the nearer edge of the window's cut sequence (0 outside it)."""

    def whole_of(self, position: int) -> int:
        """The whole-text position of the window's position ``position``."""
        return self.whole_positions[self.positions.index(position)]


@dataclass(frozen=True)
class Windowed:
    """A batch of texts as windows (the model's rows) and as wholes (what explanations show)."""

    windows: BatchEncoding
    whole: BatchEncoding
    parts: list[Window]

    def of(self, item: int) -> list[Window]:
        """The windows of input ``item``, in order."""
        return [window for window in self.parts if window.item == item]

    @property
    def n_items(self) -> int:
        """Number of inputs."""
        return int(self.whole["input_ids"].shape[0])

    @property
    def items(self) -> list[int]:
        """The input each window row belongs to."""
        return [window.item for window in self.parts]


def default_stride(room: int) -> int:
    """The overlap when none is given: a quarter of the tokens a window has for the cut text."""
    return room // 4


def encode_windows(
    tokenizer: PreTrainedTokenizerBase,
    texts: Sequence[str],
    pairs: Sequence[str] | None,
    limit: int,
    stride: int | None,
    cut: int,
) -> Windowed:
    """Encode each input as windows of at most ``limit`` tokens, cutting sequence ``cut`` (0: ``texts``, 1: ``pairs``)
    on token boundaries with ``stride`` tokens of overlap; an input that fits is one window."""
    arguments = (list(texts),) if pairs is None else (list(texts), list(pairs))
    whole = tokenizer(*arguments, padding=True, return_offsets_mapping=True, return_special_tokens_mask=True, return_tensors="pt")
    room = limit - max(
        int((whole["attention_mask"][row].bool() & (torch.tensor(sequence_ids(whole, row)) != cut)).sum())
        for row in range(len(texts))
    )
    if room < 2:
        raise InputError(
            f"the model accepts {limit} tokens and the rest of the input takes {limit - room} of them: "
            f"no room is left for windows of the text"
        )
    overlap = default_stride(room) if stride is None else stride
    if overlap >= room:
        raise InputError(f"stride={overlap} leaves windows no new tokens: with this model and input it must be below {room}")
    windows = tokenizer(
        *arguments,
        padding=True,
        truncation="only_first" if cut == 0 else "only_second",
        max_length=limit,
        stride=overlap,
        return_overflowing_tokens=True,
        return_offsets_mapping=True,
        return_special_tokens_mask=True,
        return_tensors="pt",
    )
    items = windows.pop("overflow_to_sample_mapping").tolist()
    return Windowed(windows, whole, place_windows(windows, whole, items, cut))


def sequence_ids(encoding: BatchEncoding, row: int) -> list[int]:
    """Row ``row``'s sequence id per position, -1 for special tokens and padding."""
    return [-1 if sequence is None else sequence for sequence in encoding.sequence_ids(row)]


def place_windows(windows: BatchEncoding, whole: BatchEncoding, items: list[int], cut: int) -> list[Window]:
    """Each window row's positions mapped onto its input's whole encoding, checked token by token."""
    parts, starts = [], {}
    for row, item in enumerate(items):
        positions = windows["attention_mask"][row].nonzero().flatten().tolist()
        own, theirs = sequence_ids(windows, row), sequence_ids(whole, item)
        whole_positions = whole["attention_mask"][item].nonzero().flatten().tolist()
        by_sequence = {sequence: [p for p in whole_positions if theirs[p] == sequence] for sequence in set(theirs)}
        cut_positions = [p for p in positions if own[p] == cut]
        starts[item] = find_start(windows, whole, row, item, cut_positions, by_sequence.get(cut, []), starts.get(item, 0))
        seen = {sequence: 0 for sequence in by_sequence}
        seen[cut] = starts[item]
        mapped = []
        for position in positions:
            mapped.append(by_sequence[own[position]][seen[own[position]]])
            seen[own[position]] += 1
        centrality = dict(zip(cut_positions, (min(index + 1, len(cut_positions) - index) for index in range(len(cut_positions)))))
        centres = [centrality.get(position, 0) for position in positions]
        weights = [float(centre) if own[position] == cut else 1.0 for position, centre in zip(positions, centres)]
        parts.append(Window(item, row, positions, mapped, weights, centres))
    return parts


def find_start(
    windows: BatchEncoding, whole: BatchEncoding, row: int, item: int, cut_positions: list[int], whole_cut: list[int], after: int
) -> int:
    """Where window row ``row``'s cut tokens begin among the whole text's: the first place from ``after`` where
    token ids and character offsets match."""
    run = list(zip(windows["input_ids"][row, cut_positions].tolist(), windows["offset_mapping"][row, cut_positions].tolist()))
    text = list(zip(whole["input_ids"][item, whole_cut].tolist(), whole["offset_mapping"][item, whole_cut].tolist()))
    for start in range(after, len(text) - len(run) + 1):
        if text[start : start + len(run)] == run:
            return start
    raise AttrixError("a window's tokens are not a run of the whole text's tokens; the tokenizer cut it differently")


def mean_by_owner(outputs: torch.Tensor, owners: Sequence[int], n_items: int) -> torch.Tensor:
    """Each input's outputs, ``[n_items, ...]``: the mean of its rows' (one row per window; ``owners[row]`` its input)."""
    index = torch.tensor(owners, device=outputs.device)
    total = outputs.new_zeros(n_items, *outputs.shape[1:]).index_add_(0, index, outputs)
    counts = torch.bincount(index, minlength=n_items).to(outputs.dtype)
    return total / counts.view(-1, *([1] * (outputs.dim() - 1)))


def merge(values: torch.Tensor, windows: list[Window], length: int) -> torch.Tensor:
    """Per-window token scores ``[rows, n_targets, seq]`` merged onto the whole text: ``[n_targets, length]``, each
    position the weighted mean of the windows that hold it (weights tapering toward each window's edges)."""
    total = values.new_zeros(values.shape[1], length)
    weight = values.new_zeros(length)
    for window in windows:
        weights = values.new_tensor(window.weights)
        total[:, window.whole_positions] += values[window.row][:, window.positions] * weights
        weight[window.whole_positions] += weights
    return total / weight.clamp_min(torch.finfo(values.dtype).tiny)


def merged_attributions(attributions: Attributions, groups: list[list[Window]], length: int) -> Attributions:
    """Window rows' attributions merged onto whole texts of ``length`` positions, one per group of windows (each
    window's ``row`` its problem row): ``[n_groups, n_targets, length, 1]``, each target's score and baseline score
    the mean of its windows', and the delta how far the merged scores' sum misses their difference (each window's
    own delta is in ``window_details``)."""
    tokens = token_values(attributions)
    rows = [[window.row for window in windows] for windows in groups]
    values = torch.stack([merge(tokens, windows, length) for windows in groups]).unsqueeze(-1)
    scores = torch.stack([attributions.scores[own].mean(0) for own in rows])
    baseline_scores = torch.stack([attributions.baseline_scores[own].mean(0) for own in rows])
    steps = None if attributions.steps is None else torch.stack([attributions.steps[own].amax(0) for own in rows])
    return Attributions(values, scores, baseline_scores, convergence_delta(values, scores, baseline_scores), steps)


def token_values(attributions: Attributions) -> torch.Tensor:
    """Attributions summed per token: ``[rows, n_targets, seq]``."""
    values = attributions.values
    return values.flatten(3).sum(-1) if values.dim() > 3 else values


def windows_converged(windows: list[dict[str, Any]], column: int, tolerance: float) -> bool:
    """Whether target ``column`` is complete within ``tolerance`` in every one of ``windows`` (``window_details``)."""
    return all(
        within_tolerance(window["deltas"][column], window["scores"][column], window["baseline_scores"][column], tolerance)
        for window in windows
    )


def window_details(attributions: Attributions, windows: list[Window], whole: BatchEncoding) -> list[dict[str, Any]]:
    """Each of one input's windows: the indices of the explanation's tokens it holds, and per target its score,
    baseline score, delta and token scores there, so that completeness can be checked window by window."""
    tokens = token_values(attributions)
    unpadded = whole["attention_mask"][windows[0].item].nonzero().flatten().tolist()
    index = {position: number for number, position in enumerate(unpadded)}
    return [
        {
            "tokens": [index[position] for position in window.whole_positions],
            "scores": attributions.scores[window.row].tolist(),
            "baseline_scores": attributions.baseline_scores[window.row].tolist(),
            "deltas": attributions.delta[window.row].tolist(),
            "token_scores": tokens[window.row][:, window.positions].tolist(),
        }
        for window in windows
    ]


def most_central(windowed: Windowed, item: int) -> dict[int, tuple[Window, int]]:
    """For each whole-text position of input ``item``, the window where it is most central and its position there
    (as the token-classification pipeline's stride logic picks each token's prediction)."""
    best: dict[int, tuple[Window, int, int]] = {}
    for window in windowed.of(item):
        for position, whole, centre in zip(window.positions, window.whole_positions, window.centrality):
            if whole not in best or centre > best[whole][2]:
                best[whole] = (window, position, centre)
    return {whole: (window, position) for whole, (window, position, _) in best.items()}


def placed_attributions(attributions: Attributions, picks: list[list[tuple[int, int, Window]]], length: int) -> Attributions:
    """Chosen targets of window rows placed on each input's whole text: ``picks[item]`` lists (problem row, target
    column, that row's window); each target keeps its window's scores and delta (tokens outside it score 0)."""
    tokens = token_values(attributions)
    width = max(1, *map(len, picks))
    values = tokens.new_zeros(len(picks), width, length)
    scores, baseline_scores, delta = (tokens.new_zeros(len(picks), width) for _ in range(3))
    for item, chosen in enumerate(picks):
        for column, (row, source, window) in enumerate(chosen):
            values[item, column, window.whole_positions] = tokens[row, source, window.positions]
            scores[item, column] = attributions.scores[row, source]
            baseline_scores[item, column] = attributions.baseline_scores[row, source]
            delta[item, column] = attributions.delta[row, source]
    return Attributions(values.unsqueeze(-1), scores, baseline_scores, delta)
