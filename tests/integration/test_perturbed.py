"""``at_input``: a problem at a given continuous input, attributed there as captum attributes there directly, at the
input and at a layer, with the baseline as it was."""

from __future__ import annotations

import pytest
import torch
from captum.attr import IntegratedGradients, LayerIntegratedGradients

import attrix
from attrix.integration.perturbed import at_input
from attrix.integration.points import InputPoint
from helpers.task_cases import task_case


@pytest.fixture(scope="module", autouse=True)
def threads(one_torch_thread):
    """One torch thread: small models."""


def prepared(task: str, backend: str) -> tuple[attrix.Explainer, attrix.Problem]:
    model, processor, inputs = task_case(task)
    explainer = attrix.Explainer(model, processor, task=task, backend=backend, n_steps=16)
    return explainer, explainer.task.prepare([explainer.task.check(item) for item in inputs], 0).problem


def moved(problem: attrix.Problem) -> torch.Tensor:
    """The problem's continuous input with seeded Gaussian noise added."""
    end = InputPoint().values(problem)[0]
    return end + 0.1 * torch.randn(end.shape, generator=torch.Generator().manual_seed(0))


def embeds_forward(problem: attrix.Problem):
    """A captum forward of the input embeddings, the attention mask and token types passed on, through the task's forward."""

    def forward(embeds: torch.Tensor, mask: torch.Tensor, types: torch.Tensor) -> torch.Tensor:
        return problem.forward(inputs_embeds=embeds, attention_mask=mask, token_type_ids=types)

    return forward, (problem.inputs["attention_mask"], problem.inputs["token_type_ids"])


@pytest.mark.parametrize("backend", ["ig", "layer_ig"])
def test_text_is_attributed_at_the_given_embeddings_as_captum_attributes_there(backend):
    explainer, problem = prepared("sequence", backend)
    value = moved(problem)
    made = explainer.backend.attribute(at_input(problem, value))
    forward, rest = embeds_forward(problem)
    with torch.no_grad():
        start = problem.embedding.embed(problem.baselines["input_ids"])
    expected = IntegratedGradients(forward).attribute(
        value, baselines=start, target=problem.targets[:, 0], additional_forward_args=rest, n_steps=16
    )
    torch.testing.assert_close(made.values[:, 0], expected, atol=1e-6, rtol=1e-4)
    at_the_input = explainer.backend.attribute(problem).values
    assert (made.values - at_the_input).abs().max() > 1e-3, "the attributions move with the input"


def test_an_image_is_attributed_at_a_layer_after_the_given_pixels_as_captum_attributes_there():
    explainer, problem = prepared("image", "layer_ig")
    value = moved(problem)
    made = explainer.backend.attribute(at_input(problem, value))
    expected = LayerIntegratedGradients(problem.forward, problem.layer).attribute(
        value, baselines=problem.baselines["pixel_values"], target=problem.targets[:, 0], n_steps=16
    )
    torch.testing.assert_close(made.values[:, 0], expected, atol=1e-6, rtol=1e-4)


def test_the_problem_runs_the_model_at_the_value_and_keeps_the_baseline_targets_and_features():
    _, problem = prepared("sequence", "ig")
    value = moved(problem)
    moved_problem = at_input(problem, value)
    forward, rest = embeds_forward(problem)
    with torch.no_grad():
        torch.testing.assert_close(moved_problem.forward(**moved_problem.inputs), forward(value, *rest))
        start = problem.embedding.embed(problem.baselines["input_ids"])
    assert torch.equal(InputPoint().values(moved_problem)[0], value)
    assert torch.equal(InputPoint().values(moved_problem)[1], start)
    assert torch.equal(moved_problem.targets, problem.targets) and moved_problem.prediction is None
    assert moved_problem.features.keys() == problem.features.keys()
    assert problem.inputs["input_ids"].dtype == torch.long, "the problem given is left as it was"
