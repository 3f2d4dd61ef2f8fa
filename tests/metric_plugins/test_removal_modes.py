"""``evaluate``'s ways of removing text features: replacing a removed token's id by the tokenizer's mask, pad or unk
token, or deleting it from the sequence, as ferret's ``aopc_compr`` and ``aopc_suff`` do."""

from __future__ import annotations

import functools
import math

import numpy as np
import pytest
import torch

import attrix
from attrix.errors import InputError
from attrix.integration.removal import RemovalScorer, feature_ids
from attrix.text.removal import DeletionScorer, removal_token_id, with_removal_token
from helpers.task_cases import task_case
from helpers.tiny_models import build_wide

TEXTS = ["i love this movie it is great", "the food was awful", "the acting was great but the food was awful"]
"""Words the tiny vocabulary holds whole, so that deleting tokens leaves no stray subword."""
FERRET_FRACTIONS = np.arange(0.1, 1.1, 0.1)
"""ferret's default removal thresholds (``parse_evaluator_args``)."""


@pytest.fixture(scope="module", autouse=True)
def threads(one_torch_thread):
    """One torch thread: these tests run many small forward passes."""


@functools.cache
def wide_explainer() -> attrix.Explainer:
    model, tokenizer = build_wide("bert", head="sequence", num_labels=3)
    return attrix.Explainer(model, tokenizer, task="sequence", n_steps=16)


def probabilities(model, input_ids: list[int], token_type_ids: list[int] | None = None) -> torch.Tensor:
    """The model's class probabilities for one unpadded sequence of ids."""
    extra = {} if token_type_ids is None else {"token_type_ids": torch.tensor([token_type_ids])}
    with torch.no_grad():
        return model(input_ids=torch.tensor([input_ids]), **extra).logits.softmax(-1)[0]


def ferret_aopc(model, ids: list[int], scores: list[float], target: int, kind: str) -> float | None:
    """ferret's AOPC comprehensiveness or sufficiency of one text, on token ids: the first and last tokens ([CLS],
    [SEP]) left out of the ranking, the top ``int(v · n)`` tokens with a positive score deleted (or kept alone) for each
    threshold v, an empty rationale or one equal to the previous one skipped, the drops of the target's probability
    averaged; None without any rationale (no positive score), where ferret returns a convention (0 or 1)."""
    full = float(probabilities(model, ids)[target])
    inner, inner_scores = ids[1:-1], np.array(scores[1:-1])
    drops, last = [], None
    for fraction in FERRET_FRACTIONS:
        count = int(fraction * len(inner))
        top = [int(i) for i in inner_scores.argsort()[-count:][::-1] if inner_scores[i] > 0] if count > 0 else []
        if not top or set(top) == last:
            continue
        last = set(top)
        kept = [i for i in range(len(inner)) if (i in last) == (kind == "sufficiency")]
        variant = [ids[0], *(inner[i] for i in kept), ids[-1]]
        drops.append(full - float(probabilities(model, variant)[target]))
    return float(np.mean(drops)) if drops else None


@pytest.mark.parametrize("metric", ["comprehensiveness", "sufficiency"])
def test_deleting_tokens_gives_ferrets_aopc(metric):
    explainer = wide_explainer()
    evaluation = attrix.evaluate(TEXTS, explainer, [metric], target="all", features="token", removal="delete")
    compared = 0
    for text, explanation in zip(TEXTS, evaluation.explanations):
        ids = explainer.task.tokenizer(text)["input_ids"]
        assert explanation.metrics[metric]["removal"] == "delete"
        for target, value in zip(explanation.targets, explanation.metrics[metric]["values"]):
            expected = ferret_aopc(explainer.model, ids, target.token_scores, target.index, metric)
            if expected is not None:
                assert value == pytest.approx(expected, abs=1e-6), (text, target.label)
                compared += 1
    assert compared >= 6


def test_ferret_itself_gives_the_same_aopc():
    ferret = pytest.importorskip("ferret")
    explainer = wide_explainer()
    evaluation = attrix.evaluate(TEXTS, explainer, ["comprehensiveness", "sufficiency"], target="all", features="token", removal="delete")
    evaluators = {
        "comprehensiveness": ferret.AOPC_Comprehensiveness_Evaluation(explainer.model, explainer.task.tokenizer),
        "sufficiency": ferret.AOPC_Sufficiency_Evaluation(explainer.model, explainer.task.tokenizer),
    }
    for text, explanation in zip(TEXTS, evaluation.explanations):
        for column, target in enumerate(explanation.targets):
            if max(target.token_scores[1:-1]) <= 0:
                continue  # no rationale: ferret returns a convention
            made = ferret.explainers.explanation.Explanation(
                text, explanation.tokens, np.array(target.token_scores), "attrix", target.index
            )
            for name, evaluator in evaluators.items():
                expected = evaluator.compute_evaluation(made, target=target.index).score
                assert explanation.metrics[name]["values"][column] == pytest.approx(expected, abs=1e-6), (text, name)


def prepared_problem(task: str):
    """The problem the task prepares for its test inputs, its explainer, and its ``"token"`` feature ids."""
    model, processor, inputs = task_case(task)
    explainer = attrix.Explainer(model, processor, task=task, n_steps=4)
    problem = explainer.task.prepare([explainer.task.check(item) for item in inputs], "all").problem
    return explainer, problem, feature_ids(problem, "token")


def kept_variants(present: torch.Tensor, n: int = 6) -> torch.Tensor:
    """``n`` seeded random choices of the features to keep, ``[n, batch, 1, features]``, every one and none among them."""
    drawn = torch.rand((n - 2, *present.shape), generator=torch.Generator().manual_seed(0)) < 0.5
    return torch.cat([present.unsqueeze(0), torch.zeros_like(present).unsqueeze(0), drawn]).unsqueeze(2)


def row_targets(problem, row: int, outputs: torch.Tensor) -> torch.Tensor:
    return outputs[problem.targets[row].cpu()]


@pytest.mark.parametrize("token", ["mask", "pad", "unk"])
def test_a_replacing_token_equals_the_ids_replaced_by_hand(token):
    explainer, problem, ids = prepared_problem("pairwise")
    token_id = removal_token_id(explainer.task.tokenizer, token)
    scorer = RemovalScorer(with_removal_token(problem, ids, token_id), ids, rows_per_pass=5)
    kept = kept_variants(scorer.present)
    scores = scorer.score(kept)
    for variant in range(kept.shape[0]):
        for row in range(problem.batch_size):
            features = ids[row, :, 0]
            keep = torch.cat([torch.tensor([True]), kept[variant, row, 0]])[features]
            input_ids = torch.where(keep, problem.inputs["input_ids"][row], token_id)
            length = int(problem.inputs["attention_mask"][row].sum())
            outputs = probabilities(explainer.model, input_ids[:length].tolist(), problem.inputs["token_type_ids"][row, :length].tolist())
            torch.testing.assert_close(scores[variant, row], row_targets(problem, row, outputs), atol=1e-6, rtol=0)


@pytest.mark.parametrize("task", ["sequence", "pairwise"])
def test_a_deleted_variant_scores_as_the_model_on_the_shortened_ids(task):
    explainer, problem, ids = prepared_problem(task)
    scorer = DeletionScorer(problem, ids, rows_per_pass=3, tokenizer=explainer.task.tokenizer)
    kept = kept_variants(scorer.present)
    scores = scorer.score(kept)
    for variant in range(kept.shape[0]):
        for row in range(problem.batch_size):
            features = ids[row, :, 0]
            keep = torch.cat([torch.tensor([True]), kept[variant, row, 0]])[features] & problem.inputs["attention_mask"][row].bool()
            outputs = probabilities(
                explainer.model, problem.inputs["input_ids"][row, keep].tolist(), problem.inputs["token_type_ids"][row, keep].tolist()
            )
            torch.testing.assert_close(scores[variant, row], row_targets(problem, row, outputs), atol=1e-6, rtol=0)


def test_the_tasks_own_baseline_token_removes_as_the_baseline_does():
    explainer = wide_explainer()
    by_baseline = attrix.evaluate(TEXTS[:2], explainer, ["deletion_auc"], removal="baseline")
    by_pad = attrix.evaluate(TEXTS[:2], explainer, ["deletion_auc"], removal="pad")
    assert [row["value"] for row in by_pad.rows] == pytest.approx([row["value"] for row in by_baseline.rows], abs=1e-12)
    by_mask = attrix.evaluate(TEXTS[:2], explainer, ["deletion_auc"], removal="mask")
    assert by_mask.explanations[0].metrics["deletion_auc"]["removal"] == "mask"
    assert all(math.isfinite(row["value"]) for row in by_mask.rows)


def test_an_unknown_removal_lists_the_valid_ones():
    explainer = wide_explainer()
    with pytest.raises(InputError, match="'baseline', 'pad', 'unk', 'mask', 'delete'"):
        attrix.evaluate(TEXTS[0], explainer, removal="drop")


def test_a_token_the_tokenizer_lacks_is_named_with_the_ones_it_has():
    model, tokenizer, inputs = task_case("generation")
    explainer = attrix.Explainer(model, tokenizer, task="generation", n_steps=4)
    missing = next(name for name in ("mask", "pad", "unk") if getattr(tokenizer, f"{name}_token_id") is None)
    with pytest.raises(InputError, match=f"needs a {missing} token, which the tokenizer does not have; it has"):
        attrix.evaluate(inputs[:1], explainer, removal=missing)


def test_images_are_removed_only_by_their_baseline():
    model, processor, images = task_case("image")
    explainer = attrix.Explainer(model, processor, task="image", n_steps=4)
    for removal in ("mask", "delete"):
        with pytest.raises(InputError, match="task 'image' has no tokens: its features are removed with removal='baseline'"):
            attrix.evaluate(images[:1], explainer, removal=removal)


@pytest.mark.parametrize(
    ("task", "why"),
    [("qa", "outputs follow token positions"), ("token", "outputs follow token positions"), ("generation", "score_positions")],
)
def test_deleting_is_refused_where_positions_matter(task, why):
    model, processor, inputs = task_case(task)
    explainer = attrix.Explainer(model, processor, task=task, n_steps=4)
    with pytest.raises(InputError, match=why):
        attrix.evaluate(inputs[:1], explainer, removal="delete")
