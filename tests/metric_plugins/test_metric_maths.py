"""The metrics on a problem built by hand to be linear in its word embeddings, where every value can be worked out
on paper: removing a set of words lowers the score by exactly the sum of their contributions."""

from __future__ import annotations

import itertools
import math
from fractions import Fraction

import pytest
import torch
from scipy import stats
from torch import nn

import attrix
from attrix.contracts.problem import InputEmbedding, Problem
from attrix.integration.ranking import fraction_counts, kendall_tau
from attrix.integration.removal import RemovalScorer, per_feature

CONTRIBUTIONS = [3.0, -1.0, 2.0, 0.5]
"""What the words of ids 1, 2, 3, 4 add to the explained score of target 0 (target 1 gets the opposite)."""


def linear_problem() -> tuple[Problem, torch.Tensor]:
    """``[CLS] w1 w2 w3 w4 [SEP] [PAD]`` and ``[CLS] w1 w2 [SEP] [PAD] …``, scored by the sum of the first coordinate
    of their embeddings, in which word ``i`` holds its contribution; the baseline puts the zero embedding (id 0) at
    every word. Returns the problem and each element's true attributions, ``[batch, 2, seq, 2]``."""
    embedding = nn.Embedding(10, 2)
    with torch.no_grad():
        embedding.weight.zero_()
        embedding.weight[1:5, 0] = torch.tensor(CONTRIBUTIONS)
        embedding.weight[1:5, 1] = 0.7
        embedding.weight[9] = torch.tensor([0.25, 0.3])
    ids = torch.tensor([[9, 1, 2, 3, 4, 9, 0], [9, 1, 2, 9, 0, 0, 0]])
    words = torch.tensor([[0, 1, 2, 3, 4, 0, 0], [0, 1, 2, 0, 0, 0, 0]]).unsqueeze(-1)

    def forward(inputs_embeds: torch.Tensor) -> torch.Tensor:
        score = inputs_embeds[..., 0].sum(1)
        return torch.stack([score, -score, torch.zeros_like(score)], 1)

    baselines = torch.where(words.squeeze(-1) > 0, 0, ids)
    problem = Problem(
        inputs={"input_ids": ids},
        baselines={"input_ids": baselines},
        forward=forward,
        targets=torch.tensor([[0, 1], [0, 1]]),
        layer=embedding,
        embedding=InputEmbedding("input_ids", "inputs_embeds", embedding),
        features={"word": words},
    )
    gap = (embedding(ids) - embedding(baselines)).detach() * torch.tensor([1.0, 0.0])
    return problem, torch.stack([gap, -gap], 1)


@pytest.fixture
def linear():
    """The removal scorer of the hand-built problem and its true attributions per word."""
    problem, truth = linear_problem()
    scorer = RemovalScorer(problem, problem.features["word"], rows_per_pass=256)
    return scorer, per_feature(truth, problem.features["word"], scorer.first) * scorer.present.unsqueeze(1)


def test_features_are_the_words_and_their_attributions_the_contributions(linear):
    scorer, table = linear
    assert scorer.first == 1
    assert scorer.present.tolist() == [[True] * 4, [True, True, False, False]]
    assert table[0, 0].tolist() == CONTRIBUTIONS and table[0, 1].tolist() == [-c for c in CONTRIBUTIONS]
    assert table[1, 0].tolist() == [3.0, -1.0, 0.0, 0.0]


def test_removing_every_feature_gives_the_baseline_score_and_none_the_input_score(linear):
    scorer, _ = linear
    problem = scorer.problem
    with torch.no_grad():
        at_input = problem.scores(problem.forward(inputs_embeds=problem.embedding.embed(problem.inputs["input_ids"])))
        at_baseline = problem.scores(problem.forward(inputs_embeds=problem.embedding.embed(problem.baselines["input_ids"])))
    assert torch.equal(scorer.scores, at_input) and torch.equal(scorer.baseline_scores, at_baseline)
    assert scorer.scores[0, 0] == pytest.approx(0.5 + sum(CONTRIBUTIONS))
    assert scorer.baseline_scores[0, 0] == pytest.approx(0.5), "the special tokens are kept"


def test_comprehensiveness_equals_the_value_worked_out_by_hand(linear):
    # four words, fractions 0.1 … 1.0: 0, 0, 1, 1, 2, 2, 2, 3, 3, 4 words; positive ones only, each rationale once:
    # {3.0} → 3, {3.0, 2.0} → 5, {3.0, 2.0, 0.5} → 5.5 (four words give the same three): (3 + 5 + 5.5) / 3.
    # The second row has two words: 0 … 0, 1, 1, 1, 1, 1, 2 → {3.0} only, as −1 is never removed: 3.
    # Target 1 (the opposite): its positive word is −1 · −1 = 1 alone → 1 in both rows.
    scorer, table = linear
    measured = attrix.create("metric", "comprehensiveness").measure(table, scorer)
    assert measured.values.flatten().tolist() == pytest.approx([4.5, 1.0, 3.0, 1.0])
    assert measured.curves.shape == (2, 2, 10)


def test_sufficiency_equals_the_value_worked_out_by_hand(linear):
    # Keeping only the rationale loses the rest: {3.0} → 1.5, {3.0, 2.0} → −0.5, {3.0, 2.0, 0.5} → −1: mean 0.
    scorer, table = linear
    measured = attrix.create("metric", "sufficiency").measure(table, scorer)
    assert measured.values[0, 0] == pytest.approx(0.0, abs=1e-6)
    assert measured.values[1, 0] == pytest.approx(-1.0), "keeping 3.0 alone loses −1"


def test_without_only_positive_the_negative_words_are_removed_too(linear):
    # 1, 2, 3, 4 words: 3 → 3, 5 → 5, 5.5 → 5.5, all four → 4.5: (3 + 5 + 5.5 + 4.5) / 4.
    scorer, table = linear
    measured = attrix.create("metric", "comprehensiveness", only_positive=False).measure(table, scorer)
    assert measured.values[0, 0] == pytest.approx(4.5)


def test_a_row_without_a_positive_attribution_counts_the_empty_rationale_once(linear):
    scorer, table = linear
    measured = attrix.create("metric", "comprehensiveness").measure(-table.abs(), scorer)
    assert measured.values.tolist() == [[0.0, 0.0], [0.0, 0.0]]


def test_deletion_and_insertion_follow_the_ranking(linear):
    # Ranked 3, 2, 0.5, −1; steps of a quarter: deletion 5 → 2 → 0 → −0.5 → 0 above the kept special tokens.
    scorer, table = linear
    deletion = attrix.create("metric", "deletion_auc", steps=4).measure(table, scorer)
    curve = [0.5 + value for value in (4.5, 1.5, -0.5, -1.0, 0.0)]
    assert deletion.curves[0, 0].tolist() == pytest.approx(curve)
    assert deletion.values[0, 0] == pytest.approx(sum((a + b) / 2 for a, b in itertools.pairwise(curve)) / 4)
    insertion = attrix.create("metric", "insertion_auc", steps=4).measure(table, scorer)
    assert insertion.curves[0, 0].tolist() == pytest.approx([0.5, 3.5, 5.5, 6.0, 5.0])


def test_a_ranking_that_follows_the_contributions_beats_the_reverse(linear):
    scorer, table = linear
    for name in ("comprehensiveness", "insertion_auc", "loo_correlation"):
        metric = attrix.create("metric", name)
        assert (metric.measure(table, scorer).values[0] > metric.measure(-table, scorer).values[0]).all(), name
    for name in ("sufficiency", "deletion_auc"):
        metric = attrix.create("metric", name)
        assert (metric.measure(table, scorer).values[0] < metric.measure(-table, scorer).values[0]).all(), name


def test_leave_one_out_drops_are_the_contributions_and_correlate_perfectly(linear):
    scorer, table = linear
    measured = attrix.create("metric", "loo_correlation").measure(table, scorer)
    assert measured.curves[0, 0].tolist() == pytest.approx(CONTRIBUTIONS)
    assert measured.values.flatten().tolist() == pytest.approx([1.0] * 4)
    assert math.isnan(measured.curves[1, 0, 3])


def test_completeness_is_zero_for_the_true_attributions_and_grows_with_what_they_miss(linear):
    scorer, table = linear
    completeness = attrix.create("metric", "completeness")
    assert completeness.measure(table, scorer).values.abs().max() < 1e-6
    halved = completeness.measure(table / 2, scorer).values
    assert halved.flatten().tolist() == pytest.approx([0.5] * 4)


def test_a_removal_shared_by_every_target_runs_once(linear):
    scorer, _ = linear
    rows = []
    original = scorer.run
    scorer.run = lambda kept_rows, kept: rows.append(len(kept_rows)) or original(kept_rows, kept)
    shared = scorer.present.unsqueeze(1).expand(3, -1, 1, -1)
    scorer.score(shared)
    assert rows == [2], "three identical variants of two rows"
    scorer.score(scorer.present.unsqueeze(1).expand(2, 2, -1))
    assert rows[-1] == 2, "both targets keep everything: one variant per row"


def test_variants_run_rows_per_pass_at_a_time_with_the_same_scores(linear):
    scorer, table = linear
    problem = scorer.problem
    small = RemovalScorer(problem, problem.features["word"], rows_per_pass=1)
    metric = attrix.create("metric", "comprehensiveness")
    assert torch.equal(metric.measure(table, small).values, metric.measure(table, scorer).values)


def test_kendall_tau_is_tau_b_with_ties():
    generator = torch.Generator().manual_seed(0)
    first = torch.randint(0, 4, (3, 2, 9), generator=generator).double()
    second = torch.randint(0, 4, (3, 2, 9), generator=generator).double()
    present = torch.ones(3, 9, dtype=torch.bool)
    present[2, 6:] = False
    tau = kendall_tau(first, second, present)
    for row in range(3):
        n = int(present[row].sum())
        for target in range(2):
            expected = stats.kendalltau(first[row, target, :n], second[row, target, :n]).statistic
            assert float(tau[row, target]) == pytest.approx(expected)


@pytest.mark.parametrize("fractions", [[0.0, 0.5], [0.5, 1.5], [], [-0.1]])
def test_fractions_outside_zero_to_one_are_refused(fractions):
    with pytest.raises(attrix.InputError, match="fractions"):
        attrix.create("metric", "comprehensiveness", fractions=fractions)


def test_steps_must_be_positive():
    with pytest.raises(attrix.InputError, match="steps"):
        attrix.create("metric", "deletion_auc", steps=0)


def test_a_fraction_counts_its_features_as_exact_arithmetic_rounds_down():
    sizes = torch.arange(1, 2049)
    present = torch.arange(2048).unsqueeze(0) < sizes.unsqueeze(1)
    fractions = [0.1 * step for step in range(1, 11)]
    counts = fraction_counts(fractions, present)
    exact = [[int(Fraction(str(round(q, 10))) * int(n)) for n in sizes] for q in fractions]
    assert counts.tolist() == exact  # 0.7 × 90 is 63, not the 62 that 62.99999… rounds down to
