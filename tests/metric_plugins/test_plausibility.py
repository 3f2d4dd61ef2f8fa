"""The plausibility metrics (``token_f1``, ``token_iou``, ``auprc``) on attributions and rationales made by hand, whose
values are worked out on paper from ERASER's definitions, and against ferret's evaluators where ferret is installed."""

from __future__ import annotations

import math
import warnings
from fractions import Fraction

import pytest
import torch

import attrix
from attrix.contracts.metric import FeatureScorer

PLAUSIBILITY = ("token_f1", "token_iou", "auprc")
SCORES = [0.9, -0.2, 0.5, 0.1, 0.7, 0.3]
MARKED = [1.0, 0.0, 1.0, 0.0, 0.0, 1.0]
"""Ranked by attribution: 0 (marked), 4, 2 (marked), 5 (marked), 3, 1 (the only negative one)."""


class RationaleScorer(FeatureScorer):
    """A scorer holding only what plausibility metrics read: which columns each row has, and its rationale."""

    def __init__(self, present: torch.Tensor, rationales: torch.Tensor | None) -> None:
        self.present, self.rationales = present, rationales

    def score(self, kept: torch.Tensor) -> torch.Tensor:
        raise AssertionError("a plausibility metric runs no model")


def measured(name: str, scores: list[list[float]], marked: list[float] | None, **options) -> list[float]:
    """The metric of one row with every column present: one value per target (a list of scores each)."""
    attributions = torch.tensor([scores], dtype=torch.float64)
    rationales = None if marked is None else torch.tensor([marked], dtype=torch.float64)
    scorer = RationaleScorer(torch.ones(1, len(scores[0]), dtype=torch.bool), rationales)
    return attrix.create("metric", name, **options).measure(attributions, scorer).values[0].tolist()


@pytest.mark.parametrize(
    ("name", "options", "expected"),
    [
        # top 5 positive: {0, 4, 2, 5, 3}, 3 of them marked: precision 3/5, recall 3/3
        ("token_f1", {}, 2 * Fraction(3, 5) * 1 / (Fraction(3, 5) + 1)),
        # top 3: {0, 4, 2}, 2 marked: precision 2/3, recall 2/3
        ("token_f1", {"top_k": 3}, Fraction(2, 3)),
        # top 1: {0}: precision 1, recall 1/3
        ("token_f1", {"top_k": 1}, 2 * Fraction(1, 3) / (1 + Fraction(1, 3))),
        # all 5 positive ones, the negative one left out: the same as top 5
        ("token_f1", {"top_k": 6}, Fraction(3, 4)),
        ("token_f1", {"top_k": 6, "only_positive": False}, 2 * Fraction(1, 2) / (Fraction(1, 2) + 1)),
        # {0, 2, 3, 4, 5} ∩ {0, 2, 5} over their union {0, 2, 3, 4, 5}
        ("token_iou", {}, Fraction(3, 5)),
        # {0, 2, 4} ∩ {0, 2, 5} over {0, 2, 4, 5}
        ("token_iou", {"top_k": 3}, Fraction(2, 4)),
        ("token_iou", {"top_k": 6, "only_positive": False}, Fraction(3, 6)),
        # points (recall, precision) from (0, 1): (1/3, 1), (1/3, 1/2), (2/3, 2/3), (1, 3/4), (1, 3/5), (1, 1/2)
        (
            "auprc",
            {},
            Fraction(1, 3) * (1 + 1) / 2
            + Fraction(1, 3) * (Fraction(1, 2) + Fraction(2, 3)) / 2
            + Fraction(1, 3) * (Fraction(2, 3) + Fraction(3, 4)) / 2,
        ),
    ],
)
def test_values_worked_out_from_the_definitions(name, options, expected):
    assert measured(name, [SCORES], MARKED, **options) == pytest.approx([float(expected)], abs=1e-12)


def test_auprc_counts_the_negative_attributions_as_zero_with_only_positive():
    scores, marked = [[0.4, -0.1, -0.3]], [0.0, 1.0, 0.0]
    # the two below 0 tie at 0: points (0, 0) then (1, 1/3)
    assert measured("auprc", scores, marked) == pytest.approx([1 / 6], abs=1e-12)
    # ranked 0.4, -0.1 (marked), -0.3: points (0, 0), (1, 1/2), (1, 1/3)
    assert measured("auprc", scores, marked, only_positive=False) == pytest.approx([1 / 4], abs=1e-12)


def test_a_tie_at_a_threshold_is_one_point_of_the_curve():
    # the three features tie: the only point is (1, 1/3), reached straight from (0, 1)
    assert measured("auprc", [[0.5, 0.5, 0.5]], [0.0, 1.0, 0.0]) == pytest.approx([2 / 3], abs=1e-12)


@pytest.mark.parametrize("name", ["token_f1", "token_iou"])
def test_no_positive_attribution_is_an_empty_rationale_scored_0(name):
    scores, marked = [[-0.5, -0.1, -0.9]], [0.0, 1.0, 0.0]
    assert measured(name, scores, marked, top_k=1) == [0.0]
    assert measured(name, scores, marked, top_k=1, only_positive=False) == [1.0]


def test_an_empty_human_rationale_scores_0_or_nan_where_recall_has_no_meaning():
    nothing = [0.0] * len(SCORES)
    assert measured("token_f1", [SCORES], nothing) == [0.0]
    assert measured("token_iou", [SCORES], nothing) == [0.0]
    assert math.isnan(measured("auprc", [SCORES], nothing)[0])


@pytest.mark.parametrize("name", PLAUSIBILITY)
def test_a_ranking_that_puts_the_rationale_first_scores_1(name):
    generator = torch.Generator().manual_seed(0)
    for _ in range(20):
        marked = torch.rand(9, generator=generator) < 0.4
        marked[int(torch.randint(9, (1,), generator=generator))] = True
        scores = torch.where(marked, 1.0 + torch.rand(9, generator=generator), torch.randn(9, generator=generator).clamp(max=0.9))
        options = {} if name == "auprc" else {"top_k": int(marked.sum())}
        assert measured(name, [scores.tolist()], marked.double().tolist(), **options) == pytest.approx([1.0], abs=1e-12)


@pytest.mark.parametrize("name", PLAUSIBILITY)
def test_each_target_is_measured_with_its_own_attributions(name):
    ranked_well, ranked_badly = SCORES, [-value for value in SCORES]
    good, bad = measured(name, [ranked_well, ranked_badly], MARKED, only_positive=False)
    assert good == measured(name, [ranked_well], MARKED, only_positive=False)[0]
    assert bad < good


@pytest.mark.parametrize("name", PLAUSIBILITY)
def test_an_input_without_a_rationale_gets_nan_and_the_others_their_values(name):
    attributions = torch.tensor([[SCORES], [SCORES], [SCORES]], dtype=torch.float64)
    rationales = torch.tensor([MARKED, [math.nan] * 6, MARKED], dtype=torch.float64)
    scorer = RationaleScorer(torch.ones(3, 6, dtype=torch.bool), rationales)
    values = attrix.create("metric", name).measure(attributions, scorer).values
    assert values.shape == (3, 1)
    assert math.isnan(values[1, 0])
    assert values[0, 0] == values[2, 0] == measured(name, [SCORES], MARKED)[0]


@pytest.mark.parametrize("name", PLAUSIBILITY)
def test_no_rationale_at_all_gives_nan_everywhere(name):
    values = attrix.create("metric", name).measure(torch.rand(2, 3, 4), RationaleScorer(torch.ones(2, 4, dtype=torch.bool), None))
    assert values.values.shape == (2, 3)
    assert values.values.isnan().all()


@pytest.mark.parametrize("name", PLAUSIBILITY)
def test_absent_columns_are_neither_ranked_nor_marked(name):
    padded = torch.tensor([[SCORES + [0.0, 0.0]]], dtype=torch.float64)
    present = torch.tensor([[True] * 6 + [False, False]])
    scorer = RationaleScorer(present, torch.tensor([MARKED + [1.0, 1.0]], dtype=torch.float64))
    options = {"only_positive": False} if name == "auprc" else {"top_k": 8, "only_positive": False}
    value = attrix.create("metric", name, **options).measure(padded, scorer).values[0, 0]
    assert float(value) == pytest.approx(measured(name, [SCORES], MARKED, **options)[0], abs=1e-12)


@pytest.mark.parametrize("name", PLAUSIBILITY)
def test_the_metrics_need_rationales_and_rank(name):
    metric = attrix.create("metric", name)
    assert metric.needs_rationales and metric.ranks and metric.higher_is_better


@pytest.mark.parametrize("name", ["token_f1", "token_iou"])
@pytest.mark.parametrize("top_k", [0, -3])
def test_top_k_must_be_positive(name, top_k):
    with pytest.raises(attrix.InputError, match="top_k"):
        attrix.create("metric", name, top_k=top_k)


def test_ferret_gives_the_same_plausibility():
    pytest.importorskip("ferret")
    from ferret.evaluators import plausibility_measures as ferret
    from ferret.explainers.explanation import ExplanationWithRationale

    evaluators = {
        "token_f1": ferret.Tokenf1_PlausibilityEvaluation(None, None),
        "token_iou": ferret.TokenIOU_PlausibilityEvaluation(None, None),
        "auprc": ferret.AUPRC_PlausibilityEvaluation(None, None),
    }
    generator = torch.Generator().manual_seed(1)
    compared = 0
    for _ in range(60):
        n = int(torch.randint(2, 12, (1,), generator=generator))
        scores = torch.randn(n, generator=generator, dtype=torch.float64)
        marked = (torch.rand(n, generator=generator) < 0.4).double()
        if marked.sum() == 0:
            continue  # ferret's AUPRC of an empty rationale is sklearn's fallback, recall set to 1
        top_k = int(torch.randint(1, 8, (1,), generator=generator))
        made = ExplanationWithRationale("text", ["word"] * n, scores.numpy(), "attrix", 1, marked.numpy().astype(int))
        for name, evaluator in evaluators.items():
            options = {} if name == "auprc" else {"top_k": top_k}
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                expected = evaluator.compute_evaluation(made, remove_first_last=False, top_k_rationale=top_k).score
            assert measured(name, [scores.tolist()], marked.tolist(), **options)[0] == pytest.approx(float(expected), abs=1e-12)
            compared += 1
    assert compared >= 150


TEXTS = ["i love this movie it is great", "the food was awful", "the acting was great but the food was awful"]
RATIONALES = [[1, 6], None, [False, False, False, True, False, False, False, False, True]]
"""Word indexes of the first text, none for the second, a mask of the third's words (great, awful)."""


def by_hand(name: str, scores: list[float], marked: set[int], top_k: int = 5) -> float:
    """The metric of one target's word scores, the top-k and the curve worked out with sets and sorted lists."""
    if name == "auprc":
        clipped = [max(score, 0.0) for score in scores]
        points = [(0.0, 1.0)]
        for threshold in sorted(set(clipped), reverse=True):
            chosen = {word for word, score in enumerate(clipped) if score >= threshold}
            points.append((len(chosen & marked) / len(marked), len(chosen & marked) / len(chosen)))
        return sum((r - r0) * (p + p0) / 2 for (r0, p0), (r, p) in zip(points, points[1:]))
    top = set(sorted((word for word in range(len(scores)) if scores[word] > 0), key=lambda word: -scores[word])[:top_k])
    both = len(top & marked)
    if name == "token_iou":
        return both / len(top | marked) if top else 0.0
    return 2 * both / (len(top) + len(marked)) if top else 0.0


@pytest.fixture(scope="module")
def explainer(one_torch_thread):
    from helpers.tiny_models import build_wide

    model, tokenizer = build_wide("bert", head="sequence", num_labels=3)
    return attrix.Explainer(model, tokenizer, task="sequence", n_steps=16)


def test_evaluate_measures_each_target_against_its_inputs_rationale_on_words(explainer):
    evaluation = attrix.evaluate(TEXTS, explainer, list(PLAUSIBILITY), target="all", rationales=RATIONALES)
    marked = [{1, 6}, None, {3, 8}]
    compared = 0
    for explanation, words in zip(evaluation.explanations, marked):
        for name in PLAUSIBILITY:
            values = explanation.metrics[name]["values"]
            assert len(values) == len(explanation.targets) == 3
            if words is None:
                assert all(math.isnan(value) for value in values)
                continue
            for target, value in zip(explanation.targets, values):
                assert value == pytest.approx(by_hand(name, target.word_scores, words), abs=1e-5), (name, target.label)
                compared += 1
    assert compared == 2 * 3 * 3


def test_a_random_ranking_is_the_reference_of_each_plausibility_metric(explainer):
    evaluation = attrix.evaluate(TEXTS[:1], explainer, list(PLAUSIBILITY), rationales=RATIONALES[:1])
    for name in PLAUSIBILITY:
        (random,) = evaluation.explanations[0].metrics[name]["random"]
        assert 0.0 <= random <= 1.0


def test_evaluate_refuses_a_plausibility_metric_without_rationales(explainer):
    with pytest.raises(attrix.InputError, match="'token_f1' compares the attributions with human rationales"):
        attrix.evaluate(TEXTS[:1], explainer, ["token_f1"])
