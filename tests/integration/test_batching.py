"""Inputs batched by length: every input once, batches no larger than asked, and padding within the allowance."""

from __future__ import annotations

import random

import pytest

import attrix
from attrix.integration.batching import PADDING_ALLOWANCE, length_batches
from helpers.tiny_models import build


def _padding_share(lengths: list[int], batch: list[int]) -> float:
    real = sum(lengths[index] for index in batch)
    return len(batch) * max(lengths[index] for index in batch) / real - 1


@pytest.mark.parametrize("seed", range(5))
def test_batches_hold_every_input_once_shortest_first_within_the_allowance(seed):
    rng = random.Random(seed)
    lengths = [rng.randint(5, 60) for _ in range(200)]
    batches = length_batches(lengths, batch_size=16)
    assert sorted(index for batch in batches for index in batch) == list(range(len(lengths)))
    assert all(1 <= len(batch) <= 16 for batch in batches)
    order = [lengths[index] for batch in batches for index in batch]
    assert order == sorted(order)
    assert all(_padding_share(lengths, batch) <= PADDING_ALLOWANCE + 1e-12 for batch in batches)


def test_equal_lengths_fill_batches_and_distant_ones_are_kept_apart():
    assert length_batches([12] * 7, batch_size=3) == [[0, 1, 2], [3, 4, 5], [6]]
    assert length_batches([40, 8, 41, 10], batch_size=4) == [[1], [3], [0, 2]]
    assert length_batches([40, 8, 41, 9], batch_size=4) == [[1, 3], [0, 2]]  # 18 tokens padded from 17: 6%


def test_inputs_of_no_length_are_batched_by_size_only():
    assert length_batches([0] * 5, batch_size=2) == [[0, 1], [2, 3], [4]]


def test_explainer_batches_equal_lengths_together_without_padding_and_keeps_the_input_order():
    model, tokenizer = build("bert", seed=1)
    texts = ["the food was awful", "a very boring plot and bad acting , really , from start to end", "the food was bad"]
    lengths = [len(tokenizer(text)["input_ids"]) for text in texts]
    assert lengths[0] == lengths[2] < lengths[1] / (1 + PADDING_ALLOWANCE)
    explainer = attrix.Explainer(model, tokenizer, n_steps=4, batch_size=8)
    masks = []
    hook = model.register_forward_pre_hook(lambda _, args, kwargs: masks.append(kwargs["attention_mask"]), with_kwargs=True)
    try:
        explanations = explainer(texts)
    finally:
        hook.remove()
    assert [explanation.inputs["text"] for explanation in explanations] == texts
    assert all(bool(mask.all()) for mask in masks)  # no pass saw padding
    assert {mask.shape[1] for mask in masks} == {lengths[0], lengths[1]}
    assert any(mask.shape[0] == 2 for mask in masks if mask.shape[1] == lengths[0])  # the two short texts together
