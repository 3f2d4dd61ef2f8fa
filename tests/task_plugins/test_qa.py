"""The question-answering task: SQuAD decoding, start and end from one problem against captum, pair encoding and bad input."""

from __future__ import annotations

import functools

import numpy as np
import pytest
import torch
import transformers_interpret
from captum.attr import LayerIntegratedGradients
from transformers.pipelines.document_question_answering import select_starts_ends

import attrix
from attrix.text.encoding import TruncationWarning
from helpers.tiny_models import build

PAIRS = [
    ("who is the best actor", "the food was awful but the actor was great and the music was wonderful"),
    ("what was boring", "the plot was boring"),
    ("why", "i love this movie it is wonderful and the story is interesting but the music is sad"),
]


@functools.cache
def qa_model(arch):
    """The tiny question-answering model most tests read (never modified)."""
    return build(arch, head="qa", seed=4)


def reference_span(start, end, context, max_answer_len):
    """The context span (i, j), j ≥ i, of at most ``max_answer_len`` tokens with the largest start[i] + end[j]; first on ties."""
    best = None
    for i in context:
        for j in context:
            if i <= j < i + max_answer_len and (best is None or start[i] + end[j] > best[0]):
                best = (start[i] + end[j], i, j)
    return best[1], best[2]


def logits_of(model, tokenizer, question, context):
    encoding = tokenizer(question, context, return_tensors="pt")
    with torch.no_grad():
        output = model(**encoding)
    return encoding, output.start_logits[0], output.end_logits[0]


@pytest.mark.parametrize("arch", ["bert", "roberta", "deberta-v2"])
@pytest.mark.parametrize("max_answer_len", [1, 3, 15])
def test_answer_is_the_best_context_span(arch, max_answer_len):
    model, tokenizer = qa_model(arch)
    explanations = attrix.Explainer(model, tokenizer, n_steps=1, max_answer_len=max_answer_len)(PAIRS)
    for (question, context), explanation in zip(PAIRS, explanations):
        encoding, start, end = logits_of(model, tokenizer, question, context)
        sequence_ids = encoding.sequence_ids(0)
        in_context = [i for i, sequence in enumerate(sequence_ids) if sequence == 1]
        first, last = reference_span(start.tolist(), end.tolist(), in_context, max_answer_len)
        details = explanation.details
        assert (details["start_token"], details["end_token"]) == (first, last)
        assert [t.position for t in explanation.targets] == [first, last]
        assert last - first < max_answer_len and first in in_context and last in in_context
        # the span score as transformers' pipelines compute it: context and [CLS] normalised, [CLS] then dropped
        p_mask = np.array([sequence != 1 for sequence in sequence_ids], dtype=int)
        p_mask[encoding["input_ids"][0].numpy() == tokenizer.cls_token_id] = 0
        starts, ends, scores, _ = select_starts_ends(
            start.numpy()[None], end.numpy()[None], p_mask, encoding["attention_mask"].numpy(), max_answer_len=max_answer_len
        )
        assert (int(starts[0]), int(ends[0])) == (first, last)
        assert details["score"] == pytest.approx(float(scores[0]), rel=1e-4)
        assert explanation.probabilities["start"] * explanation.probabilities["end"] == pytest.approx(details["score"])
        # the answer is the context's text, widened to whole words around the span's tokens
        begin, finish = details["start"], details["end"]
        assert explanation.predicted_label == details["answer"] == context[begin:finish]
        assert begin == 0 or context[begin - 1] == " "
        assert finish == len(context) or context[finish] == " "
        offsets = tokenizer(question, context, return_offsets_mapping=True)["offset_mapping"]
        assert context[offsets[first][0] : offsets[last][1]].strip() in details["answer"]


@pytest.mark.parametrize("arch", ["bert", "roberta"])
def test_answer_inside_a_multi_piece_word_is_widened_to_the_whole_word(arch):
    model, tokenizer = qa_model(arch)
    words = ["wonderful", "interesting", "enjoyable", "beautiful", "careful"]
    assert all(len(tokenizer.tokenize(" " + word)) == 2 for word in words)
    explanation = attrix.Explainer(model, tokenizer, n_steps=1, max_answer_len=1)(("what", " ".join(words)))
    piece = explanation.tokens[explanation.details["start_token"]]
    assert explanation.details["start_token"] == explanation.details["end_token"]
    assert explanation.details["answer"] in words and piece.lstrip("#Ġ") != explanation.details["answer"]


@pytest.mark.parametrize("arch", ["bert", "distilbert"])
def test_start_and_end_from_one_problem_equal_captum_per_target(arch):
    model, tokenizer = build(arch, head="qa", seed=5)
    model = model.double()
    question, context = PAIRS[0]
    explainer = attrix.Explainer(model, tokenizer, n_steps=16)
    problem = explainer.task.prepare([(question, context)], None).problem
    explanation = explainer((question, context))
    encoding = tokenizer(question, context, return_tensors="pt", return_special_tokens_mask=True)
    special = encoding.pop("special_tokens_mask").bool()
    length = encoding["input_ids"].shape[1]
    start, end = explanation.targets
    assert problem.targets.tolist() == [[start.position, length + end.position]]
    assert (start.label, end.label, start.index, end.index) == ("start", "end", start.position, length + end.position)
    baseline = torch.where(special, encoding["input_ids"], tokenizer.pad_token_id)
    keys = [key for key in encoding if key != "input_ids"]
    for target, head in ((start, "start_logits"), (end, "end_logits")):

        def forward(ids, *rest):
            return getattr(model(input_ids=ids, **dict(zip(keys, rest))), head)

        expected = LayerIntegratedGradients(forward, model.get_input_embeddings()).attribute(
            encoding["input_ids"], baselines=baseline, additional_forward_args=tuple(encoding[k] for k in keys),
            target=target.position, n_steps=16,
        )[0].sum(-1)
        assert torch.allclose(torch.tensor(target.token_scores, dtype=torch.float64), expected, atol=1e-5, rtol=0)
        assert target.total - (target.score - target.baseline_score) == pytest.approx(target.delta, abs=1e-9)
        assert abs(target.delta) < 1e-2 * abs(target.score - target.baseline_score)
        with torch.no_grad():
            assert target.score == pytest.approx(float(getattr(model(**encoding), head)[0, target.position]))


def test_start_or_end_alone_equals_its_half_of_the_pair():
    model, tokenizer = build("bert", head="qa", seed=5)
    explainer = attrix.Explainer(model.double(), tokenizer, n_steps=8)
    both = explainer(PAIRS[1])
    for label in ("start", "end"):
        alone = explainer(PAIRS[1], target=label)
        assert [t.label for t in alone.targets] == [label]
        assert alone.targets[0].token_scores == pytest.approx(both.target(label).token_scores, abs=1e-9)
        assert alone.details == both.details


@pytest.mark.parametrize("arch", ["bert", "roberta"])
def test_pair_is_encoded_by_the_tokenizer_with_words_of_both_texts(arch):
    model, tokenizer = qa_model(arch)
    question, context = PAIRS[1]
    seen = []
    handle = model.register_forward_pre_hook(lambda module, args, kwargs: seen.append(dict(kwargs)), with_kwargs=True)
    try:
        explanation = attrix.Explainer(model, tokenizer, n_steps=1)({"question": question, "context": context})
    finally:
        handle.remove()
    normal = tokenizer(question, context, return_tensors="pt")
    assert explanation.tokens == tokenizer.convert_ids_to_tokens(normal["input_ids"][0])
    for key, value in normal.items():
        assert torch.equal(seen[0][key], value)
    assert [(w.text, w.sequence) for w in explanation.words] == [(w, 0) for w in question.split()] + [
        (w, 1) for w in context.split()
    ]
    assert explanation.inputs == {"question": question, "context": context}
    assert attrix.Explanation.from_json(explanation.to_json()) == explanation


def test_long_context_is_truncated_never_the_question():
    model, tokenizer = qa_model("bert")
    question = "who is the best actor"
    context = " ".join(["the actor was great"] * 20)
    full = len(tokenizer(question, context)["input_ids"])
    with pytest.warns(TruncationWarning, match=f"has {full} tokens but the model accepts at most 64"):
        explanation = attrix.Explainer(model, tokenizer, n_steps=1)((question, context))
    assert len(explanation.tokens) == 64 and explanation.tokens[-1] == "[SEP]"
    assert explanation.tokens[1 : 1 + len(question.split())] == question.split()
    kept = context.split()[: 64 - 3 - len(question.split())]
    assert [w.text for w in explanation.words] == question.split() + kept
    assert explanation.details["end"] <= len(" ".join(kept))


def test_question_leaving_no_room_for_the_context_is_refused():
    model, tokenizer = qa_model("bert")
    with pytest.raises(attrix.InputError, match="the question takes 66 of the model's 64 tokens"):
        attrix.Explainer(model, tokenizer)((" ".join(["who"] * 63), "the actor"))


@pytest.mark.parametrize("bad, error, message", [
    (("", "the plot"), attrix.InputError, "question is empty"),
    (("why", "  "), attrix.InputError, "context is empty"),
    (("why", "\x00"), attrix.InputError, r"the context '\\x00' gives no tokens to answer from"),
    ((3, "the plot"), TypeError, "question must be a string, got int"),
    ("why is the plot boring", TypeError, r"a qa input is a \(question, context\) tuple .* got str"),
    (("why", "the plot", "again"), TypeError, r"a qa input is a \(question, context\) tuple"),
    ({"question": "why"}, attrix.InputError, r"a qa input dict needs exactly the keys 'question' and 'context', got \['question'\]"),
])
def test_bad_input_gets_a_clear_error(bad, error, message):
    model, tokenizer = qa_model("bert")
    with pytest.raises(error, match=message):
        attrix.Explainer(model, tokenizer)(bad)
    with pytest.raises(error, match=f"input 1: {message}"):
        attrix.Explainer(model, tokenizer)([PAIRS[0], bad])


def test_bad_options_and_targets_are_refused():
    model, tokenizer = qa_model("bert")
    for value in (0, "3", True):
        with pytest.raises(attrix.InputError, match=r"max_answer_len must be a positive integer|option 'max_answer_len' of task 'qa' must be an integer"):
            attrix.Explainer(model, tokenizer, max_answer_len=value)
    with pytest.raises(attrix.UnknownNameError, match="unknown label 'middle'; valid: end, start"):
        attrix.Explainer(model, tokenizer)(PAIRS[0], target="middle")


def test_task_is_chosen_by_the_head():
    model, tokenizer = qa_model("bert")
    assert attrix.Explainer(model, tokenizer).task.name == "qa"
    token_model, _ = build("bert", head="token", num_labels=3)
    with pytest.raises(attrix.TaskMismatchError, match="ForQuestionAnswering.*BertForTokenClassification"):
        attrix.Explainer(token_model, tokenizer, task="qa")


# transformers-interpret explains the largest start (end) logit at each point of the path, wherever it is;
# these seeds keep that largest logit at the predicted position all along the path, where both must agree.
@pytest.mark.parametrize("arch, seed", [("bert", 17), ("distilbert", 3)])
def test_agrees_with_transformers_interpret(arch, seed):
    model, tokenizer = build(arch, head="qa", seed=seed)
    question, context = "who is the best actor", "the food was awful but the actor was great and the music was good"
    legacy = transformers_interpret.QuestionAnsweringExplainer(model, tokenizer)
    expected = legacy(question, context, embedding_type=0, n_steps=16)
    explanation = attrix.Explainer(model, tokenizer, n_steps=16)((question, context))
    assert (legacy.start_pos, legacy.end_pos) == (explanation.details["start_token"], explanation.details["end_token"])
    assert [token for token, _ in expected["start"]] == explanation.tokens
    for label in ("start", "end"):
        ours = torch.tensor(explanation.target(label).token_scores)
        theirs = torch.tensor([score for _, score in expected[label]])
        assert float(torch.nn.functional.cosine_similarity(ours / ours.norm(), theirs, dim=0)) >= 0.98
