"""Explanations of the real MiniLM heads of helpers/real_heads.py through attrix: they point where they must, and are complete."""

from __future__ import annotations

import pytest

import attrix
from helpers.real_heads import TOPICS

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def assert_complete(explanation):
    """Every target's token scores sum to score − baseline_score up to its delta."""
    assert explanation.targets
    for target in explanation.targets:
        gap = target.score - target.baseline_score
        assert target.total - gap == pytest.approx(target.delta, abs=1e-5)


def top_token(target) -> int:
    """The index of the token with the largest attribution toward ``target``."""
    return max(range(len(target.token_scores)), key=target.token_scores.__getitem__)


@pytest.mark.parametrize(
    "text, drivers",
    [
        ("The child seemed furious and terrified after the meeting ended.", {"anger": "furious", "fear": "terrified"}),
        ("Our neighbour got stunned and delighted once the package came, honestly.", {"surprise": "stunned", "joy": "delighted"}),
    ],
)
def test_each_emotion_word_drives_its_own_emotion_most(emotion_head, text, drivers):
    explanation = attrix.Explainer(*emotion_head)(text)
    assert explanation.task == "multilabel"
    assert sorted(explanation.details["predicted_labels"]) == sorted(drivers)
    assert [target.label for target in explanation.targets] == ["joy", "anger", "fear", "surprise"]
    for label, word in drivers.items():
        assert explanation.top_words(1, label)[0][0] == word
    assert_complete(explanation)


@pytest.mark.parametrize(
    "text, entities",
    [
        ("Hannah Silva works in Lisbon.", {"hannah": "B-PER", "silva": "I-PER", "lisbon": "B-LOC"}),
        ("Last week Kenji visited Cape Town.", {"kenji": "B-PER", "cape": "B-LOC", "town": "I-LOC"}),
    ],
)
def test_each_name_and_place_drives_its_own_entity_label_most(ner_head, text, entities):
    explanation = attrix.Explainer(*ner_head, task="token", ignored_labels=["O"])(text)
    assert {explanation.tokens[t.position]: t.label for t in explanation.targets} == entities
    for target in explanation.targets:
        if target.label.startswith("B-"):
            assert top_token(target) == target.position, (explanation.tokens[target.position], target.token_scores)
    assert_complete(explanation)


def test_a_saved_ner_head_loads_by_directory_and_explains_the_same(ner_head, tmp_path):
    model, tokenizer = ner_head
    model.save_pretrained(tmp_path)
    tokenizer.save_pretrained(tmp_path)
    text = "Priya grew up near Boston."
    loaded = attrix.Explainer(str(tmp_path), n_steps=16)(text)
    direct = attrix.Explainer(model, tokenizer, task="token", n_steps=16)(text)
    assert loaded.task == "token"
    assert [(e["entity_group"], e["word"]) for e in loaded.details["entities"]] == [("PER", "priya"), ("LOC", "boston")]
    assert [t.token_scores for t in loaded.targets] == [pytest.approx(t.token_scores, abs=1e-6) for t in direct.targets]


@pytest.mark.parametrize(
    "text, topic, word",
    [
        ("She told me about the football yesterday.", "sports", "football"),
        ("I read a short report on the election this morning.", "politics", "election"),
    ],
)
def test_the_topic_word_drives_its_zero_shot_label_most(nli_head, text, topic, word):
    explainer = attrix.Explainer(*nli_head, task="zero_shot")
    explanation = explainer({"text": text, "candidate_labels": list(TOPICS)}, target=topic)
    assert explanation.predicted_label == topic
    assert [target.label for target in explanation.targets] == [topic]
    assert explanation.top_words(1)[0][0] == word
    assert_complete(explanation)


@pytest.mark.parametrize(
    "question, context, answer",
    [
        ("Where does Priya work?", "Priya works in Prague.", "Prague"),
        ("Where was Tom born?", "Born in Mexico City, Tom later became a doctor.", "Mexico City"),
        ("Who lives in Seoul?", "After many years abroad, Elena Novak now lives in Seoul again.", "Elena Novak"),
    ],
)
def test_the_answer_tokens_drive_its_start_and_end_most(qa_head, question, context, answer):
    explanation = attrix.Explainer(*qa_head)((question, context))
    assert explanation.task == "qa"
    assert explanation.predicted_label == answer
    start, end = explanation.target("start"), explanation.target("end")
    assert (start.position, end.position) == (explanation.details["start_token"], explanation.details["end_token"])
    assert top_token(start) == start.position
    assert top_token(end) == end.position
    assert_complete(explanation)
    for target in (start, end):  # logits are not saturated: the integral converges in the default steps
        assert abs(target.delta) < 0.02 * abs(target.score - target.baseline_score)
