"""Each backend against captum run directly, completeness, and the shared-forward and batched paths."""

from __future__ import annotations

import pytest
import torch
from captum.attr import InputXGradient, IntegratedGradients, LayerIntegratedGradients

import attrix
from helpers.tiny_models import build_wide

TEXTS = ["i love this movie it is wonderful", "the food was awful", "a very boring plot and bad acting , really"]
BACKENDS = ("layer_ig", "ig", "grad_x_input")


@pytest.fixture(scope="module")
def model_and_tokenizer():
    return build_wide()


def encoded(tokenizer, texts):
    """Model inputs as the test builds them, and the baseline ids: special tokens kept, the rest pad."""
    encoding = tokenizer(texts, padding=True, return_tensors="pt", return_special_tokens_mask=True)
    special = encoding.pop("special_tokens_mask").bool()
    baseline = torch.where(special, encoding["input_ids"], tokenizer.pad_token_id)
    return dict(encoding), baseline


def captum_attributions(model, tokenizer, backend, texts, targets, n_steps=16):
    """captum called directly, with a forward written here: ``[batch, seq, hidden]``."""
    inputs, baseline_ids = encoded(tokenizer, texts)
    rest = (inputs["attention_mask"], inputs["token_type_ids"])
    embeddings = model.get_input_embeddings()

    def from_ids(ids, mask, types):
        return torch.softmax(model(input_ids=ids, attention_mask=mask, token_type_ids=types).logits, -1)

    def from_embeddings(embeds, mask, types):
        return torch.softmax(model(inputs_embeds=embeds, attention_mask=mask, token_type_ids=types).logits, -1)

    if backend == "layer_ig":
        return LayerIntegratedGradients(from_ids, embeddings).attribute(
            inputs["input_ids"], baselines=baseline_ids, additional_forward_args=rest, target=targets, n_steps=n_steps
        )
    with torch.no_grad():
        x, b = embeddings(inputs["input_ids"]), embeddings(baseline_ids)
    if backend == "ig":
        return IntegratedGradients(from_embeddings).attribute(
            x, baselines=b, additional_forward_args=rest, target=targets, n_steps=n_steps
        )
    return InputXGradient(from_embeddings).attribute(x.requires_grad_(), additional_forward_args=rest, target=targets)


def attrix_attributions(model, tokenizer, backend, texts, target, **options):
    """The backend's raw attributions for ``texts`` as one problem: ``[batch, n_targets, seq, hidden]``."""
    if backend != "grad_x_input":
        options.setdefault("n_steps", 16)
    explainer = attrix.Explainer(model, tokenizer, backend=backend, **options)
    prepared = explainer.task.prepare(texts, target)
    return explainer.backend.attribute(prepared.problem), prepared.problem


@pytest.mark.parametrize("backend", BACKENDS)
def test_single_target_equals_captum(model_and_tokenizer, backend):
    model, tokenizer = model_and_tokenizer
    result, _ = attrix_attributions(model, tokenizer, backend, TEXTS, target=2)
    expected = captum_attributions(model, tokenizer, backend, TEXTS, targets=[2, 2, 2])
    assert result.values.dtype == torch.float64
    assert result.values.shape[1] == 1
    assert torch.allclose(result.values[:, 0], expected, atol=1e-5, rtol=0)
    assert expected.abs().max() > 1e-4  # the comparison is not between two zero tensors


@pytest.mark.parametrize("backend", BACKENDS)
def test_shared_forward_targets_equal_captum_per_target(model_and_tokenizer, backend):
    model, tokenizer = model_and_tokenizer
    result, problem = attrix_attributions(model, tokenizer, backend, TEXTS, target="all")
    assert problem.targets.tolist() == [[0, 1, 2]] * len(TEXTS)
    for column in range(3):
        expected = captum_attributions(model, tokenizer, backend, TEXTS, targets=[column] * len(TEXTS))
        assert torch.allclose(result.values[:, column], expected, atol=1e-5, rtol=0), column


@pytest.mark.parametrize("backend", BACKENDS)
def test_several_targets_equal_one_target_at_a_time(model_and_tokenizer, backend):
    model, tokenizer = model_and_tokenizer
    together, _ = attrix_attributions(model, tokenizer, backend, TEXTS, target=[2, 0])
    for column, label in enumerate([2, 0]):
        alone, _ = attrix_attributions(model, tokenizer, backend, TEXTS, target=label)
        assert torch.allclose(together.values[:, column], alone.values[:, 0], atol=1e-8, rtol=0)
        assert torch.allclose(together.delta[:, column], alone.delta[:, 0], atol=1e-8, rtol=0)


def forward_scores(model, inputs, target):
    with torch.no_grad():
        return torch.softmax(model(**inputs).logits, -1)[:, target]


@pytest.mark.parametrize("backend", ["layer_ig", "ig"])
def test_completeness_within_reported_delta(model_and_tokenizer, backend):
    model, tokenizer = model_and_tokenizer
    inputs, baseline_ids = encoded(tokenizer, TEXTS)
    gap = forward_scores(model, inputs, 1) - forward_scores(model, dict(inputs, input_ids=baseline_ids), 1)
    result, _ = attrix_attributions(model, tokenizer, backend, TEXTS, target=1)
    total = result.values[:, 0].flatten(1).sum(-1)
    delta = result.delta[:, 0]
    assert torch.allclose(total - gap, delta, atol=1e-10, rtol=0)
    assert (delta.abs() <= 1e-3 * gap.abs().clamp_min(1e-12)).all()
    assert gap.abs().min() > 1e-4


@pytest.mark.parametrize("method", ["riemann_trapezoid", "gausslegendre"])
def test_delta_shrinks_as_steps_grow(model_and_tokenizer, method):
    model, tokenizer = model_and_tokenizer
    deltas = [
        attrix_attributions(model, tokenizer, "layer_ig", TEXTS, target="all", n_steps=n, method=method)[0].delta.abs().max()
        for n in (2, 4, 8)
    ]
    assert deltas[0] > deltas[1] > deltas[2]


@pytest.mark.parametrize("backend", BACKENDS)
def test_batched_equals_one_at_a_time(model_and_tokenizer, backend, padded_batches):
    model, tokenizer = model_and_tokenizer
    options = {} if backend == "grad_x_input" else {"n_steps": 8}
    explainer = attrix.Explainer(model, tokenizer, backend=backend, batch_size=3, **options)
    batched = explainer(TEXTS, target="all")
    for text, together in zip(TEXTS, batched):
        alone = explainer(text, target="all")
        assert together.inputs == alone.inputs and together.tokens == alone.tokens
        for a, b in zip(together.targets, alone.targets):
            assert a.token_scores == pytest.approx(b.token_scores, abs=1e-9)
            assert a.delta == pytest.approx(b.delta, abs=1e-9)


@pytest.mark.parametrize("backend", ["layer_ig", "ig"])
def test_internal_batch_size_chunks_without_changing_results(model_and_tokenizer, backend):
    model, tokenizer = model_and_tokenizer
    whole, _ = attrix_attributions(model, tokenizer, backend, TEXTS, target="all")
    chunked, _ = attrix_attributions(model, tokenizer, backend, TEXTS, target="all", internal_batch_size=7)
    assert torch.allclose(whole.values, chunked.values, atol=1e-10, rtol=0)


def test_internal_batch_size_bounds_each_forward_pass(model_and_tokenizer):
    model, tokenizer = model_and_tokenizer
    batch_sizes: list[int] = []
    handle = model.register_forward_pre_hook(
        lambda module, args, kwargs: batch_sizes.append(kwargs["input_ids"].shape[0]), with_kwargs=True
    )
    try:
        attrix_attributions(model, tokenizer, "layer_ig", TEXTS, target="all", internal_batch_size=9)
    finally:
        handle.remove()
    # 16 steps of 3 inputs, 3 steps per pass: 6 passes along the path, whatever the number of targets,
    # beside the prediction (which gives f(x) and the layer at the inputs) and one pass for f(baseline)
    assert max(batch_sizes) <= 9
    assert batch_sizes == [3, 3] + [9] * 5 + [3]


def test_targets_share_one_forward_pass_per_chunk(model_and_tokenizer):
    model, tokenizer = model_and_tokenizer
    calls: list[int] = []
    handle = model.register_forward_pre_hook(lambda module, args, kwargs: calls.append(1), with_kwargs=True)
    try:
        attrix_attributions(model, tokenizer, "layer_ig", TEXTS, target="all", n_steps=16)
    finally:
        handle.remove()
    # the prediction, f(baseline), then the path: a first step measuring the memory a row takes, then the other
    # 15 steps in one pass (the default memory budget holds them): never a pass per target
    assert len(calls) == 4
