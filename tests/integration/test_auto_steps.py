"""``n_steps="auto"``: steps grow per input and target until the completeness error is within the tolerance."""

from __future__ import annotations

import pytest
import torch
from torch import nn

import attrix
from attrix.contracts.problem import InputEmbedding, Problem
from attrix.integration.adaptive import (
    FIRST_SEGMENTS,
    FIRST_STEPS,
    STEPS_PER_SPLIT,
    adaptive_attributions,
    first_segments,
    largest,
)
from attrix.integration.path import path_attributions, point_gradients
from attrix.integration.points import InputPoint, endpoints
from attrix.integration.rules import integration_steps
from helpers.tiny_models import build
from helpers.tiny_nli import spread

TEXTS = ["i love this movie it is great", "the food was awful", "a very boring plot and bad acting , really so bad"]


@pytest.fixture(scope="module")
def tiny():
    """A tiny classifier in double precision, with weights wide enough that its scores depend on the words."""
    model, tokenizer = build("bert", num_labels=3, seed=4)
    spread(model, 0.3, seed=4)
    return model.double(), tokenizer


def relative_errors(explanation: attrix.Explanation) -> list[float]:
    return [abs(t.delta) / abs(t.score - t.baseline_score) for t in explanation.targets]


class SingleIndex(nn.Module):
    """Scores that depend on the input only through w · x: a sharp sigmoid of it, and w · x itself.

    For such a score g(w · x), integrated gradients are known exactly: feature j gets
    w_j (x_j − x'_j) / (w · (x − x')) of g(w · x) − g(w · x')."""

    def __init__(self, weights: torch.Tensor, sharpness: float, centre: float) -> None:
        super().__init__()
        self.weights, self.sharpness, self.centre = weights, sharpness, centre
        self.seen: list[torch.Tensor] = []

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        self.seen.append(inputs.detach().clone())
        index = inputs.flatten(1) @ self.weights
        return torch.stack([torch.sigmoid(self.sharpness * (index - self.centre)), index], dim=1)


def single_index_problem(model: SingleIndex, inputs: torch.Tensor, targets: list[list[int]]) -> Problem:
    embedding = InputEmbedding("inputs", "inputs", nn.Identity())
    return Problem(
        {"inputs": inputs}, {"inputs": torch.zeros_like(inputs)}, model, torch.tensor(targets), nn.Identity(), embedding
    )


def exact(model: SingleIndex, inputs: torch.Tensor, target: int) -> torch.Tensor:
    """The exact integrated gradients of ``target`` from a zero baseline."""
    shares = inputs * model.weights.view(inputs.shape[1:]) / (inputs.flatten(1) @ model.weights).view(-1, 1)
    with torch.no_grad():
        gap = model(inputs)[:, target] - model(torch.zeros_like(inputs))[:, target]
    return shares * gap.view(-1, 1)


@pytest.fixture
def sharp():
    """A score that jumps from 0 to 1 over about 1% of the path, 37% of the way from the baseline."""
    generator = torch.Generator().manual_seed(0)
    weights = torch.rand(6, generator=generator, dtype=torch.float64) + 0.5
    inputs = torch.rand(2, 6, generator=generator, dtype=torch.float64) + 0.5
    index = inputs @ weights
    model = SingleIndex(weights, sharpness=400.0 / float(index.mean()), centre=0.37 * float(index.mean()))
    return model, inputs


def auto(problem: Problem, tolerance: float = 0.01, max_steps: int = 128) -> tuple[torch.Tensor, torch.Tensor]:
    point = InputPoint()
    attributions = adaptive_attributions(point, problem, endpoints(point, problem, baseline=False), tolerance, max_steps)
    return attributions.values, attributions.steps


@pytest.mark.parametrize("tolerance", [1e-2, 1e-4])
def test_a_sharp_score_is_integrated_to_the_tolerance_with_points_where_it_moves(sharp, tolerance):
    model, inputs = sharp
    values, steps = auto(single_index_problem(model, inputs, [[0], [0]]), tolerance, max_steps=1024)
    last_round = model.seen[-1]
    truth = exact(model, inputs, 0)
    gap = truth.sum(1)
    assert ((values[:, 0].sum(1) - gap).abs() <= tolerance * gap.abs()).all()
    assert torch.allclose(values[:, 0], truth, rtol=0, atol=tolerance * float(gap.abs().max()))
    # the same accuracy from evenly spread Gauss-Legendre points takes many more of them
    fixed = 2 * int(steps.max())
    alphas, weights = integration_steps("gausslegendre", fixed)
    even = path_attributions(InputPoint(), single_index_problem(model, inputs, [[0], [0]]), inputs, torch.zeros_like(inputs), alphas, weights)
    assert ((even[:, 0].sum(1) - gap).abs() > tolerance * gap.abs()).any()
    # the points past the first round lie around the jump
    position = last_round @ model.weights / (inputs @ model.weights).mean()
    assert ((position - 0.37).abs() < 0.15).float().mean() > 0.5


def test_a_target_within_the_tolerance_after_the_first_round_takes_no_more_points(sharp):
    model, inputs = sharp
    values, steps = auto(single_index_problem(model, inputs, [[1, 0], [1, 0]]))
    assert steps[:, 0].tolist() == [FIRST_STEPS, FIRST_STEPS]  # w · x is linear: exact from the first round
    assert (steps[:, 1] > FIRST_STEPS).all()
    assert torch.allclose(values[:, 0], exact(model, inputs, 1), rtol=1e-9, atol=1e-12)


def test_targets_refined_at_the_same_points_share_their_forward_passes(sharp):
    model, inputs = sharp
    values, steps = auto(single_index_problem(model, inputs, [[0, 0], [0, 0]]))
    assert torch.equal(values[:, 0], values[:, 1]) and torch.equal(steps[:, 0], steps[:, 1])
    refinements = int((steps - FIRST_STEPS).sum())
    assert refinements > 0
    rows = sum(len(seen) for seen in model.seen)
    # f(x), the shared first round (whose first points give f(baseline)), then each refinement point once for both
    assert rows == len(inputs) + FIRST_STEPS * len(inputs) + refinements // 2


def test_evaluations_at_one_point_take_one_forward_row_and_their_own_gradients(sharp):
    model, inputs = sharp
    problem = single_index_problem(model, inputs, [[0, 1], [0, 1]])
    rows, columns = torch.tensor([0, 0, 1, 1, 0]), torch.tensor([0, 1, 1, 0, 1])
    alphas = torch.tensor([0.3, 0.3, 0.3, 0.7, 0.7], dtype=torch.float64)
    gradients, scores = point_gradients(InputPoint(), problem, inputs, torch.zeros_like(inputs), rows, columns, alphas)
    # four distinct points; the one two targets want runs alone: beside the others its second backward pass
    # would go through three idle rows
    assert [len(seen) for seen in model.seen] == [1, 3]
    index = (alphas.view(-1, 1) * inputs[rows]) @ model.weights
    sigmoid = torch.sigmoid(model.sharpness * (index - model.centre))
    slope = torch.where(columns == 0, model.sharpness * sigmoid * (1 - sigmoid), torch.ones_like(index))
    assert torch.allclose(gradients, slope.view(-1, 1) * model.weights * inputs[rows], rtol=1e-12, atol=1e-12)
    assert torch.allclose(scores, torch.where(columns == 0, sigmoid, index), rtol=1e-12, atol=0)


def test_largest_errors_are_chosen_until_they_hold_each_targets_excess():
    errors = torch.tensor([5.0, 1.0, 3.0, 0.5, 2.0, 2.0])
    target = torch.tensor([0, 0, 0, 1, 1, 1])
    # target 0 needs 6.5 of its 9: 5 then 3; target 1 needs 2.5 of its 4.5: both 2s, not the 0.5
    chosen = largest(errors, target, torch.tensor([6.5, 2.5]))
    assert chosen.tolist() == [True, False, True, False, True, True]
    assert largest(errors, target, torch.tensor([0.0, 4.5])).tolist() == [False, False, False, True, True, True]


def test_a_score_that_moves_less_than_float32_resolves_is_halved_once_whatever_its_error():
    weights = torch.full((6,), 0.1)
    inputs = torch.full((1, 6), 1.0)
    model = SingleIndex(weights, sharpness=1.0, centre=-14.0)  # sigmoid ≈ 1 − 1e-6 along the whole path
    values, steps = auto(single_index_problem(model, inputs, [[0]]))
    gap = float(exact(model, inputs, 0).sum())
    assert 0 < abs(gap) and 0.01 * abs(gap) < 4 * torch.finfo(torch.float32).eps
    assert int(steps) == FIRST_STEPS + FIRST_SEGMENTS * STEPS_PER_SPLIT


class Cancelling(nn.Module):
    """F(x) = σ(k (x₁ − c)) − σ(k (x₂ − c)) + x₁: from a zero baseline to (1, 1) the path has x₁ = x₂ = t, where
    F = t, so every segment's completeness holds whatever its points, while each feature's attribution carries
    a sharp step of ±(σ(k (1 − c)) − σ(−k c))."""

    def __init__(self, sharpness: float, centre: float) -> None:
        super().__init__()
        self.sharpness, self.centre = sharpness, centre

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        step = torch.sigmoid(self.sharpness * (inputs - self.centre))
        return (step[:, 0] - step[:, 1] + inputs[:, 0]).unsqueeze(1)

    def exact(self) -> torch.Tensor:
        """The exact integrated gradients of (1, 1) from a zero baseline."""
        ends = torch.sigmoid(self.sharpness * (torch.tensor([1.0, 0.0], dtype=torch.float64) - self.centre))
        step = ends[0] - ends[1]
        return torch.stack([step + 1, -step])


@pytest.mark.parametrize("largest_first", [True, False])
def test_feature_errors_that_cancel_in_every_segments_sum_are_refined_too(largest_first):
    model = Cancelling(sharpness=30.0, centre=0.37)
    inputs = torch.ones(1, 2, dtype=torch.float64)
    values, steps = auto(single_index_problem(model, inputs, [[0]] if largest_first else [[0, 0]]))
    truth = model.exact()
    assert (steps > FIRST_STEPS).all()  # completeness alone is met after the first round
    for column in range(values.shape[1]):
        assert (values[0, column] - truth).norm() <= 0.01 * truth.norm()


class Symmetric(nn.Module):
    """F(x) = 10 x₁ − 10 x₂ + x₁ + a (x₁ − ½)⁸ / 8: from a zero baseline to (1, 1), ∂F/∂x₁ − 11 = a (t − ½)⁷ is odd about
    the path's middle, so Boole's errors on its two first segments are equal and opposite, and the exact
    attributions are (11, −10)."""

    def __init__(self, amplitude: float) -> None:
        super().__init__()
        self.amplitude = amplitude

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        first, second = inputs[:, 0], inputs[:, 1]
        return (11 * first - 10 * second + self.amplitude * (first - 0.5) ** 8 / 8).unsqueeze(1)


def test_segment_errors_that_cancel_in_the_delta_take_no_more_points():
    model = Symmetric(amplitude=1200.0)
    inputs = torch.ones(1, 2, dtype=torch.float64)
    problem = single_index_problem(model, inputs, [[0]])
    point = InputPoint()
    attributions = adaptive_attributions(point, problem, endpoints(point, problem, baseline=False), 0.01, 128)
    # each first segment alone misses by more than half the bound, but the delta is what the tolerance bounds
    segments, _ = first_segments(point, problem, endpoints(point, problem))
    segment_errors = segments.errors(segments.values()).tolist()
    assert min(abs(error) for error in segment_errors) > 0.005 and abs(sum(segment_errors)) < 1e-9
    assert int(attributions.steps) == FIRST_STEPS
    assert torch.allclose(attributions.values[0, 0], torch.tensor([11.0, -10.0], dtype=torch.float64), atol=1e-9)
    assert abs(float(attributions.delta)) < 1e-9


def test_max_steps_bounds_the_points_of_every_target(sharp):
    model, inputs = sharp
    values, steps = auto(single_index_problem(model, inputs, [[0], [0]]), tolerance=1e-6, max_steps=40)
    assert FIRST_STEPS < int(steps.max()) <= 40
    gap = exact(model, inputs, 0).sum(1)
    assert ((values[:, 0].sum(1) - gap).abs() > 1e-6 * gap.abs()).any()  # stopped by the budget, not converged


def test_each_input_is_within_the_tolerance_and_records_its_points(tiny):
    explanations = attrix.Explainer(*tiny, n_steps="auto", tolerance=1e-3, max_steps=256)(TEXTS, target="all")
    used = [explanation.settings["steps_used"] for explanation in explanations]
    assert all(explanation.settings["n_steps"] == "auto" for explanation in explanations)
    assert all(explanation.settings["tolerance"] == 1e-3 for explanation in explanations)
    assert all(FIRST_STEPS <= steps <= 256 and (steps - FIRST_STEPS) % STEPS_PER_SPLIT == 0 for steps in used)
    for explanation in explanations:
        assert max(relative_errors(explanation)) <= 1e-3


def test_fixed_steps_record_no_adaptive_settings_but_the_tolerance_they_are_judged_by(tiny):
    explanation = attrix.Explainer(*tiny, n_steps=8)(TEXTS[0])
    assert explanation.settings["n_steps"] == 8 and explanation.settings["tolerance"] == 0.01
    assert not {"steps_used", "max_steps"} & set(explanation.settings)


@pytest.mark.parametrize(
    "options, message",
    [
        ({"n_steps": "sometimes"}, "option 'n_steps' of backend 'layer_ig' must be an integer >= 1 or auto, got 'sometimes'"),
        ({"n_steps": "auto", "tolerance": 0}, "option 'tolerance' of backend 'layer_ig' must be a number > 0 and < 1, got 0"),
        ({"n_steps": "auto", "tolerance": 1.5}, "option 'tolerance' of backend 'layer_ig' must be a number > 0 and < 1, got 1.5"),
        ({"n_steps": "auto", "max_steps": 0}, "option 'max_steps' of backend 'layer_ig' must be an integer >= 9, got 0"),
        ({"n_steps": "auto", "max_steps": 8}, "option 'max_steps' of backend 'layer_ig' must be an integer >= 9, got 8"),
        ({"memory_budget": -1}, "option 'memory_budget' of backend 'layer_ig' must be an integer >= 1 or null, got -1"),
        ({"autocast": "int8"}, "unknown autocast 'int8'; valid: .*bf16"),
    ],
)
def test_bad_adaptive_options_are_refused(tiny, options, message):
    with pytest.raises(attrix.InputError if "unknown" not in message else attrix.UnknownNameError, match=message):
        attrix.Explainer(*tiny, **options)


def test_auto_steps_and_a_noise_tunnel_are_refused_together(tiny):
    with pytest.raises(attrix.InputError, match='n_steps="auto" cannot be used with a noise tunnel'):
        attrix.Explainer(*tiny, backend="ig", n_steps="auto", noise_tunnel="smoothgrad")


def cosines(first: attrix.Explanation, second: attrix.Explanation) -> list[float]:
    return [
        float(torch.cosine_similarity(torch.tensor(a.token_scores, dtype=torch.float64), torch.tensor(b.token_scores, dtype=torch.float64), dim=0))
        for a, b in zip(first.targets, second.targets)
    ]


@pytest.mark.real_weights
@pytest.mark.slow
@pytest.mark.parametrize(
    "head, item, options",
    [
        ("sentiment", "The acting was wonderful but the plot was dull and far too long.", {}),
        ("emotion_head", "My sister felt happy and surprised when the letter arrived.", {}),
        ("ner_head", "Anna Smith moved from Paris to Berlin.", {}),
        ("nli_head", {"text": "We talked about the football match for hours.", "candidate_labels": ["sports", "food"]},
         {"task": "zero_shot"}),
    ],
)
def test_auto_matches_512_steps_on_real_heads(request, one_torch_thread, head, item, options):
    if head == "sentiment":
        explainer = attrix.Explainer(str(request.getfixturevalue("default_model_dir_fixture")), n_steps="auto", max_steps=512, **options)
        model, tokenizer = explainer.model, explainer.task.tokenizer
    else:
        model, tokenizer = request.getfixturevalue(head)
        explainer = attrix.Explainer(model, tokenizer, n_steps="auto", max_steps=512, **options)
    auto = explainer(item)
    reference = attrix.Explainer(model, tokenizer, n_steps=512, internal_batch_size=128, **options)(item)
    assert [t.label for t in auto.targets] == [t.label for t in reference.targets] and auto.targets
    rounding = 4 * torch.finfo(torch.float32).eps  # the documented floor: a delta this small is float32 noise
    for target in auto.targets:
        allowed = 0.01 * abs(target.score - target.baseline_score) + rounding * max(abs(target.score), abs(target.baseline_score))
        assert abs(target.delta) <= allowed
    assert min(cosines(auto, reference)) >= 0.999
    assert auto.settings["steps_used"] < auto.settings["max_steps"]  # reached the tolerance, not the last round
