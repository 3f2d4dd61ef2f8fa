"""The real MiniLM heads of helpers/real_heads.py do their jobs on held-out data, judged through plain transformers."""

from __future__ import annotations

import re
from statistics import mean

import pytest
import torch
from transformers import pipeline

from helpers.real_heads import (
    EMOTIONS,
    NER_LABELS,
    TOPICS,
    emotion_examples,
    ner_examples,
    piece_labels,
    qa_examples,
    topic_examples,
)

pytestmark = pytest.mark.usefixtures("one_torch_thread")

MODEL_INPUTS = ("input_ids", "attention_mask", "token_type_ids")


def logits_of(model, encoding):
    with torch.no_grad():
        return model(**{key: encoding[key] for key in MODEL_INPUTS})


def best_span(start: torch.Tensor, end: torch.Tensor, allowed: torch.Tensor) -> tuple[int, int]:
    """The (first, last) token pair inside ``allowed`` with last ≥ first and the largest start + end logit."""
    total = start[:, None] + end[None, :]
    valid = allowed[:, None] & allowed[None, :] & torch.ones_like(total, dtype=torch.bool).triu()
    first, last = divmod(int(total.masked_fill(~valid, float("-inf")).argmax()), len(start))
    return first, last


def test_held_out_data_shares_no_sentence_name_or_place_with_training():
    for examples in (emotion_examples, topic_examples, qa_examples, ner_examples):
        assert not {str(row) for row in examples("train")} & {str(row) for row in examples("test")}
    seen = " ".join([text for text, _ in ner_examples("train")] + [context for _, context, _ in qa_examples("train")])
    for text, spans in ner_examples("test", 50):
        for start, end, _ in spans:
            assert not re.search(rf"\b{re.escape(text[start:end])}\b", seen), text[start:end]


def test_emotion_head_names_exactly_the_emotions_of_held_out_sentences(emotion_head):
    model, tokenizer = emotion_head
    rows = emotion_examples("test", 100)
    probabilities = torch.sigmoid(logits_of(model, tokenizer([text for text, _ in rows], padding=True, return_tensors="pt")).logits)
    predicted = [{EMOTIONS[i] for i in (row > 0.5).nonzero().flatten().tolist()} for row in probabilities]
    assert mean(guess == emotions for guess, (_, emotions) in zip(predicted, rows)) >= 0.9


def test_emotion_head_gives_two_emotions_at_once_through_the_pipeline(emotion_head):
    model, tokenizer = emotion_head
    assert model.config.problem_type == "multi_label_classification"
    classify = pipeline("text-classification", model=model, tokenizer=tokenizer, top_k=None)
    [rows] = classify(["The child seemed furious and terrified after the meeting ended."])
    scores = {row["label"]: row["score"] for row in rows}
    assert scores["anger"] > 0.5 and scores["fear"] > 0.5  # only independent sigmoids can both pass 0.5
    assert scores["joy"] < 0.5 and scores["surprise"] < 0.5


def test_ner_head_labels_the_word_pieces_of_held_out_people_and_places(ner_head):
    model, tokenizer = ner_head
    rows = ner_examples("test", 100)
    encoding = tokenizer([text for text, _ in rows], padding=True, return_offsets_mapping=True, return_tensors="pt")
    gold = torch.tensor([piece_labels(encoding, row, spans) for row, (_, spans) in enumerate(rows)])
    predicted = logits_of(model, encoding).logits.argmax(-1)
    outside = NER_LABELS.index("O")
    entity = (gold != outside) & (gold >= 0)
    assert (predicted[entity] == gold[entity]).float().mean() >= 0.9
    assert (predicted[gold == outside] == outside).float().mean() >= 0.9


def test_token_classification_pipeline_finds_the_held_out_people_and_places(ner_head):
    model, tokenizer = ner_head
    find = pipeline("token-classification", model=model, tokenizer=tokenizer, aggregation_strategy="simple")
    rows = ner_examples("test", 30)
    found = {(n, e["start"], e["end"], e["entity_group"]) for n, (text, _) in enumerate(rows) for e in find(text)}
    gold = {(n, *span) for n, (_, spans) in enumerate(rows) for span in spans}
    assert len(found & gold) >= 0.9 * len(gold)  # recall
    assert len(found & gold) >= 0.9 * len(found)  # precision


def test_zero_shot_pipeline_ranks_the_topic_of_held_out_sentences_first(nli_head):
    model, tokenizer = nli_head
    classify = pipeline("zero-shot-classification", model=model, tokenizer=tokenizer)
    rows = [(text, topic) for text, topic, _ in topic_examples("test", 40) if topic is not None][:24]
    results = classify([text for text, _ in rows], candidate_labels=list(TOPICS))
    assert mean(result["labels"][0] == topic for result, (_, topic) in zip(results, rows)) >= 0.9


def test_qa_head_answers_held_out_questions_exactly(qa_head):
    model, tokenizer = qa_head
    rows = qa_examples("test", 100)
    encoding = tokenizer([q for q, _, _ in rows], [c for _, c, _ in rows], padding=True, return_offsets_mapping=True, return_tensors="pt")
    output = logits_of(model, encoding)
    answers = []
    for row, (_, context, _) in enumerate(rows):
        in_context = torch.tensor([sequence == 1 for sequence in encoding.sequence_ids(row)])
        first, last = best_span(output.start_logits[row], output.end_logits[row], in_context)
        answers.append(context[encoding["offset_mapping"][row, first, 0] : encoding["offset_mapping"][row, last, 1]])
    assert mean(answer == gold for answer, (_, _, gold) in zip(answers, rows)) >= 0.9
