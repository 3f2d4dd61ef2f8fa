"""Hostile prompts, chats and continuations: a generation task gives complete explanations or a clear attrix error."""

from __future__ import annotations

import functools
import math
import warnings

import pytest
from hypothesis import event, example, given
from hypothesis import strategies as st

import attrix
from attrix.errors import AttrixError
from helpers.fuzzing import PROFILE, texts
from helpers.tiny_lms import build_lm


@functools.cache
def explainer_for(arch: str) -> attrix.Explainer:
    """A tiny language model explaining with few steps and short continuations (shared, never mutated)."""
    return attrix.Explainer(*build_lm(arch), n_steps=4, max_new_tokens=3)


messages = st.lists(st.fixed_dictionaries({"role": st.sampled_from(["user", "system", "assistant"]), "content": texts}), max_size=3)
items = st.one_of(
    texts,
    st.fixed_dictionaries({"prompt": st.one_of(texts, messages)}, optional={"target_text": texts, "contrast_text": texts}),
)


@pytest.mark.slow
@PROFILE
@given(arch=st.sampled_from(["gpt2", "llama", "t5", "bart"]), item=items)
@example(arch="gpt2", item={"prompt": "the food " * 40, "target_text": " good " * 5})
@example(arch="llama", item={"prompt": [{"role": "user", "content": "\x00"}], "target_text": "\u200d"})
@example(arch="t5", item={"prompt": "the food was awful", "target_text": " good", "contrast_text": " bad film"})
def test_any_prompt_gives_complete_explanations_or_an_attrix_error(arch, item):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # long prompts are cut with a warning
            explanation = explainer_for(arch)(item)
    except AttrixError as error:
        event(f"{arch}: refused ({type(error).__name__})")
        return
    event(f"{arch}: explained")
    assert len(explanation.targets) == len(explanation.generation.steps) > 0
    for target, step in zip(explanation.targets, explanation.generation.steps):
        assert len(target.token_scores) == len(explanation.tokens) and target.position == step.position
        assert all(math.isfinite(score) for score in target.token_scores)
        assert target.total == pytest.approx(target.score - target.baseline_score + target.delta, abs=1e-4)
    assert attrix.Explanation.from_json(explanation.to_json()) == explanation
