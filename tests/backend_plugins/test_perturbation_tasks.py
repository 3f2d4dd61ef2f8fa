"""Every perturbation backend on every built-in task, through ``attrix.Explainer``: its attributions per feature checked
against the task's own forward with features replaced by hand."""

from __future__ import annotations

import copy
import functools

import pytest
import torch

import attrix
from helpers.task_cases import task_case

PERTURBATION = ("occlusion", "feature_ablation", "shapley_sampling", "kernel_shap", "lime")
OPTIONS = {
    "occlusion": {"window": 1},
    "shapley_sampling": {"n_samples": 2},
    "kernel_shap": {"n_samples": 30},
    "lime": {"n_samples": 30},
}


@pytest.fixture(scope="module", autouse=True)
def threads(one_torch_thread):
    """One torch thread: these tests run many small forward passes."""


@functools.cache
def double_case(task: str):
    """The task's tiny model in double precision, its tokenizer or processor, the inputs and the target explained."""
    model, processor, inputs = task_case(task)
    target = "all" if task in ("sequence", "multilabel", "pairwise", "image") else None
    return copy.deepcopy(model).double(), processor, inputs, target


def prepared(task: str, backend: str, **options):
    """The explainer of ``task`` with ``backend``, and the problem it makes of the task's inputs."""
    model, processor, inputs, target = double_case(task)
    explainer = attrix.Explainer(model, processor, task=task, backend=backend, **{**OPTIONS.get(backend, {}), **options})
    return explainer, explainer.task.prepare([explainer.task.check(item) for item in inputs], target).problem


def features_of(problem):
    """The default grouping: words of text, patches of images."""
    return problem.features["word" if "word" in problem.features else "patch"]


def per_feature(values, ids):
    """Attributions ``[batch, n_targets, ...]`` summed per feature: ``[batch, n_targets, n_features]``."""
    broadcast = torch.broadcast_to(ids.unsqueeze(1), values.shape).flatten(2)
    table = torch.zeros(*values.shape[:2], int(ids.max()) + 1, dtype=values.dtype)
    return table.scatter_add_(2, broadcast, values.flatten(2))


def scores(problem, inputs):
    with torch.no_grad():
        return problem.scores(problem.forward(**inputs))


def leave_one_out(problem, ids):
    """f(x) − f(x with feature k's ids or pixels replaced by the baseline's), by hand: ``[batch, n_targets, n_features]``."""
    source = problem.embedding.source
    mask_of = (lambda k: ids == k) if ids.dim() == problem.inputs[source].dim() else (lambda k: (ids == k).squeeze(-1))
    full = scores(problem, problem.inputs)
    drops = []
    for feature in range(int(ids.max()) + 1):
        replaced = torch.where(mask_of(feature), problem.baselines[source], problem.inputs[source])
        drops.append(full - scores(problem, dict(problem.inputs, **{source: replaced})))
    return torch.stack(drops, -1)


TASKS = ("sequence", "pairwise", "multilabel", "zero_shot", "qa", "token", "image", "generation")


@pytest.mark.parametrize("task", TASKS)
@pytest.mark.parametrize("backend", ["feature_ablation", "occlusion"])
def test_one_feature_at_a_time_gives_the_leave_one_out_drops(task, backend):
    explainer, problem = prepared(task, backend)
    ids = features_of(problem)
    result = explainer.backend.attribute(problem)
    expected = leave_one_out(problem, ids)
    assert torch.allclose(per_feature(result.values, ids), expected, atol=1e-6, rtol=0)
    assert expected.abs().max() > 1e-4


@pytest.mark.parametrize("task", TASKS)
def test_shapley_sampling_is_efficient_for_every_target(task):
    explainer, problem = prepared(task, "shapley_sampling")
    result = explainer.backend.attribute(problem)
    gap = scores(problem, problem.inputs) - scores(problem, problem.baselines)
    assert torch.allclose(result.values.flatten(2).sum(-1), gap, atol=1e-5, rtol=0)
    assert gap.abs().max() > 1e-4


@pytest.mark.parametrize("task", TASKS)
@pytest.mark.parametrize("backend", ["kernel_shap", "lime"])
def test_surrogates_fit_every_target_from_shared_passes_as_on_its_own(task, backend):
    explainer, problem = prepared(task, backend)
    result = explainer.backend.attribute(problem)
    rows = torch.arange(problem.batch_size)
    assert problem.n_targets >= 1 and result.values.abs().max() > 1e-5
    for column in range(problem.n_targets):
        alone = explainer.backend.attribute(problem.select(rows, torch.tensor([column])))
        assert torch.allclose(result.values[:, column], alone.values[:, 0], atol=1e-6, rtol=0), column
    if backend == "kernel_shap":
        gap = scores(problem, problem.inputs) - scores(problem, problem.baselines)
        assert (result.values.flatten(2).sum(-1) - gap).abs().max() < 2e-3


@pytest.mark.parametrize("task", [task for task in TASKS if task != "image"])
@pytest.mark.parametrize("backend", ["occlusion", "feature_ablation", "shapley_sampling"])
def test_explanations_add_up_to_their_delta(task, backend):
    """The task's token and word scores of one input, from the backend's attributions, and the delta it reports
    agree. (The surrogates fit feature 0, the special tokens and a zero-shot hypothesis, a coefficient of its own,
    which no word shows.)"""
    _, _, inputs, target = double_case(task)
    explainer, _ = prepared(task, backend)
    for explained in explainer(inputs[0], target=target).targets:
        gap = explained.score - explained.baseline_score
        assert explained.delta == pytest.approx(sum(explained.token_scores) - gap, abs=1e-6)
        assert sum(explained.word_scores) == pytest.approx(sum(explained.token_scores), abs=1e-6)
        assert max(abs(score) for score in explained.word_scores) > 1e-6


def test_images_are_explained_by_pixels_too_and_refuse_words():
    explainer, problem = prepared("image", "feature_ablation", features="pixel")
    values = explainer.backend.attribute(problem).values[0, 0]  # [3, height, width]
    assert torch.equal(values[0], values[1]) and torch.equal(values[1], values[2])  # a pixel's channels share its score
    assert len(set(values[0].flatten().tolist())) > 16  # one value per pixel, not per patch (16 of them)
    explainer, problem = prepared("image", "occlusion", features="word")
    with pytest.raises(attrix.errors.UnknownNameError, match="'word' for this task; valid: patch, pixel"):
        explainer.backend.attribute(problem)
