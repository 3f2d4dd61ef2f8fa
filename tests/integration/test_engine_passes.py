"""Forward passes the engine runs: the prediction reused for f(x), one pass for f(baseline) (none with adaptive
steps, whose first points give it), the path shared by targets."""

from __future__ import annotations

from dataclasses import replace

import pytest
import torch

import attrix
from helpers.tiny_models import build
from helpers.tiny_nli import spread

TEXTS = ["i love this movie it is great", "the food was awful"]


@pytest.fixture(scope="module")
def tiny():
    model, tokenizer = build("bert", num_labels=3, seed=6)
    spread(model, 0.3, seed=6)
    return model.double(), tokenizer


def passes(model, call) -> list[int]:
    """The batch size of every forward pass of ``model`` while ``call`` runs."""
    rows: list[int] = []
    handle = model.register_forward_pre_hook(
        lambda module, args, kwargs: rows.append((kwargs.get("input_ids") if kwargs.get("input_ids") is not None else kwargs["inputs_embeds"]).shape[0]),
        with_kwargs=True,
    )
    try:
        call()
    finally:
        handle.remove()
    return rows


@pytest.mark.parametrize("backend", ["layer_ig", "ig"])
def test_prediction_gives_f_of_x_and_one_pass_gives_f_of_baseline(tiny, backend, padded_batches):
    model, tokenizer = tiny
    explainer = attrix.Explainer(model, tokenizer, backend=backend, n_steps=8, internal_batch_size=8)
    # prediction, f(baseline), two passes of four steps (eight rows) along the path: none for f(x), none per target
    assert passes(model, lambda: explainer(TEXTS, target="all")) == [2, 2, 8, 8]


def test_grad_x_input_runs_one_pass_beside_prediction_and_baseline(tiny, padded_batches):
    model, tokenizer = tiny
    assert passes(model, lambda: attrix.Explainer(model, tokenizer, backend="grad_x_input")(TEXTS, target="all")) == [2, 2, 2]


def test_a_layer_other_than_the_input_embedding_takes_one_pass_over_the_baselines_more(tiny, padded_batches):
    model, tokenizer = tiny
    explainer = attrix.Explainer(model, tokenizer, embedding="embeddings", n_steps=8, internal_batch_size=16)
    # prediction (the layer at the inputs recorded in it), the layer at the baselines, f(baseline), the path
    assert passes(model, lambda: explainer(TEXTS)) == [2, 2, 2, 16]


@pytest.mark.parametrize("embedding", ["word", "embeddings", "position"])
@pytest.mark.parametrize("backend", ["layer_ig", "ig"])
def test_reusing_the_prediction_changes_no_result(tiny, backend, embedding):
    model, tokenizer = tiny
    explainer = attrix.Explainer(model, tokenizer, backend=backend, embedding=embedding, n_steps=8)
    prepared = explainer.task.prepare(TEXTS, "all")
    assert prepared.problem.prediction is not None
    reused = explainer.backend.attribute(prepared.problem)
    rows = passes(model, lambda: explainer.backend.attribute(replace(prepared.problem, prediction=None)))
    measured = explainer.backend.attribute(replace(prepared.problem, prediction=None))
    assert rows[0] == 2 * len(TEXTS)  # without a prediction, f(x) and f(baseline) are run together
    for name in ("values", "scores", "baseline_scores", "delta"):
        assert torch.allclose(getattr(reused, name), getattr(measured, name), atol=1e-12, rtol=0), name


def test_the_prediction_is_the_forward_the_problem_explains(tiny):
    model, tokenizer = tiny
    explainer = attrix.Explainer(model, tokenizer)
    problem = explainer.task.prepare(TEXTS, None).problem
    with torch.no_grad():
        assert torch.allclose(problem.prediction.outputs, problem.forward(**problem.inputs), atol=1e-12, rtol=0)
        assert torch.equal(problem.prediction.layer_output, problem.layer(problem.inputs["input_ids"]))


def test_flipped_pairs_reuse_the_flipped_prediction(tiny):
    model, tokenizer = tiny
    explainer = attrix.Explainer(model, tokenizer, task="pairwise", flip_sign=True, n_steps=8)
    pair = ("i love this movie", "it is great")
    flipped, plain = explainer(pair), attrix.Explainer(model, tokenizer, task="pairwise", n_steps=8)(pair)
    assert flipped.target().score == pytest.approx(1 - plain.target().score, abs=1e-12)
    assert flipped.target().token_scores == pytest.approx([-score for score in plain.target().token_scores], abs=1e-12)
    assert abs(flipped.target().delta) == pytest.approx(abs(plain.target().delta), abs=1e-12)


def test_the_memory_budget_sizes_the_chunks_of_steps(tiny, padded_batches):
    model, tokenizer = tiny
    generous = passes(model, lambda: attrix.Explainer(model, tokenizer, n_steps=16)(TEXTS))
    tight = passes(model, lambda: attrix.Explainer(model, tokenizer, n_steps=16, memory_budget=1)(TEXTS))
    # a first step measures what a row keeps; the default budget then takes the other 15 steps at once, a
    # budget of one byte one step at a time
    assert generous == [2, 2, 2, 30]
    assert tight == [2, 2] + [2] * 16
    small = attrix.Explainer(model, tokenizer, n_steps=16, memory_budget=1)(TEXTS)
    whole = attrix.Explainer(model, tokenizer, n_steps=16)(TEXTS)
    for a, b in zip(small, whole):
        assert a.target().token_scores == pytest.approx(b.target().token_scores, abs=1e-12)


def test_auto_steps_chunk_points_of_any_input_within_the_budget(tiny, padded_batches):
    model, tokenizer = tiny
    whole = attrix.Explainer(model, tokenizer, n_steps="auto", tolerance=1e-4)
    tight = attrix.Explainer(model, tokenizer, n_steps="auto", tolerance=1e-4, memory_budget=1)
    rows = passes(model, lambda: tight(TEXTS, target="all"))
    # the prediction for both inputs, then every point of the path alone: a budget below one row splits even the
    # first round's points of the two inputs
    assert rows[0] == 2 and set(rows[1:]) == {1}
    assert len(rows[1:]) >= 2 * 9
    for small, big in zip(tight(TEXTS, target="all"), whole(TEXTS, target="all")):
        assert len(small.targets) == 3
        for mine, theirs in zip(small.targets, big.targets):
            assert mine.token_scores == pytest.approx(theirs.token_scores, abs=1e-12)


def test_auto_steps_take_f_of_baseline_from_their_first_points(tiny, padded_batches):
    model, tokenizer = tiny
    adaptive = attrix.Explainer(model, tokenizer, n_steps="auto", internal_batch_size=64)
    rows = passes(model, lambda: adaptive(TEXTS, target="all"))
    # the prediction, then the first round's 9 points of both inputs in one pass: α = 0 is the baseline
    assert rows[:2] == [2, 2 * 9]
    fixed = attrix.Explainer(model, tokenizer, n_steps=8)(TEXTS, target="all")
    for mine, theirs in zip(adaptive(TEXTS, target="all"), fixed):
        for target, measured in zip(mine.targets, theirs.targets):
            assert target.baseline_score == pytest.approx(measured.baseline_score, abs=1e-12)
            assert target.delta == pytest.approx(sum(target.token_scores) - (target.score - target.baseline_score), abs=1e-12)


def test_auto_steps_under_autocast_run_f_of_baseline_in_full_precision(tiny, padded_batches):
    model, tokenizer = tiny
    model32 = model.float()
    try:
        explainer = attrix.Explainer(model32, tokenizer, n_steps="auto", autocast="bf16")
        rows = passes(model32, lambda: explainer(TEXTS[0]))
        low = explainer(TEXTS[0])
        full = attrix.Explainer(model32, tokenizer, n_steps=8)(TEXTS[0])
    finally:
        model.double()
    assert rows[:2] == [1, 1]  # the prediction, then f(baseline) outside the autocast path
    assert low.target().baseline_score == pytest.approx(full.target().baseline_score, abs=1e-6)


def test_weights_need_no_gradient_while_attributing_and_get_theirs_back(tiny):
    model, tokenizer = tiny
    seen: list[bool] = []
    handle = model.register_forward_pre_hook(lambda module, args: seen.append(any(p.requires_grad for p in module.parameters())))
    try:
        attrix.Explainer(model, tokenizer, n_steps=4)(TEXTS[0])
    finally:
        handle.remove()
    assert seen and not any(seen[1:])  # the prediction runs before attributing; every pass after it has frozen weights
    assert all(p.requires_grad for p in model.parameters()) and not model.training


def test_autocast_runs_the_path_in_bfloat16_and_the_delta_shows_it(tiny):
    model, tokenizer = tiny
    model32 = model.float()
    try:
        low = attrix.Explainer(model32, tokenizer, n_steps=16, autocast="bf16")(TEXTS[0])
        full = attrix.Explainer(model32, tokenizer, n_steps=16)(TEXTS[0])
    finally:
        model.double()
    assert low.settings["autocast"] == "bf16"
    assert low.target().score == pytest.approx(full.target().score, abs=1e-6)  # f(x) is not autocast
    assert low.target().token_scores != full.target().token_scores
    assert abs(low.target().delta) > abs(full.target().delta)
    assert low.target().delta == pytest.approx(sum(low.target().token_scores) - (low.target().score - low.target().baseline_score), abs=1e-6)
