"""The perturbation backends against captum run directly, their properties (leave-one-out, efficiency, seeds), shared
passes, no gradients, and their options."""

from __future__ import annotations

import dataclasses

import pytest
import torch
from captum.attr import FeatureAblation, KernelShap, Lime, Occlusion, ShapleyValueSampling

import attrix
from attrix.backends.surrogate import WeightedLeastSquares
from attrix.errors import InputError, UnknownNameError
from attrix.host.registry import get_registry
from helpers.tiny_models import build_wide

TEXTS = ["i love this movie it is wonderful", "the food was awful", "a very boring plot and bad acting , really"]
PERTURBATION = ("occlusion", "feature_ablation", "shapley_sampling", "kernel_shap", "lime")
SMALL = {"shapley_sampling": {"n_samples": 4}, "kernel_shap": {"n_samples": 40}, "lime": {"n_samples": 40}}


@pytest.fixture(scope="module", autouse=True)
def threads(one_torch_thread):
    """One torch thread: these tests run many small forward passes."""


@pytest.fixture(scope="module")
def model_and_tokenizer():
    return build_wide()


def encoded(tokenizer, texts):
    """Model inputs as the test builds them, the baseline ids (special tokens kept, the rest pad) and each position's
    word: 0 for special tokens and padding, then 1, 2, … per row, ``[batch, seq, 1]``."""
    encoding = tokenizer(texts, padding=True, return_tensors="pt", return_special_tokens_mask=True)
    special = encoding.pop("special_tokens_mask").bool()
    baseline = torch.where(special, encoding["input_ids"], tokenizer.pad_token_id)
    words = torch.zeros_like(encoding["input_ids"])
    for row in range(len(texts)):
        for position, word in enumerate(encoding.word_ids(row)):
            if word is not None:
                words[row, position] = word + 1
    return encoding, baseline, words.unsqueeze(-1)


def probabilities(model, **inputs):
    with torch.no_grad():
        return torch.softmax(model(**inputs).logits, -1)


def captum_attributions(model, tokenizer, method, texts, targets, seed=0, **settings):
    """captum called directly on the input embeddings with the words as feature mask, a forward written here:
    ``[batch, seq, hidden]``, every element of a word holding the word's attribution."""
    encoding, baseline_ids, words = encoded(tokenizer, texts)
    rest = (encoding["attention_mask"], encoding["token_type_ids"])
    embeddings = model.get_input_embeddings()

    def forward(embeds, mask, types):
        return probabilities(model, inputs_embeds=embeds, attention_mask=mask, token_type_ids=types)

    with torch.no_grad():
        x, b = embeddings(encoding["input_ids"]), embeddings(baseline_ids)
    kinds = {"feature_ablation": FeatureAblation, "shapley_sampling": ShapleyValueSampling}
    if method in kinds:
        algorithm = kinds[method](forward)
    elif method == "kernel_shap":
        algorithm = KernelShap(forward)
        algorithm.interpretable_model = WeightedLeastSquares()
    else:
        algorithm = Lime(forward, interpretable_model=WeightedLeastSquares())
    if method in kinds:
        torch.manual_seed(seed)
        return algorithm.attribute(x, baselines=b, additional_forward_args=rest, target=targets, feature_mask=words, **settings)
    rows = []
    for row in range(len(texts)):  # one input at a time, each fitted on its own words
        torch.manual_seed(seed)
        one = slice(row, row + 1)
        rows.append(
            algorithm.attribute(
                x[one],
                baselines=b[one],
                additional_forward_args=tuple(tensor[one] for tensor in rest),
                target=targets[row],
                feature_mask=words[one],
                **settings,
            )
        )
    return torch.cat(rows)


def attrix_attributions(model, tokenizer, backend, texts, target, **options):
    """The backend's raw attributions for ``texts`` as one problem: ``[batch, n_targets, seq, hidden]``."""
    explainer = attrix.Explainer(model, tokenizer, backend=backend, **options)
    prepared = explainer.task.prepare(texts, target)
    return explainer.backend.attribute(prepared.problem), prepared.problem


def per_word(values, words):
    """Attributions ``[batch, n_targets, seq, hidden]`` summed per word: ``[batch, n_targets, n_words + 1]`` (word 0:
    special tokens and padding)."""
    per_token = values.sum(-1)
    flat = words.squeeze(-1).unsqueeze(1).expand_as(per_token)
    return torch.zeros(*per_token.shape[:2], int(words.max()) + 1, dtype=values.dtype).scatter_add_(2, flat, per_token)


def word_totals(captum_values, words):
    """Each word's attribution from captum's, which gives every element of a word the word's whole attribution:
    ``[batch, n_words + 1]``."""
    captum_values = captum_values.double()  # captum sums some methods in float32
    sizes = per_word(torch.ones_like(captum_values).unsqueeze(1), words)[:, 0]
    return per_word(captum_values.unsqueeze(1), words)[:, 0] / sizes.clamp_min(1)


def leave_one_out(model, tokenizer, texts):
    """f(x) − f(x with word w's tokens replaced by pad), by hand: ``[batch, n_labels, n_words + 1]`` (word 0: zero)."""
    encoding, _, words = encoded(tokenizer, texts)
    full = probabilities(model, **encoding)
    drops = torch.zeros(len(texts), full.shape[1], int(words.max()) + 1, dtype=full.dtype)
    for word in range(1, int(words.max()) + 1):
        ids = encoding["input_ids"].masked_fill(words.squeeze(-1) == word, tokenizer.pad_token_id)
        drops[:, :, word] = full - probabilities(model, **dict(encoding, input_ids=ids))
    present = torch.stack([(words == word).any(1).squeeze(-1) for word in range(drops.shape[2])], -1)
    return drops * present.unsqueeze(1)


@pytest.mark.parametrize("backend", ["feature_ablation", "shapley_sampling", "kernel_shap", "lime"])
def test_every_target_equals_captum_run_on_its_own(model_and_tokenizer, backend):
    model, tokenizer = model_and_tokenizer
    settings = {"n_samples": SMALL[backend]["n_samples"]} if backend in SMALL else {}
    result, problem = attrix_attributions(model, tokenizer, backend, TEXTS, "all", **SMALL.get(backend, {}))
    _, _, words = encoded(tokenizer, TEXTS)
    assert problem.targets.tolist() == [[0, 1, 2]] * len(TEXTS)
    assert result.values.dtype == torch.float64
    for column in range(3):
        expected = captum_attributions(model, tokenizer, backend, TEXTS, [column] * len(TEXTS), **settings)
        ours = per_word(result.values, words)[:, column]
        theirs = word_totals(expected, words)
        assert torch.allclose(ours, theirs, atol=1e-5, rtol=0), column
        assert theirs.abs().max() > 1e-3


def test_occlusion_equals_captum_occlusion_over_the_words(model_and_tokenizer):
    """captum's Occlusion slides its windows over a vector of the words, each 1 (kept) or 0 (replaced by pad)."""
    model, tokenizer = model_and_tokenizer
    encoding, baseline_ids, words = encoded(tokenizer, TEXTS)
    embeddings = model.get_input_embeddings()
    with torch.no_grad():
        x, b = embeddings(encoding["input_ids"]), embeddings(baseline_ids)

    def forward(kept_words, x, b, words, mask, types):
        kept = torch.cat([torch.ones_like(kept_words[:, :1]), kept_words], 1).gather(1, words.squeeze(-1)).unsqueeze(-1)
        return probabilities(model, inputs_embeds=x * kept + b * (1 - kept), attention_mask=mask, token_type_ids=types)

    result, _ = attrix_attributions(model, tokenizer, "occlusion", TEXTS, "all", window=3, window_stride=2)
    for row in range(len(TEXTS)):  # each input's windows run over its own words
        one = slice(row, row + 1)
        kept_words = torch.ones(1, int(words[row].max()), dtype=torch.float64)
        rest = (x[one], b[one], words[one], encoding["attention_mask"][one], encoding["token_type_ids"][one])
        for column in range(3):
            expected = Occlusion(forward).attribute(
                kept_words, sliding_window_shapes=(3,), strides=(2,), baselines=0.0, target=column, additional_forward_args=rest
            )
            ours = per_word(result.values[one], words[one])[0, column, 1:]
            assert torch.allclose(ours, expected[0].double(), atol=1e-5, rtol=0), (row, column)


@pytest.mark.parametrize("backend,options", [("occlusion", {"window": 1}), ("feature_ablation", {})])
def test_one_word_windows_are_leave_one_out_drops(model_and_tokenizer, backend, options):
    model, tokenizer = model_and_tokenizer
    _, _, words = encoded(tokenizer, TEXTS)
    result, _ = attrix_attributions(model, tokenizer, backend, TEXTS, "all", **options)
    expected = leave_one_out(model, tokenizer, TEXTS)
    assert torch.allclose(per_word(result.values, words), expected, atol=1e-6, rtol=0)
    assert expected.abs().max() > 1e-2


def test_wider_occlusion_windows_differ_from_leave_one_out(model_and_tokenizer):
    model, tokenizer = model_and_tokenizer
    _, _, words = encoded(tokenizer, TEXTS)
    result, _ = attrix_attributions(model, tokenizer, "occlusion", TEXTS, "all", window=3)
    assert (per_word(result.values, words) - leave_one_out(model, tokenizer, TEXTS)).abs().max() > 1e-3


def test_shapley_sampling_sums_to_the_score_gap_whatever_the_samples(model_and_tokenizer):
    model, tokenizer = model_and_tokenizer
    encoding, baseline_ids, _ = encoded(tokenizer, TEXTS)
    gap = probabilities(model, **encoding) - probabilities(model, **dict(encoding, input_ids=baseline_ids))
    for n_samples, seed in [(1, 0), (3, 7)]:
        result, _ = attrix_attributions(model, tokenizer, "shapley_sampling", TEXTS, "all", n_samples=n_samples, seed=seed)
        assert torch.allclose(result.values.flatten(2).sum(-1), gap, atol=1e-5, rtol=0)
        assert result.delta.abs().max() < 1e-5
    assert gap.abs().max() > 1e-2


@pytest.mark.parametrize("backend", ["shapley_sampling", "kernel_shap", "lime"])
def test_sampling_is_fixed_by_the_seed_and_leaves_the_global_generator_alone(model_and_tokenizer, backend):
    model, tokenizer = model_and_tokenizer
    options = {"n_samples": 2 if backend == "shapley_sampling" else 30}
    torch.manual_seed(123)
    expected_draw = torch.rand(1)
    torch.manual_seed(123)
    first, _ = attrix_attributions(model, tokenizer, backend, TEXTS[:2], 0, seed=5, **options)
    assert torch.equal(torch.rand(1), expected_draw)
    again, _ = attrix_attributions(model, tokenizer, backend, TEXTS[:2], 0, seed=5, **options)
    other, _ = attrix_attributions(model, tokenizer, backend, TEXTS[:2], 0, seed=6, **options)
    assert torch.equal(first.values, again.values)
    assert (first.values - other.values).abs().max() > 1e-6


def test_kernel_shap_sums_close_to_the_score_gap(model_and_tokenizer):
    """The heavily weighted empty and full samples pin the linear fit's ends."""
    model, tokenizer = model_and_tokenizer
    result, _ = attrix_attributions(model, tokenizer, "kernel_shap", TEXTS, "all", n_samples=40)
    assert result.delta.abs().max() < 1e-3


class Counted:
    """Counts the model's forward passes and the rows they run."""

    def __init__(self, model):
        self.passes, self.rows, self.widest = 0, 0, 0
        self.handle = model.register_forward_pre_hook(self.count, with_kwargs=True)

    def count(self, module, args, kwargs):
        rows = kwargs["inputs_embeds"].shape[0] if kwargs.get("inputs_embeds") is not None else kwargs["input_ids"].shape[0]
        self.passes, self.rows, self.widest = self.passes + 1, self.rows + rows, max(self.widest, rows)


def counted(model, explainer, texts, target):
    """The passes, rows and widest pass the backend runs for ``texts``."""
    problem = explainer.task.prepare(texts, target).problem
    counter = Counted(model)
    try:
        explainer.backend.attribute(problem)
    finally:
        counter.handle.remove()
    return counter


@pytest.mark.parametrize("backend", PERTURBATION)
def test_every_target_comes_from_the_same_passes(model_and_tokenizer, backend):
    model, tokenizer = model_and_tokenizer
    explainer = attrix.Explainer(model, tokenizer, backend=backend, **SMALL.get(backend, {}))
    counts = [counted(model, explainer, TEXTS, target) for target in (0, "all")]
    assert (counts[0].passes, counts[0].rows) == (counts[1].passes, counts[1].rows)


@pytest.mark.parametrize(
    "backend,options,widest",
    [
        ("feature_ablation", {}, 12),
        ("occlusion", {}, 12),
        ("occlusion", {"window": 3}, 4),
        ("shapley_sampling", SMALL["shapley_sampling"], 12),
        ("lime", SMALL["lime"], 4),
    ],
)
def test_perturbations_run_together_up_to_perturbations_per_eval(model_and_tokenizer, backend, options, widest):
    """Four perturbations per pass: of all three inputs at once; one input at a time for the surrogates, and for
    wider occlusion windows, which differ between inputs of different lengths (as these three are)."""
    model, tokenizer = model_and_tokenizer
    explainer = attrix.Explainer(model, tokenizer, backend=backend, perturbations_per_eval=4, **options)
    assert counted(model, explainer, TEXTS, "all").widest == widest


@pytest.mark.parametrize("backend", PERTURBATION)
def test_perturbations_per_eval_changes_the_passes_not_the_attributions(model_and_tokenizer, backend):
    model, tokenizer = model_and_tokenizer
    options = SMALL.get(backend, {})
    one, _ = attrix_attributions(model, tokenizer, backend, TEXTS, "all", perturbations_per_eval=1, **options)
    many, _ = attrix_attributions(model, tokenizer, backend, TEXTS, "all", perturbations_per_eval=5, **options)
    budget, _ = attrix_attributions(model, tokenizer, backend, TEXTS, "all", memory_budget=1, **options)
    assert torch.allclose(one.values, many.values, atol=1e-6, rtol=0)
    assert torch.allclose(one.values, budget.values, atol=1e-6, rtol=0)


class NoBackward(torch.autograd.Function):
    """The identity, whose backward pass fails."""

    @staticmethod
    def forward(ctx, logits):
        return logits.clone()

    @staticmethod
    def backward(ctx, grad):
        raise AssertionError("a backward pass ran")


@pytest.mark.parametrize("backend", PERTURBATION)
def test_no_gradient_is_ever_taken(model_and_tokenizer, backend):
    model, tokenizer = model_and_tokenizer
    seen = []

    def check(module, args, kwargs, output):
        tensors = [value for value in kwargs.values() if isinstance(value, torch.Tensor)]
        seen.append(torch.is_grad_enabled() or any(tensor.requires_grad for tensor in tensors))
        output.logits = NoBackward.apply(output.logits)
        return output

    handle = model.register_forward_hook(check, with_kwargs=True)
    try:
        explanation = attrix.Explainer(model, tokenizer, backend=backend, **SMALL.get(backend, {}))(TEXTS[0])
    finally:
        handle.remove()
    assert len(seen) > 2 and not any(seen)
    assert all(parameter.requires_grad for parameter in model.parameters())
    assert any(abs(score) > 1e-4 for score in explanation.targets[0].word_scores)


def test_the_backends_are_registered_and_exported():
    names = {entry.name for entry in get_registry().all() if entry.kind == "backend"}
    assert set(PERTURBATION) <= names
    assert {"OcclusionBackend", "ShapleySamplingBackend", "PerturbationBackend"} <= set(attrix.backends.__all__)


def test_features_choose_the_grouping(model_and_tokenizer):
    """Every token of a feature gets the same share of it: 2 sentences, 6 words ("one", "two", ".", …), 15 tokens."""
    model, tokenizer = model_and_tokenizer
    text = "one two. three four."

    def shares(features):
        explainer = attrix.Explainer(model, tokenizer, backend="feature_ablation", features=features)
        scores = explainer(text).targets[0].token_scores[1:-1]  # without [CLS] and [SEP]
        return len({round(score, 9) for score in scores})

    assert [shares("sentence"), shares(None), shares("word"), shares("token")] == [2, 6, 6, 15]


def test_an_unknown_grouping_lists_the_tasks_own(model_and_tokenizer):
    model, tokenizer = model_and_tokenizer
    explainer = attrix.Explainer(model, tokenizer, backend="occlusion", features="patch")
    with pytest.raises(UnknownNameError, match="'patch'.*valid: sentence, token, word"):
        explainer(TEXTS[0])


def test_a_task_without_features_is_told_what_is_missing(model_and_tokenizer):
    model, tokenizer = model_and_tokenizer
    explainer = attrix.Explainer(model, tokenizer, backend="lime")
    problem = dataclasses.replace(explainer.task.prepare(TEXTS, 0).problem, features={})
    with pytest.raises(InputError, match="gives no features to remove"):
        explainer.backend.attribute(problem)


@pytest.mark.parametrize(
    "backend,options,message",
    [
        ("occlusion", {"window": 2, "window_stride": 3}, "'window_stride'.*at most the window"),
        ("occlusion", {"window": 0}, "'window'"),
        ("shapley_sampling", {"n_samples": 0}, "'n_samples'"),
        ("lime", {"seed": -1}, "'seed'"),
        ("kernel_shap", {"perturbations_per_eval": 2, "memory_budget": 10}, "not both"),
        ("feature_ablation", {"features": 3}, "'features'"),
    ],
)
def test_bad_options_name_what_is_allowed(model_and_tokenizer, backend, options, message):
    model, tokenizer = model_and_tokenizer
    with pytest.raises(InputError, match=message):
        attrix.Explainer(model, tokenizer, backend=backend, **options)


def test_the_linear_fit_recovers_a_linear_function_and_leaves_the_intercept_free():
    generator = torch.Generator().manual_seed(0)
    samples = torch.randint(0, 2, (40, 6), generator=generator).float()
    weights = torch.rand(40, generator=generator) + 0.5
    slope = torch.tensor([0.5, -1.0, 0.0, 2.0, 0.25, -0.125], dtype=torch.float64)
    fit = WeightedLeastSquares()
    fit.fit([(samples, 3.0 + samples.double() @ slope, weights)])
    assert torch.allclose(fit.representation(), slope, atol=1e-10, rtol=0)
    fit.fit([(samples[:3], torch.full((3,), 7.0), weights[:3])])  # fewer samples than features, a constant score
    assert torch.allclose(fit.representation(), torch.zeros(6, dtype=torch.float64), atol=1e-12, rtol=0)
