"""Quality by default: attrix's own API integrates with ``n_steps="auto"`` (the drop-in classes keep
transformers-interpret's 50 steps), and each explained target says whether its completeness holds within the
backend's tolerance (``converged``), or None where the method claims none."""

from __future__ import annotations

import functools

import pytest

import attrix
from attrix.compat.sequence import SequenceClassificationExplainer
from attrix.contracts.explanation import SCHEMA_VERSION
from helpers.tiny_models import build_wide

TEXTS = ["i love this movie", "awful , just awful", "it was fine i guess but the end dragged on"]
LONG = " ".join(f"anna went to berlin on day {n} and the food was good ." for n in range(12))


@functools.cache
def bert():
    """A tiny float64 model whose outputs depend on the words, so that few steps leave real errors."""
    return build_wide("bert", "sequence", 3)


def relative_error(target) -> float:
    return abs(target.delta) / abs(target.score - target.baseline_score)


def test_the_explainer_defaults_to_auto_steps_and_the_drop_ins_to_fifty():
    explanation = attrix.Explainer(*bert())(TEXTS[0])
    assert explanation.settings["n_steps"] == "auto" and "steps_used" in explanation.settings
    legacy = SequenceClassificationExplainer(*bert())
    legacy(TEXTS[0])
    assert legacy.explanation.settings["n_steps"] == 50


def test_auto_steps_converge_where_one_step_does_not():
    few = attrix.Explainer(*bert(), n_steps=1)(TEXTS, target="all")
    auto = attrix.Explainer(*bert())(TEXTS, target="all")
    few_targets = [target for explanation in few for target in explanation.targets]
    auto_targets = [target for explanation in auto for target in explanation.targets]
    assert all(target.converged is (relative_error(target) <= 0.01) for target in few_targets)
    assert any(target.converged is False for target in few_targets)
    assert all(target.converged is True and relative_error(target) <= 0.01 for target in auto_targets)


@pytest.mark.parametrize("tolerance", [0.2, 0.02])
def test_fixed_steps_are_judged_by_the_tolerance_given(tolerance):
    explanations = attrix.Explainer(*bert(), n_steps=4, tolerance=tolerance)(TEXTS, target="all")
    targets = [target for explanation in explanations for target in explanation.targets]
    assert [target.converged for target in targets] == [relative_error(target) <= tolerance for target in targets]
    assert {target.converged for target in targets} == {True, False}
    assert explanations[0].settings["tolerance"] == tolerance


@pytest.mark.parametrize(
    ("backend", "options"),
    [("occlusion", {}), ("saliency", {}), ("ig", {"noise_tunnel": "smoothgrad", "nt_samples": 2, "seed": 0})],
)
def test_methods_without_completeness_leave_converged_unknown(backend, options):
    explanation = attrix.Explainer(*bert(), backend=backend, **options)(TEXTS[0])
    assert explanation.converged == [None]


def test_a_noise_tunnel_without_steps_takes_fifty():
    explanation = attrix.Explainer(*bert(), backend="ig", noise_tunnel="smoothgrad", nt_samples=2, seed=0)(TEXTS[0])
    assert explanation.settings["n_steps"] == 50


def test_windows_converge_by_each_windows_own_completeness():
    explanation = attrix.Explainer(*bert(), long_inputs="windows", stride=8)(LONG, target="all")
    windows = explanation.details["windows"]
    assert len(windows) > 1
    for column, target in enumerate(explanation.targets):
        each = [abs(w["deltas"][column]) <= 0.01 * abs(w["scores"][column] - w["baseline_scores"][column]) for w in windows]
        assert target.converged is all(each) is True


def test_converged_survives_json_and_older_documents_read_as_unknown():
    explanation = attrix.Explainer(*bert(), n_steps=1)(TEXTS[1], target="all")
    data = explanation.to_dict()
    assert data["schema_version"] == SCHEMA_VERSION == 3
    assert attrix.Explanation.from_dict(data).converged == explanation.converged
    for target in data["targets"]:
        del target["converged"]
    older = attrix.Explanation.from_dict({**data, "schema_version": 2})
    assert older.converged == [None] * len(explanation.targets)
    data["targets"][0]["converged"] = "yes"
    with pytest.raises(attrix.InputError, match=r"targets\[0\]\.converged"):
        attrix.Explanation.from_dict({**data, "schema_version": 3})
