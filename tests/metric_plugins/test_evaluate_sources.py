"""What ``evaluate`` measures: an explanation's own attributions, human rationales put on features, the random
reference on request, and deleted variants run in snug passes."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from metric_plugins.test_evaluate import Passes, explainer_of

import attrix
from attrix.api.rationales import feature_rationales, word_mask
from attrix.integration import removal
from attrix.integration.removal import RemovalScorer, feature_ids, per_feature
from attrix.text.removal import PADDING_SLACK, DeletionScorer, snug_chunks
from helpers.task_cases import task_case


@pytest.fixture(scope="module", autouse=True)
def threads(one_torch_thread):
    """One torch thread: these tests run many small forward passes."""


def reversed_scores(explanation: attrix.Explanation) -> attrix.Explanation:
    """The explanation with each target's token scores in reverse order (a ranking its backend never made)."""
    for target in explanation.targets:
        target.token_scores = target.token_scores[::-1]
    return explanation


def test_an_explanations_own_token_scores_are_measured_not_attributions_made_again():
    explainer = explainer_of("sequence")
    _, _, inputs = task_case("sequence")
    explanations = [reversed_scores(one) for one in explainer(inputs, target="all")]
    evaluation = attrix.evaluate(explanations, explainer, ["comprehensiveness"], features="token")

    prepared = explainer.task.prepare([explainer.task.check(item) for item in inputs], "all")
    problem = prepared.problem
    scorer = RemovalScorer(problem, feature_ids(problem, "token"), rows_per_pass=256)
    values = torch.zeros(problem.batch_size, problem.n_targets, problem.inputs["input_ids"].shape[1], 1)
    for row, explanation in enumerate(explanations):
        positions = problem.inputs["attention_mask"][row].nonzero().flatten()
        for column, target in enumerate(explanation.targets):
            values[row, column, positions, 0] = torch.tensor(target.token_scores)
    table = per_feature(values, scorer.ids, scorer.first) * scorer.present.unsqueeze(1)
    expected = attrix.create("metric", "comprehensiveness").measure(table, scorer).values
    again = attrix.evaluate(inputs, explainer, ["comprehensiveness"], target="all", features="token")

    for row, explanation in enumerate(evaluation.explanations):
        measured = explanation.metrics["comprehensiveness"]["values"]
        assert measured == pytest.approx(expected[row].tolist(), abs=1e-6)
    assert any(
        not math.isclose(ours["value"], theirs["value"], abs_tol=1e-6)
        for ours, theirs in zip(evaluation.rows, again.rows)
    ), "the reversed ranking measures differently from the backend's own"


def test_without_the_reference_no_random_ranking_is_measured():
    explainer = explainer_of("sequence")
    _, _, inputs = task_case("sequence")
    evaluation = attrix.evaluate(inputs, explainer, ["comprehensiveness", "deletion_auc"], reference=False)
    assert evaluation.rows and all(row["random"] is None for row in evaluation.rows)
    assert all(row["random"] is None for row in evaluation.summary())
    with_reference = attrix.evaluate(inputs, explainer, ["comprehensiveness", "deletion_auc"])
    assert [row["value"] for row in evaluation.rows] == [row["value"] for row in with_reference.rows]


@pytest.mark.parametrize(
    ("rationale", "words", "expected"),
    [
        ([2, 0], 4, [1, 0, 1, 0]),
        ([0, 1, 1, 0], 4, [0, 1, 1, 0]),
        ([True, False, True], 3, [1, 0, 1]),
        ([], 3, [0, 0, 0]),
        ([1], 1, [1]),
    ],
)
def test_a_rationale_is_read_as_word_indexes_or_as_a_mask(rationale, words, expected):
    assert word_mask(rationale, words).tolist() == expected


@pytest.mark.parametrize(
    ("rationale", "words", "message"),
    [
        ([5], 3, r"\[5\] are outside the input's 3 words \(indexes 0 to 2\)"),
        ([True, False], 3, "one value per word: the input has 3 words, the mask 2"),
        (["good"], 3, "a list of word indexes or a 0/1 mask per word"),
    ],
)
def test_a_bad_rationale_says_what_would_be_right(rationale, words, message):
    with pytest.raises(attrix.InputError, match=message):
        word_mask(rationale, words)


def test_a_marked_word_marks_every_token_it_is_made_of():
    explainer = explainer_of("sequence")
    problem = explainer.task.prepare([explainer.task.check("unbelievably good film")], 0).problem
    words, tokens = problem.features["word"][0].flatten(), problem.features["token"][0].flatten()
    assert int(words.max()) < int(tokens.max()), "the tiny tokenizer cuts some word into pieces"
    mask = torch.zeros(int(words.max()))
    mask[0] = 1.0
    marked = feature_rationales(problem, problem.features["token"], 1, int(tokens.max()), [mask])[0]
    first_word_tokens = {int(token) for token, word in zip(tokens, words) if word == 1}
    assert marked.tolist() == [float(column + 1 in first_word_tokens) for column in range(int(tokens.max()))]
    assert feature_rationales(problem, problem.features["word"], 1, int(words.max()), [None]) is None


def test_plausibility_without_rationales_and_an_unfit_backend_are_refused_before_any_pass():
    class NeedsRationales(attrix.Metric):
        name, higher_is_better, needs_rationales = "needs_rationales", True, True

        def measure(self, attributions, scorer):
            raise AssertionError("never measured")

    class RefusesLayerIg(NeedsRationales):
        name, needs_rationales = "refuses_layer_ig", False

        @classmethod
        def unfit(cls, backend):
            return "it needs another backend" if backend.name == "layer_ig" else None

    explainer = explainer_of("sequence")
    with pytest.raises(attrix.InputError, match="'needs_rationales' compares the attributions with human rationales"):
        attrix.evaluate(["good film"], explainer, [NeedsRationales()])
    with pytest.raises(attrix.InputError, match="'refuses_layer_ig' cannot measure backend 'layer_ig': it needs another backend"):
        attrix.evaluate(["good film"], explainer, [RefusesLayerIg()])
    with pytest.raises(attrix.InputError, match="one rationale \\(or None\\) per item: 1 items, 2 rationales"):
        attrix.evaluate(["good film"], explainer, ["comprehensiveness"], rationales=[[0], [1]])


@given(st.lists(st.integers(1, 64), max_size=60).map(sorted), st.integers(1, 16), st.integers(1, 400))
def test_snug_passes_cover_every_row_once_and_pad_little(lengths, rows_per_pass, slots):
    chunks = snug_chunks(lengths, rows_per_pass, slots)
    assert [index for chunk in chunks for index in range(len(lengths))[chunk]] == list(range(len(lengths)))
    for chunk in chunks:
        rows = lengths[chunk]
        assert 1 <= len(rows) <= rows_per_pass
        assert len(rows) == 1 or len(rows) * rows[-1] <= min(slots, (1 + PADDING_SLACK) * sum(rows) + 1e-9)


def test_long_inputs_run_fewer_rows_per_pass_than_asked(monkeypatch):
    explainer = explainer_of("sequence")
    _, _, inputs = task_case("sequence")
    problem = explainer.task.prepare([explainer.task.check(item) for item in inputs], "all").problem
    ids = feature_ids(problem, "word")
    values_per_row = problem.inputs["input_ids"].shape[1] * explainer.model.config.hidden_size
    monkeypatch.setattr(removal, "VALUES_PER_PASS", 2 * values_per_row)
    scorer = RemovalScorer(problem, ids, rows_per_pass=256)
    assert scorer.rows_within_budget() == 2
    kept = torch.rand((3, *scorer.present.shape), generator=torch.Generator().manual_seed(1)).unsqueeze(2) < 0.5
    with Passes(explainer.model) as passes:
        small = scorer.score(kept)
    assert passes.passes > 1 and passes.rows <= 2 * passes.passes
    monkeypatch.setattr(removal, "VALUES_PER_PASS", 1 << 24)
    with Passes(explainer.model) as passes:
        whole = RemovalScorer(problem, ids, rows_per_pass=256).score(kept)
    assert passes.passes == 2, "the scorer's own two ends, then every variant at once"
    torch.testing.assert_close(small, whole, atol=1e-5, rtol=0)


def test_deleted_variants_score_the_same_however_they_are_cut_into_passes():
    explainer = explainer_of("sequence")
    _, _, inputs = task_case("sequence")
    problem = explainer.task.prepare([explainer.task.check(item) for item in inputs], "all").problem
    ids = feature_ids(problem, "token")
    one = DeletionScorer(problem, ids, 1, explainer.task.tokenizer)
    many = DeletionScorer(problem, ids, 256, explainer.task.tokenizer)
    kept = torch.rand((5, *one.present.shape), generator=torch.Generator().manual_seed(0)).unsqueeze(2) < 0.5
    torch.testing.assert_close(one.score(kept), many.score(kept), atol=1e-5, rtol=0)
