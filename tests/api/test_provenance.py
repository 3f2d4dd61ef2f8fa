"""The ``Explainer`` stamps how every explanation was made, once for all tasks: task, model, backend, settings, versions."""

from __future__ import annotations

import importlib.metadata

import pytest

import attrix
from attrix.api.provenance import stamp, versions
from attrix.plugins.sequence import SequenceClassification
from helpers.plugins import plugged
from helpers.tiny_models import build
from helpers.tiny_nli import build_nli

PACKAGES = ("attrix", "torch", "transformers", "captum")


@pytest.fixture(scope="module")
def bert():
    return build("bert", num_labels=2, seed=1)


def test_an_explanation_records_task_model_backend_settings_and_versions(bert):
    explainer = attrix.Explainer(*bert, backend="ig", n_steps=4, word_aggregation="mean")
    explanation = explainer("i love this movie")
    assert (explanation.task, explanation.model, explanation.method) == ("sequence", explainer.task.model_name, "ig")
    assert explanation.settings == {**explainer.backend.settings(), **explainer.task.settings()}
    assert list(explanation.settings)[:2] == ["n_steps", "method"] and list(explanation.settings)[-2:] == ["embedding", "long_inputs"]
    assert explanation.details["versions"] == {name: importlib.metadata.version(name) for name in PACKAGES} == versions()
    assert attrix.Explanation.from_json(explanation.to_json()).details["versions"] == versions()


def test_adaptive_steps_record_the_steps_of_each_explanations_own_rows(bert):
    explanations = attrix.Explainer(*bert, n_steps="auto")(["i love this movie", "awful", "it was fine i guess"])
    assert all(isinstance(e.settings["steps_used"], int) and e.settings["steps_used"] >= 9 for e in explanations)
    assert list(explanations[0].settings).index("steps_used") == list(explanations[0].settings).index("autocast") + 1


def test_zero_shot_records_the_steps_of_its_labels_rows():
    model, tokenizer = build_nli("bert")
    explainer = attrix.Explainer(model, tokenizer, task="zero_shot", n_steps="auto")
    items = [{"text": "i love it", "candidate_labels": ["food", "music", "art"]}, {"text": "bad", "candidate_labels": ["x"]}]
    prepared = explainer.task.prepare([explainer.task.check(item) for item in items], None)
    assert prepared.rows == [[0, 1, 2], [3]]
    first, second = explainer(items)
    assert first.task == second.task == "zero_shot" and "steps_used" in first.settings and "steps_used" in second.settings
    assert first.settings["candidate_labels"] is None and first.method == "layer_ig"


class BareLogit(SequenceClassification):
    """A third-party-style task whose explanations say nothing of how they were made, but one setting of its own."""

    name = "test_bare_logit"

    def explanations(self, prepared, attributions):
        explanations = super().explanations(prepared, attributions)
        for explanation in explanations:
            explanation.settings = {"logit": True}
        return explanations


def test_a_third_party_task_gets_its_explanations_stamped_and_keeps_its_own_settings(bert):
    with plugged(BareLogit):
        explainer = attrix.Explainer(*bert, task="test_bare_logit", backend="grad_x_input")
        explanation = explainer("i love this movie")
    assert (explanation.task, explanation.method) == ("test_bare_logit", "grad_x_input")
    assert explanation.settings == {**explainer.task.settings(), "logit": True}
    assert explanation.details["versions"] == versions()


def test_an_explanation_made_by_hand_has_empty_provenance_until_stamped(bert):
    explanation = attrix.Explanation(inputs={"text": "x"}, tokens=[], words=[], targets=[], predicted_label="A", probabilities={})
    assert (explanation.task, explanation.model, explanation.method, explanation.settings) == ("", "", "", {})
    explainer = attrix.Explainer(*bert)
    with pytest.raises(ValueError, match="made 1 explanations for a batch of 2 inputs"):
        stamp([explanation], explainer.task, explainer.backend, None, [[0], [1]])
