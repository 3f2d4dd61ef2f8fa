"""SQuAD answer-span decoding, as transformers' question-answering pipeline did it."""

from __future__ import annotations

import torch


def best_span(start: torch.Tensor, end: torch.Tensor, allowed: torch.Tensor, max_answer_len: int) -> tuple[int, int]:
    """The span (i, j) maximising ``start[i] + end[j]`` with both inside ``allowed``, j ≥ i and at most ``max_answer_len`` tokens.

    ``start``, ``end`` are one row's logits and ``allowed`` its boolean mask of context tokens (at least one); ties go to the
    smallest i, then the smallest j, as the pipeline's ``np.argmax`` over the span matrix.
    """
    index = torch.arange(start.shape[0], device=start.device)
    length = index[None, :] - index[:, None]
    valid = allowed[:, None] & allowed[None, :] & (length >= 0) & (length < max_answer_len)
    total = (start[:, None] + end[None, :]).masked_fill(~valid, float("-inf"))
    first, last = divmod(int(total.flatten().argmax()), start.shape[0])
    return first, last


def span_probabilities(
    start: torch.Tensor, end: torch.Tensor, normalised: torch.Tensor, first: int, last: int
) -> tuple[float, float]:
    """The start probability of ``first`` and the end probability of ``last``, softmax taken over the ``normalised`` tokens.

    The pipeline normalises over the context tokens and the [CLS] token (kept for unanswerable questions);
    its span score is the product of the two.
    """
    start_p = torch.softmax(start.masked_fill(~normalised, float("-inf")), dim=-1)
    end_p = torch.softmax(end.masked_fill(~normalised, float("-inf")), dim=-1)
    return float(start_p[first]), float(end_p[last])
