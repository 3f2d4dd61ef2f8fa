"""``attrix.QuestionAnsweringExplainer`` against transformers-interpret 0.10.0 itself, and the bugs it fixes."""

from __future__ import annotations

import functools

import numpy as np
import pytest
import torch
import transformers_interpret
from transformers.pipelines.document_question_answering import select_starts_ends

import attrix
from attrix.compat.qa import QuestionAnsweringExplainer
from attrix.text.encoding import TruncationWarning
from helpers.legacy_comparison import cosine, equal_token_types, scores
from helpers.tiny_models import build, save

QUESTION, CONTEXT = "who is the best actor", "the food was awful but the actor was great and the music was good"


@functools.cache
def qa_model(arch, seed, same_token_types=True):
    """A tiny QA model with its weights spread to ``normal(0, 0.2)`` (layer norms kept); with ``same_token_types``
    its two token-type embeddings are equal, so transformers-interpret's token-type bug changes nothing."""
    model, tokenizer = build(arch, head="qa")
    torch.manual_seed(seed)
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            if "norm" not in name.lower():
                parameter.normal_(0.0, 0.2)
    if same_token_types and arch == "bert":
        equal_token_types(model)
    return model, tokenizer


class FixedPositionExplainer(transformers_interpret.QuestionAnsweringExplainer):
    """transformers-interpret with one bug fixed: it explains the logit at ``positions`` (start, end) all along the
    path instead of the largest logit wherever it is."""

    positions = (0, 0)

    def _forward(self, input_ids, token_type_ids=None, position_ids=None, attention_mask=None):
        logits = self._get_preds(input_ids, token_type_ids, position_ids, attention_mask)[self.position]
        return logits[:, self.positions[self.position]]


def best_valid_span(model, tokenizer, question, context):
    """The answer's (start, end) tokens as transformers' own SQuAD decoding picks them from the tokenizer's pair."""
    encoding = tokenizer(question, context, return_tensors="pt")
    with torch.no_grad():
        output = model(**encoding)
    p_mask = np.array([sequence != 1 for sequence in encoding.sequence_ids(0)], dtype=int)
    p_mask[0] = 0
    starts, ends, _, _ = select_starts_ends(
        output.start_logits.numpy(), output.end_logits.numpy(), p_mask, encoding["attention_mask"].numpy(), max_answer_len=15
    )
    return int(starts[0]), int(ends[0])


# transformers-interpret explains the largest start (end) logit at each point of the path, wherever it is; with these
# weights and this short pair that largest logit stays where the answer is along the whole path, so both must agree.
@pytest.mark.parametrize("arch, seed, embedding_type", [("bert", 19, 0), ("bert", 19, 2), ("distilbert", 92, 0)])
def test_agrees_with_transformers_interpret(arch, seed, embedding_type):
    model, tokenizer = qa_model(arch, seed)
    question, context = "who", "the actor was great"
    legacy = transformers_interpret.QuestionAnsweringExplainer(model, tokenizer)
    ours = QuestionAnsweringExplainer(model, tokenizer)
    expected = legacy(question, context, embedding_type=embedding_type, n_steps=16)
    got = ours(question, context, embedding_type=embedding_type, n_steps=16)
    assert (ours.start_pos, ours.end_pos) == (legacy.start_pos, legacy.end_pos)
    assert ours.predicted_answer == legacy.predicted_answer  # one token per word here: its joined tokens are the text
    for end in ("start", "end"):
        assert [token for token, _ in got[end]] == [token for token, _ in expected[end]]
        assert cosine(scores(got[end]), scores(expected[end])) >= 0.98
        assert max(map(abs, scores(got[end]))) < 0.95  # spread over the tokens, not all on one


@pytest.mark.parametrize("embedding_type", [0, 1, 2])
@pytest.mark.parametrize("arch, seed", [("bert", 0), ("distilbert", 4)])
def test_agrees_with_transformers_interpret_explaining_the_same_positions(arch, seed, embedding_type):
    """With its moving target fixed, transformers-interpret agrees at every embedding type, its baselines included."""
    model, tokenizer = qa_model(arch, seed)
    ours = QuestionAnsweringExplainer(model, tokenizer)
    got = ours(QUESTION, CONTEXT, embedding_type=embedding_type, n_steps=8)
    legacy = FixedPositionExplainer(model, tokenizer)
    legacy.positions = (ours.start_pos, ours.end_pos)
    expected = legacy(QUESTION, CONTEXT, embedding_type=embedding_type, n_steps=8)
    for end in ("start", "end"):
        assert cosine(scores(got[end]), scores(expected[end])) >= 0.98


def test_explains_the_answer_logit_where_transformers_interpret_follows_the_moving_largest_one():
    model, tokenizer = qa_model("distilbert", 4)
    ours = QuestionAnsweringExplainer(model, tokenizer)
    got = ours(QUESTION, CONTEXT, embedding_type=0, n_steps=8)
    legacy = transformers_interpret.QuestionAnsweringExplainer(model, tokenizer)
    moving = legacy(QUESTION, CONTEXT, embedding_type=0, n_steps=8)
    assert (legacy.start_pos, legacy.end_pos) == (ours.start_pos, ours.end_pos)
    fixed = FixedPositionExplainer(model, tokenizer)
    fixed.positions = (ours.start_pos, ours.end_pos)
    expected = fixed(QUESTION, CONTEXT, embedding_type=0, n_steps=8)
    assert cosine(scores(got["end"]), scores(expected["end"])) >= 0.98
    # same final answer, but along the path its largest end logit was elsewhere: other attributions
    assert cosine(scores(moving["end"]), scores(expected["end"])) < 0.5


@pytest.mark.parametrize("seed, legacy_answer", [(2, ""), (6, "who is")])
def test_answer_is_the_best_valid_span_with_the_right_token_types(seed, legacy_answer):
    model, tokenizer = qa_model("bert", seed, same_token_types=False)
    ours = QuestionAnsweringExplainer(model, tokenizer)
    ours(QUESTION, CONTEXT, n_steps=1)
    legacy = transformers_interpret.QuestionAnsweringExplainer(model, tokenizer)
    legacy(QUESTION, CONTEXT, n_steps=1)
    first, last = best_valid_span(model, tokenizer, QUESTION, CONTEXT)
    assert (ours.start_pos, ours.end_pos) == (first, last)
    encoding = tokenizer(QUESTION, CONTEXT, return_offsets_mapping=True)
    offsets = encoding["offset_mapping"]
    assert ours.explanation.details["answer"] == CONTEXT[offsets[first][0] : offsets[last][1]]
    # as transformers-interpret gives it: the span's tokens joined by spaces
    assert ours.predicted_answer == " ".join(tokenizer.convert_ids_to_tokens(encoding["input_ids"][first : last + 1]))
    # transformers-interpret: the argmax start and end wherever they are (an empty or question span), and the
    # first [SEP] of the pair given token type 1
    assert legacy.predicted_answer == legacy_answer
    separator = len(QUESTION.split()) + 1
    assert tokenizer(QUESTION, CONTEXT)["token_type_ids"][separator] == 0
    assert int(legacy.token_type_ids[0, separator]) == 1


def test_attributes_and_return_shape():
    model, tokenizer = qa_model("bert", 0)
    ours = QuestionAnsweringExplainer(model, tokenizer)
    result = ours(QUESTION, CONTEXT, n_steps=8, internal_batch_size=4)
    assert list(result) == ["start", "end"] and result == ours.word_attributions
    expected_tokens = tokenizer.convert_ids_to_tokens(tokenizer(QUESTION, CONTEXT)["input_ids"])
    for end, legacy in (("start", ours.start_attributions), ("end", ours.end_attributions)):
        assert [token for token, _ in result[end]] == expected_tokens
        assert all(isinstance(score, float) for score in scores(result[end]))
        assert sum(score**2 for score in scores(result[end])) == pytest.approx(1.0)
        assert legacy.word_attributions == result[end]
        assert legacy.attributions_sum.tolist() == pytest.approx(scores(result[end]))
        assert float(legacy.delta) == pytest.approx(ours.explanation.target(end).delta)
    assert ours.attributions == [ours.start_attributions, ours.end_attributions]
    assert ours.n_steps == 8 and ours.internal_batch_size == 4 and ours.explanation.settings["n_steps"] == 8
    assert ours.explanation.settings["embedding"] == "embeddings"  # the default embedding_type=2
    assert (ours.question, ours.text) == (QUESTION, CONTEXT)
    assert ours.input_ids.tolist() == [tokenizer(QUESTION, CONTEXT)["input_ids"]]
    assert ours.start_pos <= ours.end_pos and ours.predicted_answer in CONTEXT


def test_calls_before_explaining_and_bad_options_get_clear_errors():
    model, tokenizer = qa_model("bert", 0)
    ours = QuestionAnsweringExplainer(model, tokenizer)
    for attribute in ("word_attributions", "start_pos", "predicted_answer"):
        with pytest.raises(attrix.InputError, match="nothing explained yet"):
            getattr(ours, attribute)
    with pytest.raises(attrix.UnknownNameError, match="unknown attribution_type 'ig'; valid: lig"):
        QuestionAnsweringExplainer(model, tokenizer, attribution_type="ig")


def test_position_embeddings_asked_of_a_model_without_them_fall_back_to_words():
    model, tokenizer = build("deberta-v2", head="qa", seed=1)
    ours = QuestionAnsweringExplainer(model, tokenizer)
    with pytest.warns(UserWarning, match="no position embeddings"):
        ours(QUESTION, CONTEXT, embedding_type=1, n_steps=1)
    assert ours.explanation.settings["embedding"] == "word"


def test_visualize_writes_html_outside_notebooks(tmp_path):
    model, tokenizer = qa_model("bert", 0)
    ours = QuestionAnsweringExplainer(model, tokenizer)
    ours(QUESTION, CONTEXT, n_steps=2)
    page = ours.visualize(str(tmp_path / "qa"))
    written = (tmp_path / "qa.html").read_text()
    assert written == page.data == page._repr_html_()
    start_token, end_token = ours.explanation.tokens[ours.start_pos], ours.explanation.tokens[ours.end_pos]
    assert f"toward start at {start_token} ({ours.start_pos})" in written
    assert f"toward end at {end_token} ({ours.end_pos})" in written
    assert f"<td>{ours.predicted_answer}</td>" in written


def test_readme_example_runs_with_a_tiny_local_model(tmp_path, monkeypatch):
    """transformers-interpret's README example, the tiny local BERT in place of the Hub's SQuAD model."""
    from transformers import AutoModelForQuestionAnswering, AutoTokenizer

    from attrix import QuestionAnsweringExplainer as Exported

    monkeypatch.chdir(tmp_path)
    name = str(save("bert", tmp_path / "qa-model", head="qa", seed=3))
    tokenizer = AutoTokenizer.from_pretrained(name)
    model = AutoModelForQuestionAnswering.from_pretrained(name)
    qa_explainer = Exported(model, tokenizer)
    context = """
In Artificial Intelligence and machine learning, Natural Language Processing relates to the usage of machines to process and understand human language.
Many researchers currently work in this space.
"""
    with pytest.warns(TruncationWarning, match="the model accepts at most 64"):  # the tiny model takes 64 tokens
        word_attributions = qa_explainer("What is natural language processing ?", context)
    assert list(word_attributions) == ["start", "end"]
    assert word_attributions["start"][0] == ("[CLS]", 0.0) and word_attributions["start"][-1][0] == "[SEP]"
    assert qa_explainer.explanation.details["answer"] in context
    assert qa_explainer.predicted_answer == " ".join(qa_explainer.explanation.tokens[qa_explainer.start_pos : qa_explainer.end_pos + 1])
    qa_explainer.visualize("bert_qa_viz.html")
    assert "Natural Language Processing" in (tmp_path / "bert_qa_viz.html").read_text()


def test_is_importable_from_attrix():
    assert attrix.QuestionAnsweringExplainer is QuestionAnsweringExplainer
    assert attrix.compat.QuestionAnsweringExplainer is QuestionAnsweringExplainer
