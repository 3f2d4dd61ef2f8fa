"""``attrix.evaluate`` on every built-in task: the problem prepared again, every metric per target beside a random
reference, scored by removing features in passes shared by every target, and stored in the explanations."""

from __future__ import annotations

import functools
import math

import pytest
import torch

import attrix
from attrix.integration.removal import RemovalScorer, feature_ids, per_feature
from helpers.task_cases import task_case

METRICS = ("comprehensiveness", "sufficiency", "deletion_auc", "insertion_auc", "loo_correlation", "completeness")
PLAUSIBILITY = ("token_f1", "token_iou", "auprc")
TASKS = ("sequence", "pairwise", "multilabel", "zero_shot", "qa", "token", "image", "generation")
ONE_AND_MORE = {
    "sequence": (0, "all"),
    "pairwise": (0, "all"),
    "multilabel": (0, "all"),
    "zero_shot": (None, None),
    "qa": ("start", "all"),
    "token": ("O", ["O", "B-PER", "I-PER"]),
    "image": (0, "all"),
    "generation": (0, "all"),
}
"""One target and several, per task (zero-shot explains one per label, whatever is asked)."""


@pytest.fixture(scope="module", autouse=True)
def threads(one_torch_thread):
    """One torch thread: these tests run many small forward passes."""


@functools.cache
def explainer_of(task: str, backend: str | None = None) -> attrix.Explainer:
    model, processor, _ = task_case(task)
    return attrix.Explainer(model, processor, task=task, backend=backend, **({"n_steps": 8} if backend is None else {}))


class Passes:
    """Counts the model's forward passes and the rows they run while the block runs."""

    def __init__(self, model):
        self.model, self.passes, self.rows = model, 0, 0

    def __enter__(self):
        self.handle = self.model.register_forward_pre_hook(self.count, with_kwargs=True)
        return self

    def __exit__(self, *exc):
        self.handle.remove()

    def count(self, module, args, kwargs):
        value = next(v for k, v in kwargs.items() if k in ("inputs_embeds", "pixel_values", "input_ids") and v is not None)
        self.passes, self.rows = self.passes + 1, self.rows + value.shape[0]


def measured(task: str, target, metric: str, random: bool = False) -> tuple[Passes, torch.Tensor]:
    """The passes one metric runs on the task's inputs toward ``target``, and its values."""
    explainer = explainer_of(task)
    _, _, inputs = task_case(task)
    prepared = explainer.task.prepare([explainer.task.check(item) for item in inputs], target)
    problem = prepared.problem
    ids = feature_ids(problem, None)
    scorer = RemovalScorer(problem, ids, rows_per_pass=4096)
    table = per_feature(explainer.backend.attribute(problem).values, ids, scorer.first)
    if random:
        table = (
            torch.rand(scorer.present.shape, generator=torch.Generator().manual_seed(0)).to(table).unsqueeze(1).expand_as(table)
        )
    with Passes(explainer.model) as passes:
        values = attrix.create("metric", metric).measure(table, scorer).values
    return passes, values


@pytest.mark.parametrize("task", TASKS)
def test_every_task_is_evaluated_per_target_beside_a_random_reference(task):
    _, _, inputs = task_case(task)
    evaluation = attrix.evaluate(inputs, explainer_of(task), METRICS, target=ONE_AND_MORE[task][1])
    assert len(evaluation.explanations) == len(inputs)
    for explanation in evaluation.explanations:
        assert set(explanation.metrics) == set(METRICS)
        for name, result in explanation.metrics.items():
            assert len(result["values"]) == len(explanation.targets), name
            assert (result["random"] is None) == (name == "completeness")
            assert result["removal"] == "baseline" and result["features"] == ("patch" if task == "image" else "word")
        assert all(math.isfinite(value) for value in explanation.metrics["comprehensiveness"]["values"] if value is not None)
        assert explanation.metrics["completeness"]["values"][0] < 0.5, "ig with a few steps nearly adds up"
    rows = {(row["input"], row["target"], row["position"], row["metric"]) for row in evaluation.rows}
    assert len(rows) == len(evaluation.rows) == sum(len(e.targets) for e in evaluation.explanations) * len(METRICS)
    assert "| comprehensiveness |" in str(evaluation)


@pytest.mark.parametrize("task", TASKS)
@pytest.mark.parametrize("metric", ["comprehensiveness", "loo_correlation"])
def test_forward_passes_do_not_grow_with_the_targets(task, metric):
    one, more = ONE_AND_MORE[task]
    few, _ = measured(task, one, metric)
    many, values = measured(task, more, metric)
    assert few.passes == many.passes == 1
    assert values.shape[1] >= 2 or task == "zero_shot"


@pytest.mark.parametrize("task", ["sequence", "qa", "token", "image"])
def test_a_ranking_shared_by_every_target_runs_each_variant_once(task):
    one, more = ONE_AND_MORE[task]
    few, _ = measured(task, one, "comprehensiveness", random=True)
    many, _ = measured(task, more, "comprehensiveness", random=True)
    assert few.rows == many.rows


@pytest.mark.parametrize("task", TASKS)
def test_removing_every_feature_gives_the_score_at_the_baseline(task):
    explainer = explainer_of(task)
    _, _, inputs = task_case(task)
    problem = explainer.task.prepare([explainer.task.check(item) for item in inputs], None).problem
    scorer = RemovalScorer(problem, feature_ids(problem, None), rows_per_pass=64)
    with torch.no_grad():
        at_baseline = problem.scores(problem.forward(**problem.baselines))
        at_input = problem.scores(problem.forward(**problem.inputs))
    torch.testing.assert_close(scorer.baseline_scores, at_baseline, atol=1e-5, rtol=0)
    torch.testing.assert_close(scorer.scores, at_input, atol=1e-5, rtol=0)
    none = scorer.score(torch.zeros_like(scorer.present).view(1, problem.batch_size, 1, -1))[0]
    torch.testing.assert_close(none, at_baseline, atol=1e-5, rtol=0)


def test_explanations_are_evaluated_toward_their_own_targets_and_hold_the_values():
    explainer = explainer_of("sequence")
    _, _, inputs = task_case("sequence")
    explanations = explainer(inputs, target=["LABEL_2", "LABEL_0"])
    evaluation = attrix.evaluate(explanations, explainer, ["comprehensiveness"])
    assert evaluation.explanations[0] is explanations[0]
    direct = attrix.evaluate(inputs, explainer, ["comprehensiveness"], target=["LABEL_2", "LABEL_0"])
    assert [e.to_dict()["metrics"] for e in explanations] == [e.to_dict()["metrics"] for e in direct.explanations]
    assert [row["target"] for row in evaluation.rows[:2]] == ["LABEL_2", "LABEL_0"]


def test_explanations_read_back_from_json_are_evaluated_alike():
    explainer = explainer_of("sequence")
    _, _, inputs = task_case("sequence")
    explanation = explainer(inputs[0])
    stored = attrix.Explanation.from_json(explanation.to_json())
    attrix.evaluate(stored, explainer, ["sufficiency"])
    attrix.evaluate(explanation, explainer, ["sufficiency"])
    assert stored.to_dict()["metrics"] == explanation.to_dict()["metrics"]


def test_metrics_round_trip_through_json_and_are_left_out_when_empty():
    explainer = explainer_of("sequence")
    _, _, inputs = task_case("sequence")
    explanation = explainer(inputs[0])
    assert "metrics" not in explanation.to_dict()
    attrix.evaluate(explanation, explainer, ["comprehensiveness", "completeness"])
    data = explanation.to_dict()
    assert set(data["metrics"]) == {"comprehensiveness", "completeness"}
    assert attrix.Explanation.from_json(explanation.to_json()).to_dict() == data


def test_the_random_reference_is_fixed_by_the_seed():
    explainer = explainer_of("sequence")
    _, _, inputs = task_case("sequence")
    first, again, other = (attrix.evaluate(inputs, explainer, ["deletion_auc"], seed=seed).rows for seed in (1, 1, 2))
    assert first == again
    assert [row["random"] for row in first] != [row["random"] for row in other]


def test_an_unknown_metric_lists_the_valid_ones():
    explainer = explainer_of("sequence")
    with pytest.raises(attrix.UnknownNameError, match="valid: .*completeness, comprehensiveness"):
        attrix.evaluate("a good film", explainer, ["comprehensivness"])


@pytest.mark.parametrize(
    "options,message",
    [
        ({"removal": "drop"}, "'baseline', 'pad', 'unk', 'mask', 'delete'"),
        ({"rows_per_pass": 0}, "rows_per_pass"),
        ({"metrics": []}, "at least one metric"),
    ],
)
def test_bad_options_are_refused_with_what_is_allowed(options, message):
    with pytest.raises(attrix.InputError, match=message):
        attrix.evaluate("a good film", explainer_of("sequence"), **{"metrics": ["comprehensiveness"], **options})


def test_an_unknown_grouping_lists_the_tasks_own():
    with pytest.raises(attrix.UnknownNameError, match="unknown features 'letter' for this task; valid: sentence, token, word"):
        attrix.evaluate("a good film", explainer_of("sequence"), ["comprehensiveness"], features="letter")


def test_an_explanation_of_another_backend_is_refused():
    explanation = explainer_of("sequence", "feature_ablation")("a good film")
    with pytest.raises(attrix.InputError, match="backend 'feature_ablation'.*explainer that made it"):
        attrix.evaluate(explanation, explainer_of("sequence"))


def test_metrics_are_plugins_listed_like_the_others():
    entries = [entry for entry in attrix.get_registry().all() if entry.kind == "metric"]
    assert {entry.name for entry in entries} == {*METRICS, *PLAUSIBILITY, "infidelity", "sensitivity_max"}
    assert all(entry.plugin.startswith("attrix.metrics.") and entry.distribution == "attrix" for entry in entries)
    assert [entry.to_dict()["options"] for entry in entries if entry.name == "comprehensiveness"] == [
        ["fractions", "only_positive"]
    ]


class TopFeatureDrop(attrix.Metric):
    """The drop of each target's score when its top feature alone is removed."""

    name = "top_drop"
    higher_is_better = True

    def measure(self, attributions, scorer):
        ranked = attributions.masked_fill(~scorer.present.unsqueeze(1), float("-inf"))
        kept = scorer.present.unsqueeze(1).expand_as(attributions).clone().scatter_(-1, ranked.argmax(-1, keepdim=True), False)
        return attrix.Measured(scorer.scores - scorer.score(kept))


class TopDropPlugin:
    """A third-party plugin registering one metric."""

    @attrix.hookimpl
    def register_metrics(self, register):
        register(TopFeatureDrop)


def test_a_third_party_metric_is_registered_and_evaluated_like_the_built_ins():
    pm = attrix.plugin_manager()
    pm.register(TopDropPlugin(), name="top-drop-plugin")
    try:
        assert attrix.get_registry().get("metric", "top_drop").plugin == "top-drop-plugin"
        explainer = explainer_of("sequence")
        _, _, inputs = task_case("sequence")
        top = attrix.evaluate(inputs, explainer, ["top_drop", "loo_correlation"], target="all").explanations
    finally:
        pm.unregister(name="top-drop-plugin")
    assert "top_drop" not in attrix.get_registry().entries["metric"]
    for explanation in top:
        drops = explanation.metrics["loo_correlation"]["curves"]
        for number, target in enumerate(explanation.targets):
            best = max(range(len(target.word_scores)), key=target.word_scores.__getitem__)
            assert explanation.metrics["top_drop"]["values"][number] == pytest.approx(drops[number][best], abs=1e-6)


@pytest.mark.parametrize("task", [task for task in TASKS if task != "image"])
def test_explanations_of_every_text_task_get_the_values_their_inputs_get(task):
    explainer = explainer_of(task)
    _, _, inputs = task_case(task)
    target = ONE_AND_MORE[task][1]
    explanations = explainer(inputs, target=target)
    attrix.evaluate(explanations, explainer, ["comprehensiveness", "loo_correlation"])
    direct = attrix.evaluate(inputs, explainer, ["comprehensiveness", "loo_correlation"], target=target)
    assert [e.to_dict()["metrics"] for e in explanations] == [e.to_dict()["metrics"] for e in direct.explanations]
