"""saliency, smoothgrad and gradient_shap (and ig's seeded noise tunnel) against captum run directly, on every task."""

from __future__ import annotations

import functools
import textwrap

import numpy as np
import pytest
import torch
from captum.attr import GradientShap, IntegratedGradients, NoiseTunnel, Saliency

import attrix
from attrix.cli import main
from attrix.experiments.config import ConfigError, load_experiment
from helpers import tiny_vision
from helpers.tiny_models import build, build_wide, save
from helpers.tiny_nli import build_nli, spread

TEXTS = ["i love this movie it is wonderful", "the food was awful", "a very boring plot and bad acting , really"]
FAMILY = ("saliency", "smoothgrad", "gradient_shap")
SEEDED = {"smoothgrad": {"nt_samples": 4, "stdevs": 0.05}, "gradient_shap": {"n_samples": 6, "stdevs": 0.05}}
PICTURES = [tiny_vision.image(seed=0), tiny_vision.image(width=48, height=33, seed=1)]


@pytest.fixture(scope="module")
def model_and_tokenizer():
    return build_wide()


def encoded(model, tokenizer, texts):
    """The input embeddings, the baseline's (special tokens kept, the rest pad) and the other model inputs."""
    encoding = tokenizer(texts, padding=True, return_tensors="pt", return_special_tokens_mask=True)
    special = encoding.pop("special_tokens_mask").bool()
    baseline = torch.where(special, encoding["input_ids"], tokenizer.pad_token_id)
    embeddings = model.get_input_embeddings()
    with torch.no_grad():
        return embeddings(encoding["input_ids"]), embeddings(baseline), (encoding["attention_mask"], encoding["token_type_ids"])


def probabilities(model):
    """The sequence classifier's class probabilities from input embeddings, as captum calls it."""

    def forward(embeds, mask, types):
        return torch.softmax(model(inputs_embeds=embeds, attention_mask=mask, token_type_ids=types).logits, -1)

    return forward


def from_difference(forward):
    """``forward`` taking the input minus a baseline of its own row, then that baseline: so that captum's GradientShap,
    which draws baselines from one distribution, runs from each input's own baseline (a zero difference)."""

    def shifted(difference, baseline, *rest):
        return forward(baseline + difference, *rest)

    return shifted


def captum_attributions(forward, backend, x, baseline, rest, targets, seed=0, **options):
    """captum's method toward one target per input, its generators seeded as attrix seeds them: ``[batch, ...]``."""
    torch.manual_seed(seed)
    np.random.seed(seed)
    if backend == "saliency":
        return Saliency(forward).attribute(x.clone().requires_grad_(), target=targets, additional_forward_args=rest, **options)
    if backend == "smoothgrad":
        options = {"nt_type": "smoothgrad", "nt_samples": 5, "stdevs": 1.0, **options}
        return NoiseTunnel(Saliency(forward)).attribute(x, target=targets, additional_forward_args=rest, **options)
    return GradientShap(from_difference(forward)).attribute(
        x - baseline, baselines=torch.zeros_like(x[:1]), target=targets, additional_forward_args=(baseline, *rest), **options
    )


def seed_of(backend, seed):
    """The option that seeds ``backend``, which saliency does not take."""
    return {} if backend == "saliency" else {"seed": seed}


def attributed(model, processor, backend, items, target, **options):
    """The backend's raw attributions for ``items`` as one problem, and the problem."""
    explainer = attrix.Explainer(model, processor, backend=backend, **options)
    prepared = explainer.task.prepare([explainer.task.check(item) for item in items], target)
    return explainer.backend.attribute(prepared.problem), prepared.problem


# --- equal to captum ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "backend, options",
    [
        ("saliency", {}),
        ("saliency", {"abs": False}),
        ("smoothgrad", {"nt_type": "smoothgrad", "nt_samples": 4, "stdevs": 0.05}),
        ("smoothgrad", {"nt_type": "smoothgrad_sq", "nt_samples": 3, "stdevs": 0.2, "abs": False}),
        ("smoothgrad", {"nt_type": "vargrad", "nt_samples": 5, "stdevs": 0.1}),
        ("gradient_shap", {"n_samples": 6, "stdevs": 0.05}),
        ("gradient_shap", {"n_samples": 3}),
    ],
)
def test_every_target_equals_captum_run_target_by_target(model_and_tokenizer, backend, options):
    model, tokenizer = model_and_tokenizer
    result, problem = attributed(model, tokenizer, backend, TEXTS, "all", **seed_of(backend, 7), **options)
    assert problem.targets.tolist() == [[0, 1, 2]] * len(TEXTS) and result.values.dtype == torch.float64
    x, baseline, rest = encoded(model, tokenizer, TEXTS)
    for column in range(3):
        expected = captum_attributions(probabilities(model), backend, x, baseline, rest, [column] * len(TEXTS), seed=7, **options)
        assert torch.allclose(result.values[:, column], expected, atol=1e-5, rtol=0), column
        assert expected.abs().max() > 1e-4  # the comparison is not between two zero tensors


@pytest.mark.parametrize("backend", FAMILY)
def test_pixels_equal_captum_run_target_by_target(backend):
    model, processor = tiny_vision.build("vit", seed=1)
    model = model.double()
    result, problem = attributed(model, processor, backend, PICTURES, "all", **seed_of(backend, 3), **SEEDED.get(backend, {}))
    pixels = problem.inputs["pixel_values"]
    assert pixels.dtype == torch.float64 and result.values.shape == (2, 3, *pixels.shape[1:])

    def forward(values):
        return torch.softmax(model(pixel_values=values).logits, -1)

    for column in range(3):
        expected = captum_attributions(
            forward, backend, pixels, torch.zeros_like(pixels), (), [column] * 2, seed=3, **SEEDED.get(backend, {})
        )
        assert torch.allclose(result.values[:, column], expected, atol=1e-5, rtol=0), column
        assert expected.abs().max() > 1e-4


@pytest.mark.parametrize("backend", FAMILY)
def test_several_targets_equal_one_target_at_a_time(model_and_tokenizer, backend):
    model, tokenizer = model_and_tokenizer
    options = SEEDED.get(backend, {})
    together, _ = attributed(model, tokenizer, backend, TEXTS, [2, 0], **options)
    for column, label in enumerate([2, 0]):
        alone, _ = attributed(model, tokenizer, backend, TEXTS, label, **options)
        assert torch.allclose(together.values[:, column], alone.values[:, 0], atol=1e-10, rtol=0)
        assert torch.allclose(together.delta[:, column], alone.delta[:, 0], atol=1e-10, rtol=0)


def test_targets_share_one_forward_pass_per_chunk_of_samples(model_and_tokenizer):
    model, tokenizer = model_and_tokenizer
    batch_sizes: list[int] = []
    handle = model.register_forward_pre_hook(
        lambda module, args, kwargs: batch_sizes.append(len(kwargs.get("inputs_embeds", kwargs.get("input_ids")))),
        with_kwargs=True,
    )
    try:
        attributed(model, tokenizer, "smoothgrad", TEXTS, "all", nt_samples=8, internal_batch_size=12)
        attributed(model, tokenizer, "saliency", TEXTS, "all")
    finally:
        handle.remove()
    # the prediction (which gives f(x)) and f(baseline), then 8 samples of 3 inputs, 4 samples a pass, for all three
    # targets at once; saliency: the prediction, f(baseline) and one pass at the inputs
    assert batch_sizes == [3, 3, 12, 12, 3, 3, 3]


# --- properties -----------------------------------------------------------------------------------------------------


def test_abs_saliency_is_the_absolute_value_of_the_signed_gradient(model_and_tokenizer):
    model, tokenizer = model_and_tokenizer
    signed, _ = attributed(model, tokenizer, "saliency", TEXTS, "all", abs=False)
    absolute, _ = attributed(model, tokenizer, "saliency", TEXTS, "all")
    assert torch.equal(absolute.values, signed.values.abs())
    assert (signed.values < 0).any() and (signed.values > 0).any()


def test_grad_x_input_is_signed_saliency_times_the_input_embeddings(model_and_tokenizer):
    model, tokenizer = model_and_tokenizer
    signed, problem = attributed(model, tokenizer, "saliency", TEXTS, "all", abs=False)
    product, _ = attributed(model, tokenizer, "grad_x_input", TEXTS, "all")
    embeddings = problem.embedding.embed(problem.inputs[problem.embedding.source])
    assert torch.allclose(product.values, signed.values * embeddings.unsqueeze(1), atol=1e-12, rtol=0)


def test_smoothgrad_with_little_noise_is_saliency(model_and_tokenizer):
    model, tokenizer = model_and_tokenizer
    smooth, _ = attributed(model, tokenizer, "smoothgrad", TEXTS, "all", abs=False, stdevs=1e-7, nt_samples=2)
    plain, _ = attributed(model, tokenizer, "saliency", TEXTS, "all", abs=False)
    noisy, _ = attributed(model, tokenizer, "smoothgrad", TEXTS, "all", abs=False, stdevs=0.3, nt_samples=2)
    assert torch.allclose(smooth.values, plain.values, atol=1e-6, rtol=0)
    assert not torch.allclose(noisy.values, plain.values, atol=1e-3, rtol=0)


def test_gradient_shap_tends_to_integrated_gradients_as_samples_grow(model_and_tokenizer):
    model, tokenizer = model_and_tokenizer
    few, _ = attributed(model, tokenizer, "gradient_shap", TEXTS, 1, n_samples=2)
    many, _ = attributed(model, tokenizer, "gradient_shap", TEXTS, 1, n_samples=256, internal_batch_size=192)
    ig, _ = attributed(model, tokenizer, "ig", TEXTS, 1, n_steps=64)
    assert (many.delta.abs() < few.delta.abs()).all()
    assert (many.delta.abs() < 0.05 * (many.scores - many.baseline_scores).abs()).all()
    error = (many.values - ig.values).flatten(1).norm(dim=1) / ig.values.flatten(1).norm(dim=1)
    assert (error < 0.2).all()


# --- seeds ----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "backend, options",
    [
        ("smoothgrad", SEEDED["smoothgrad"]),
        ("gradient_shap", SEEDED["gradient_shap"]),
        ("ig", {"noise_tunnel": "smoothgrad", "nt_samples": 2, "nt_stdevs": 0.05, "n_steps": 4}),
    ],
)
def test_a_seed_gives_the_same_result_and_another_seed_another_one(model_and_tokenizer, backend, options):
    model, tokenizer = model_and_tokenizer
    torch_state, numpy_state = torch.get_rng_state(), np.random.get_state()[1].copy()
    first, _ = attributed(model, tokenizer, backend, TEXTS, "all", seed=5, **options)
    again, _ = attributed(model, tokenizer, backend, TEXTS, "all", seed=5, **options)
    other, _ = attributed(model, tokenizer, backend, TEXTS, "all", seed=6, **options)
    assert torch.equal(first.values, again.values)
    assert not torch.allclose(first.values, other.values, atol=1e-6)
    assert torch.equal(torch.get_rng_state(), torch_state)  # the global generators are left as they were
    assert (np.random.get_state()[1] == numpy_state).all()


def test_ig_noise_tunnel_with_a_seed_equals_captum_seeded_the_same_for_every_target(model_and_tokenizer):
    model, tokenizer = model_and_tokenizer
    options = {"nt_type": "vargrad", "nt_samples": 3, "stdevs": 0.1}
    result, _ = attributed(
        model, tokenizer, "ig", TEXTS, [2, 1], seed=9, noise_tunnel="vargrad", nt_samples=3, nt_stdevs=0.1, n_steps=4
    )
    x, baseline, rest = encoded(model, tokenizer, TEXTS)
    for column, label in enumerate([2, 1]):
        torch.manual_seed(9)
        expected = NoiseTunnel(IntegratedGradients(probabilities(model))).attribute(
            x, baselines=baseline, target=[label] * 3, additional_forward_args=rest, n_steps=4, **options
        )
        assert torch.allclose(result.values[:, column], expected, atol=1e-5, rtol=0), column


def test_without_a_seed_draws_from_the_global_generators(model_and_tokenizer):
    model, tokenizer = model_and_tokenizer
    torch.manual_seed(4)
    np.random.seed(4)
    first, _ = attributed(model, tokenizer, "gradient_shap", TEXTS, 0, seed=None, stdevs=0.1)
    second, _ = attributed(model, tokenizer, "gradient_shap", TEXTS, 0, seed=None, stdevs=0.1)
    seeded, _ = attributed(model, tokenizer, "gradient_shap", TEXTS, 0, seed=4, stdevs=0.1)
    assert torch.equal(first.values, seeded.values)
    assert not torch.allclose(first.values, second.values, atol=1e-6)


# --- every task -----------------------------------------------------------------------------------------------------


@functools.cache
def task_model(task):
    """A tiny double-precision model for ``task``, and an input for it."""
    if task == "image":
        model, processor = tiny_vision.build("vit", seed=1)
        return model.double(), processor, PICTURES[0]
    if task == "zero_shot":
        model, tokenizer = build_nli("bert", seed=3, std=0.3)
        return model.double(), tokenizer, {"text": TEXTS[0], "candidate_labels": ["food", "music", "acting"]}
    if task == "multilabel":
        model, tokenizer = build("bert", seed=5, id2label={0: "action", 1: "comedy", 2: "drama", 3: "horror"})
        model.config.problem_type = "multi_label_classification"
    elif task == "qa":
        model, tokenizer = build("bert", head="qa", seed=4)
    else:
        model, tokenizer = build("bert", head="token" if task == "token" else "sequence", num_labels=3, seed=4)
    spread(model, 0.3, seed=5)
    item = {"pairwise": (TEXTS[0], TEXTS[1]), "qa": ("what was awful", TEXTS[1] + " but " + TEXTS[0])}.get(task, TEXTS[0])
    return model.double(), tokenizer, item


TASKS = ("sequence", "pairwise", "multilabel", "zero_shot", "qa", "token", "image")


@pytest.mark.parametrize("task", TASKS)
@pytest.mark.parametrize("backend", FAMILY)
def test_every_task_equals_captum_toward_its_explained_scores(task, backend):
    model, processor, item = task_model(task)
    options = {"seed": 2, **SEEDED.get(backend, {})} if backend != "saliency" else {"abs": False}
    result, problem = attributed(model, processor, backend, [item], "all" if task != "qa" else None, task=task, **options)
    source, key = problem.embedding.source, problem.embedding.key
    names = [name for name in problem.inputs if name != source]

    def forward(value, *rest):
        return problem.forward(**dict(zip(names, rest)), **{key: value})

    with torch.no_grad():
        x, baseline = problem.embedding.embed(problem.inputs[source]), problem.embedding.embed(problem.baselines[source])
    rest = tuple(problem.inputs[name] for name in names)
    options.pop("seed", None)
    assert result.values.shape == (problem.batch_size, problem.n_targets, *x.shape[1:])
    assert problem.batch_size * problem.n_targets >= 2  # several scores: zero-shot has a row per label, one target each
    for column in range(problem.n_targets):
        expected = captum_attributions(
            forward, backend, x, baseline, rest, problem.targets[:, column].tolist(), seed=2, **options
        )
        assert torch.allclose(result.values[:, column], expected, atol=1e-5, rtol=0), column
    assert result.values.abs().amax(dim=tuple(range(2, result.values.dim()))).min() > 0  # every target has a gradient


@pytest.mark.parametrize("task", TASKS)
@pytest.mark.parametrize("backend", FAMILY)
def test_every_task_explains_with_it_end_to_end(task, backend):
    model, processor, item = task_model(task)
    explanation = attrix.Explainer(model, processor, task=task, backend=backend, **SEEDED.get(backend, {}))(item)
    assert explanation.method == backend and explanation.task == task
    assert explanation.settings.items() >= SEEDED.get(backend, {"abs": True}).items()
    for target in explanation.targets:
        scores = np.asarray(target.array if task == "image" else target.token_scores, dtype=float)
        assert np.isfinite(scores).all() and np.abs(scores).max() > 0
        if task != "image":
            assert len(target.token_scores) == len(explanation.tokens)


# --- options, configs and the command line --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "backend, options, error, message",
    [
        (
            "smoothgrad",
            {"nt_type": "gauss"},
            attrix.UnknownNameError,
            "unknown nt_type 'gauss'; valid: smoothgrad, smoothgrad_sq, vargrad",
        ),
        (
            "smoothgrad",
            {"nt_samples": 0},
            attrix.InputError,
            "option 'nt_samples' of backend 'smoothgrad' must be an integer >= 1, got 0",
        ),
        (
            "smoothgrad",
            {"stdevs": 0.0},
            attrix.InputError,
            "option 'stdevs' of backend 'smoothgrad' must be a number > 0, got 0.0",
        ),
        ("saliency", {"abs": "yes"}, attrix.InputError, "option 'abs' of backend 'saliency' must be true or false, got 'yes'"),
        (
            "saliency",
            {"seed": 1},
            attrix.UnknownNameError,
            "unknown option 'seed' for task 'sequence' and backend 'saliency'; valid: abs,",
        ),
        (
            "gradient_shap",
            {"n_samples": 0},
            attrix.InputError,
            "option 'n_samples' of backend 'gradient_shap' must be an integer >= 1, got 0",
        ),
        (
            "gradient_shap",
            {"stdevs": -1.0},
            attrix.InputError,
            "option 'stdevs' of backend 'gradient_shap' must be a number >= 0, got -1.0",
        ),
        ("gradient_shap", {"seed": 2**32}, attrix.InputError, "must be an integer >= 0 and < 4294967296 or null, got 4294967296"),
        ("gradient_shap", {"internal_batch_size": 0}, attrix.InputError, "must be an integer >= 1 or null, got 0"),
        (
            "ig",
            {"noise_tunnel": "vargrad", "seed": -1},
            attrix.InputError,
            "option 'seed' of backend 'ig' must be an integer >= 0",
        ),
    ],
)
def test_a_bad_option_is_refused_naming_what_is_allowed(model_and_tokenizer, backend, options, error, message):
    with pytest.raises(error) as caught:
        attrix.Explainer(*model_and_tokenizer, backend=backend, **options)
    assert message in str(caught.value)


def test_settings_record_the_options_in_force(model_and_tokenizer):
    smooth = attrix.Explainer(*model_and_tokenizer, backend="smoothgrad", nt_type="vargrad", nt_samples=2)("the food was awful")
    assert {key: smooth.settings[key] for key in ("abs", "nt_type", "nt_samples", "stdevs", "seed")} == {
        "abs": True,
        "nt_type": "vargrad",
        "nt_samples": 2,
        "stdevs": 1.0,
        "seed": 0,
    }
    plain_ig = attrix.Explainer(*model_and_tokenizer, backend="ig", n_steps=2)("the food was awful")
    seeded_ig = attrix.Explainer(*model_and_tokenizer, backend="ig", n_steps=2, noise_tunnel="smoothgrad", seed=3)(
        "the food was awful"
    )
    assert "seed" not in plain_ig.settings and seeded_ig.settings["seed"] == 3


def test_a_config_names_the_backend_and_its_options(tmp_path):
    def loaded(options):
        path = tmp_path / "c.yaml"
        path.write_text(
            textwrap.dedent(f"""\
            model: default
            task: sequence
            backend:
              name: gradient_shap
              options: {options}
            inputs: [good]
            """),
            encoding="utf-8",
        )
        return load_experiment(path)

    assert loaded("{n_samples: 3, stdevs: 0.1, seed: 4}").backend.options == {"n_samples": 3, "stdevs": 0.1, "seed": 4}
    with pytest.raises(
        ConfigError, match=r"backend.options.n_samples .*0 is not allowed by backend 'gradient_shap'; allowed: an integer >= 1"
    ):
        loaded("{n_samples: 0}")


def test_the_command_line_explains_with_each_backend(tmp_path, capsys):
    directory = save("bert", tmp_path / "bert", seed=11)
    for backend in FAMILY:
        assert main(["explain", "--model", str(directory), "--backend", backend, "--json", "the food was awful"]) == 0
        explanation = attrix.Explanation.from_json(capsys.readouterr().out)
        assert explanation.method == backend and any(explanation.target().token_scores)
