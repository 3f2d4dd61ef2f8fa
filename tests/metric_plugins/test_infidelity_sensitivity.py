"""``infidelity`` and ``sensitivity_max``: their values worked out from their definitions with the same seeded
perturbations, on a problem linear in its word embeddings and on the suite's tiny models, and through ``evaluate``."""

from __future__ import annotations

import functools
import math

import pytest
import torch
from captum.attr import IntegratedGradients
from captum.metrics import sensitivity_max
from metric_plugins.test_metric_maths import CONTRIBUTIONS, linear_problem

import attrix
from attrix.backends.grad_x_input import GradientXInput
from attrix.backends.layer_ig import LayerIntegratedGradientsBackend
from attrix.backends.occlusion import OcclusionBackend
from attrix.backends.shapley_sampling import ShapleySamplingBackend
from attrix.integration.points import InputPoint
from attrix.integration.removal import RemovalScorer, feature_ids, per_feature
from helpers.task_cases import task_case


@pytest.fixture(scope="module", autouse=True)
def threads(one_torch_thread):
    """One torch thread: small models, many passes."""


def linear_scorer() -> RemovalScorer:
    """The removal scorer of test_metric_maths's hand-built linear problem, whose words add ``CONTRIBUTIONS``."""
    problem, _ = linear_problem()
    return RemovalScorer(problem, problem.features["word"], rows_per_pass=256)


def drawn_removals(scorer: RemovalScorer, samples: int, probability: float, seed: int) -> torch.Tensor:
    """The sets of features ``infidelity`` removes, drawn again from its seed: ``[samples, batch, 1, n]`` (bool)."""
    batch, count = scorer.present.shape
    drawn = torch.rand(batch, 1, samples, count, generator=torch.Generator().manual_seed(seed)) < probability
    return (drawn & scorer.present.view(batch, 1, 1, count)).permute(2, 0, 1, 3)


def infidelity_by_definition(attributions: torch.Tensor, scorer: RemovalScorer, removed: torch.Tensor) -> torch.Tensor:
    """The mean of (Σ_{i∈S} φ_i − (f(x) − f(x without S)))² over the removals S, each scored alone."""
    errors = []
    for one in removed:
        drop = scorer.scores - scorer.score(scorer.present.unsqueeze(1) & ~one)
        errors.append(((attributions * one).sum(-1) - drop) ** 2)
    return torch.stack(errors).mean(0)


def test_exact_attributions_of_a_linear_model_have_no_infidelity():
    scorer = linear_scorer()
    exact = GradientXInput().attribute(scorer.problem).values
    table = per_feature(exact, scorer.ids, scorer.first) * scorer.present.unsqueeze(1)
    assert table[0, 0].tolist() == CONTRIBUTIONS
    values = attrix.create("metric", "infidelity", n_perturb_samples=20).measure(table, scorer).values
    assert values.shape == (2, 2) and values.abs().max() < 1e-10


def test_infidelity_is_the_mean_squared_error_of_the_removals_drawn_from_its_seed():
    scorer = linear_scorer()
    table = torch.tensor([[[1.0, 0.0, 2.0, 2.0]] * 2, [[4.0, -3.0, 0.0, 0.0]] * 2])
    metric = attrix.create("metric", "infidelity", n_perturb_samples=12, removal_probability=0.4, seed=7)
    removed = drawn_removals(scorer, 12, 0.4, 7)
    assert removed.any() and not removed.all(), "some features are removed, not all"
    expected = infidelity_by_definition(table, scorer, removed)
    torch.testing.assert_close(metric.measure(table, scorer).values, expected)
    by_hand = ((table - torch.tensor(CONTRIBUTIONS) * torch.tensor([1.0, -1.0]).view(1, 2, 1)) * removed).sum(-1)
    torch.testing.assert_close(expected, (by_hand**2).mean(0), msg="the linear model's drops are its contributions")
    assert expected.min() > 0


def test_normalized_infidelity_forgives_attributions_of_the_right_shape_at_the_wrong_scale():
    scorer = linear_scorer()
    twice = 2 * per_feature(GradientXInput().attribute(scorer.problem).values, scorer.ids, scorer.first)
    plain = attrix.create("metric", "infidelity").measure(twice, scorer).values
    normalized = attrix.create("metric", "infidelity", normalize=True).measure(twice, scorer).values
    assert plain.min() > 0.1 and normalized.abs().max() < 1e-10


def test_infidelity_is_deterministic_given_its_seed_and_changes_with_it():
    scorer = linear_scorer()
    table = torch.tensor([[[1.0, 0.0, 2.0, 2.0]] * 2, [[4.0, -3.0, 0.0, 0.0]] * 2])
    first, again, other = (attrix.create("metric", "infidelity", seed=seed).measure(table, scorer).values for seed in (0, 0, 1))
    assert torch.equal(first, again) and not torch.equal(first, other)


@functools.cache
def sequence_case(backend: str) -> tuple[attrix.Explainer, RemovalScorer, torch.Tensor]:
    """The tiny sequence classifier's inputs toward every label, their scorer (knowing ``backend``) and the table of
    ``backend``'s attributions per word."""
    model, tokenizer, inputs = task_case("sequence")
    explainer = attrix.Explainer(model, tokenizer, task="sequence", backend=backend, n_steps=8)
    problem = explainer.task.prepare(inputs, "all").problem
    scorer = RemovalScorer(problem, feature_ids(problem, None), rows_per_pass=256)
    scorer.backend = explainer.backend
    table = per_feature(explainer.backend.attribute(problem).values, scorer.ids, scorer.first) * scorer.present.unsqueeze(1)
    return explainer, scorer, table


def test_infidelity_on_a_real_model_scores_the_drawn_removals_of_every_input_and_target():
    _, scorer, table = sequence_case("layer_ig")
    assert scorer.problem.n_targets == 3 and not scorer.present.all(), "inputs of different lengths, several targets"
    values = attrix.create("metric", "infidelity", n_perturb_samples=8, seed=3).measure(table, scorer).values
    torch.testing.assert_close(values, infidelity_by_definition(table, scorer, drawn_removals(scorer, 8, 0.5, 3)))


def sensitivity_of(backend: str, **options) -> torch.Tensor:
    _, scorer, table = sequence_case(backend)
    return attrix.create("metric", "sensitivity_max", **options).measure(table, scorer).values


def test_sensitivity_max_is_zero_at_radius_zero_and_grows_with_the_radius():
    still, near, far = (sensitivity_of("layer_ig", radius=radius, n_perturb_samples=4) for radius in (0.0, 0.01, 0.1))
    assert still.shape == (2, 3) and still.abs().max() < 1e-5
    assert near.min() > 1e-4 and (far > near).all()


def uniform_noise(radius: float, seed: int):
    """A captum perturbation adding uniform noise within ``radius``, drawn from a generator seeded with ``seed``."""
    generator = torch.Generator().manual_seed(seed)

    def perturb(embeds: torch.Tensor) -> torch.Tensor:
        return embeds + (torch.rand(embeds.shape, generator=generator) * 2 - 1) * radius

    return perturb


def test_sensitivity_max_is_captum_sensitivity_max_of_integrated_gradients_per_word_target_by_target():
    _, scorer, _ = sequence_case("ig")
    problem, samples, radius = scorer.problem, 3, 0.05
    values = sensitivity_of("ig", radius=radius, n_perturb_samples=samples, seed=4)
    end, start = InputPoint().values(problem)
    words = scorer.ids.flatten(1)
    one_hot = (words.unsqueeze(-1) == torch.arange(scorer.first, int(words.max()) + 1)).to(end.dtype)
    rest = (problem.inputs["attention_mask"], problem.inputs["token_type_ids"])

    def forward(embeds, mask, types):
        return problem.forward(inputs_embeds=embeds, attention_mask=mask, token_type_ids=types)

    for target in range(problem.n_targets):

        def explain(embeds, target=target):
            embeds = embeds[0] if isinstance(embeds, tuple) else embeds
            with torch.enable_grad():
                made = IntegratedGradients(forward).attribute(
                    embeds, baselines=start, target=problem.targets[:, target], additional_forward_args=rest, n_steps=8
                )
            return (torch.einsum("bsh,bsn->bn", made, one_hot),)

        perturb = uniform_noise(radius, seed=4)
        expected = sensitivity_max(explain, end, perturb, n_perturb_samples=samples, max_examples_per_batch=end.shape[0])
        torch.testing.assert_close(values[:, target], expected, atol=1e-5, rtol=1e-4)


def test_sensitivity_max_needs_the_backend_that_made_the_attributions():
    _, scorer, table = sequence_case("layer_ig")
    unknown = RemovalScorer(scorer.problem, scorer.ids, rows_per_pass=256)
    with pytest.raises(attrix.InputError, match="scorer.backend"):
        attrix.create("metric", "sensitivity_max").measure(table, unknown)


def test_sensitivity_max_refuses_backends_that_remove_features_and_infidelity_none():
    sensitivity = attrix.create("metric", "sensitivity_max")
    for refused in (OcclusionBackend, ShapleySamplingBackend):
        reason = sensitivity.unfit(refused)
        assert refused.name in reason and "layer_ig" in reason and "follows gradients" in reason
    assert sensitivity.unfit(LayerIntegratedGradientsBackend) is None and sensitivity.unfit(GradientXInput) is None
    assert attrix.create("metric", "infidelity").unfit(OcclusionBackend) is None
    model, tokenizer, inputs = task_case("sequence")
    occlusion = attrix.Explainer(model, tokenizer, task="sequence", backend="occlusion")
    with pytest.raises(attrix.InputError, match="sensitivity_max.*occlusion.*layer_ig"):
        attrix.evaluate(inputs, occlusion, metrics=["infidelity", "sensitivity_max"])


@pytest.mark.parametrize("task", ["sequence", "image"])
def test_evaluate_measures_both_per_target_and_stores_their_settings(task):
    model, processor, inputs = task_case(task)
    explainer = attrix.Explainer(model, processor, task=task, n_steps=8)
    evaluation = attrix.evaluate(inputs, explainer, metrics=["infidelity", "sensitivity_max"], target="all")
    again = attrix.evaluate(inputs, explainer, metrics=["infidelity", "sensitivity_max"], target="all")
    assert evaluation.rows == again.rows, "seeded: the same values every time"
    for row in evaluation.rows:
        assert math.isfinite(row["value"]) and row["value"] >= 0 and row["random"] is None
    assert {row["metric"] for row in evaluation.rows} == {"infidelity", "sensitivity_max"}
    assert len(evaluation.rows) == 2 * 2 * len(explainer.task.labels)
    stored = evaluation.explanations[0].metrics["sensitivity_max"]
    assert stored["settings"] == {"radius": 0.02, "n_perturb_samples": 10, "seed": 0}
    assert evaluation.explanations[0].metrics["infidelity"]["settings"]["removal_probability"] == 0.5


@pytest.mark.parametrize("arch", ["gpt2", "t5", "bart"])
def test_generation_steps_are_as_sensitive_as_the_radius_lets_them_be(arch):
    """Causal and encoder–decoder LMs under layer_ig (an encoder–decoder embeds both sides through one joined layer):
    at radius 0 the attributions made again are the same, at a radius they move."""
    from helpers.tiny_lms import build_lm

    model, tokenizer = build_lm(arch)
    explainer = attrix.Explainer(model, tokenizer, n_steps=8, max_new_tokens=2)
    values = {}
    for radius in (0.0, 0.1):
        metric = attrix.create("metric", "sensitivity_max", radius=radius, n_perturb_samples=3)
        rows = attrix.evaluate(["translate this please"], explainer, [metric]).rows
        values[radius] = [row["value"] for row in rows]
    assert values[0.0] and max(values[0.0]) < 1e-5
    assert min(values[0.1]) > 1e-3
