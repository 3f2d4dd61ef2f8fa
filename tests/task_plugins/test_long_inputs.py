"""Texts longer than the model's limit: windows that tile the whole text, merged back, on every text task."""

from __future__ import annotations

import functools
import warnings

import pytest
import torch

import attrix
from attrix.errors import InputError, UnknownNameError
from attrix.text.encoding import TruncationWarning
from attrix.text.windows import encode_windows
from helpers.tiny_models import build_tokenizer, build_wide
from helpers.tiny_nli import build_nli

LONG = " ".join(f"anna went to berlin on day {n} and the food was good ." for n in range(12))
SHORT = "the food was awful"
QUESTION = "where did anna go ?"


@functools.cache
def wide(arch: str = "bert", head: str = "sequence", num_labels: int = 3):
    """A tiny float64 model whose weights are wide enough that outputs depend on the words."""
    return build_wide(arch, head, num_labels)


def explainer(task: str, model_and_tokenizer, **options):
    return attrix.Explainer(*model_and_tokenizer, task=task, n_steps=24, **options)


@pytest.mark.parametrize("arch", ["bert", "roberta", "deberta-v2"])
@pytest.mark.parametrize("cut", [0, 1])
def test_windows_are_runs_of_the_whole_text_and_cover_it(arch, cut):
    tokenizer = build_tokenizer(arch)
    texts, pairs = (["short question"] * 2, [LONG, "tiny"]) if cut else ([LONG, "tiny"], None)
    windowed = encode_windows(tokenizer, texts, pairs, limit=40, stride=6, cut=cut)
    for item in range(2):
        covered = set()
        for window in windowed.of(item):
            own = windowed.windows["input_ids"][window.row, window.positions]
            assert torch.equal(own, windowed.whole["input_ids"][item, window.whole_positions])
            assert len(window.positions) <= 40
            covered |= set(window.whole_positions)
        assert covered == set(windowed.whole["attention_mask"][item].nonzero().flatten().tolist())
    assert len(windowed.of(0)) > 1 and len(windowed.of(1)) == 1


def test_consecutive_windows_overlap_by_the_stride():
    windowed = encode_windows(build_tokenizer("bert"), [LONG], None, limit=40, stride=6, cut=0)
    windows = windowed.of(0)
    for before, after in zip(windows, windows[1:]):
        shared = set(before.whole_positions) & set(after.whole_positions)
        assert len(shared - {0, max(windowed.whole["attention_mask"][0].nonzero().flatten().tolist())}) == 6


def test_truncate_warns_and_loses_the_end_while_windows_explain_every_word():
    model_and_tokenizer = wide()
    with pytest.warns(TruncationWarning):
        truncated = explainer("sequence", model_and_tokenizer)(LONG)
    with warnings.catch_warnings():
        warnings.simplefilter("error", TruncationWarning)
        windowed = explainer("sequence", model_and_tokenizer, long_inputs="windows", stride=8)(LONG)
    last = LONG.split()[-2]
    assert truncated.words[-1].end < len(LONG) - 10
    assert [word.text for word in windowed.words][-2:] == [last, "."]
    assert windowed.words[-1].end == len(LONG)
    assert len(windowed.details["windows"]) > 1


@pytest.mark.parametrize("task", ["sequence", "multilabel", "pairwise"])
def test_each_window_is_complete_and_the_prediction_is_their_mean(task):
    item = ("who went where ?", LONG) if task == "pairwise" else LONG
    explanation = explainer(task, wide(), long_inputs="windows", stride=8)(item, target="all" if task != "multilabel" else None)
    windows = explanation.details["windows"]
    assert len(windows) > 1
    for column, target in enumerate(explanation.targets):
        for window in windows:
            gap = window["scores"][column] - window["baseline_scores"][column]
            assert sum(window["token_scores"][column]) - gap == pytest.approx(window["deltas"][column], abs=1e-9)
            assert abs(window["deltas"][column]) < 1e-2 * abs(gap) + 1e-6
        assert target.score == pytest.approx(sum(w["scores"][column] for w in windows) / len(windows), abs=1e-12)
        assert sum(target.token_scores) - (target.score - target.baseline_score) == pytest.approx(target.delta, abs=1e-12)
    if task != "multilabel":
        assert sum(explanation.probabilities.values()) == pytest.approx(1.0)


def test_merged_scores_are_the_windows_weighted_mean():
    explanation = explainer("sequence", wide(), long_inputs="windows", stride=8)(LONG)
    windows, merged = explanation.details["windows"], explanation.targets[0].token_scores
    seen: dict[int, list[float]] = {}
    for window in windows:
        for token, score in zip(window["tokens"], window["token_scores"][0]):
            seen.setdefault(token, []).append(score)
    assert set(seen) == set(range(len(explanation.tokens)))
    overlapping = 0
    for token, scores in seen.items():
        if len(scores) == 1:
            assert merged[token] == pytest.approx(scores[0], abs=1e-12)
        else:
            overlapping += 1
            assert min(scores) - 1e-12 <= merged[token] <= max(scores) + 1e-12
    assert overlapping >= 8


@pytest.mark.parametrize("task", ["sequence", "pairwise"])
def test_a_text_that_fits_is_explained_the_same_in_windows(task):
    item = ("a question", SHORT) if task == "pairwise" else SHORT
    plain = explainer(task, wide())(item)
    windowed = explainer(task, wide(), long_inputs="windows")(item)
    assert windowed.tokens == plain.tokens
    assert windowed.targets[0].token_scores == pytest.approx(plain.targets[0].token_scores, abs=1e-12)
    assert windowed.probabilities == pytest.approx(plain.probabilities, abs=1e-12)


def test_zero_shot_windows_per_label_and_short_texts_unchanged():
    nli = build_nli("bert", seed=3, std=0.3)
    model_and_tokenizer = (nli[0].double(), nli[1])
    options = dict(candidate_labels=["food", "travel", "sport"], long_inputs="windows", stride=8)
    long, short = explainer("zero_shot", model_and_tokenizer, **options)([LONG, SHORT], target="all")
    assert long.words[-1].end == len(LONG)
    assert set(long.details["windows"]) == {"food", "travel", "sport"}
    for target in long.targets:
        windows = long.details["windows"][target.label]
        assert len(windows) > 1
        assert target.score == pytest.approx(sum(w["scores"][0] for w in windows) / len(windows), abs=1e-12)
        for window in windows:
            gap = window["scores"][0] - window["baseline_scores"][0]
            assert sum(window["token_scores"][0]) - gap == pytest.approx(window["deltas"][0], abs=1e-9)
        each = [abs(w["deltas"][0]) <= 0.01 * abs(w["scores"][0] - w["baseline_scores"][0]) + 1e-9 for w in windows]
        assert target.converged is all(each)
    plain = explainer("zero_shot", model_and_tokenizer, candidate_labels=["food", "travel", "sport"])(SHORT, target="all")
    assert short.probabilities == pytest.approx(plain.probabilities, abs=1e-12)
    for got, expected in zip(short.targets, plain.targets):
        assert got.label == expected.label
        assert got.token_scores == pytest.approx(expected.token_scores, abs=1e-12)


def test_token_labels_come_from_the_window_where_the_token_is_most_central():
    model, tokenizer = wide(head="token", num_labels=3)
    task_explainer = explainer("token", (model, tokenizer), long_inputs="windows", stride=8)
    explanation = task_explainer(LONG)
    windowed = encode_windows(tokenizer, [LONG], None, task_explainer.task.limit, 8, 0)
    best: dict[int, tuple[int, int]] = {}
    for window in windowed.of(0):
        for position, whole, centre in zip(window.positions, window.whole_positions, window.centrality):
            if whole not in best or centre > best[whole][0]:
                best[whole] = (centre, window.row)
    with torch.no_grad():
        logits = model(**{k: v for k, v in windowed.windows.items() if k in tokenizer.model_input_names}).logits
    labels = model.config.id2label
    for prediction in explanation.details["tokens"]:
        whole = prediction["index"]
        row = best[whole][1]
        window = windowed.parts[row]
        expected = int(logits[row, window.positions[window.whole_positions.index(whole)]].argmax())
        assert prediction["entity"] == labels[expected]
    assert len(explanation.targets) == len(explanation.details["tokens"])
    for target in explanation.targets:
        window = windowed.parts[best[target.position][1]]
        outside = set(range(len(explanation.tokens))) - set(window.whole_positions)
        assert all(target.token_scores[token] == 0 for token in outside)
        assert sum(target.token_scores) - (target.score - target.baseline_score) == pytest.approx(target.delta, abs=1e-12)


def test_qa_explains_the_best_span_over_all_windows():
    model, tokenizer = wide(head="qa", num_labels=2)
    task_explainer = explainer("qa", (model, tokenizer), long_inputs="windows", stride=8)
    explanation = task_explainer((QUESTION, LONG))
    windowed = encode_windows(tokenizer, [QUESTION], [LONG], task_explainer.task.limit, 8, 1)
    answers = []
    for window in windowed.of(0):
        with torch.no_grad():
            logits = task_explainer.task.scores(
                **{k: v[[window.row]] for k, v in windowed.windows.items() if k in tokenizer.model_input_names}
            )
        answers.append(task_explainer.task._answer(windowed.windows, window.row, logits[0], LONG))
    best_score = max(answer.score for answer in answers)
    assert explanation.details["score"] == pytest.approx(best_score, abs=1e-12)
    assert explanation.details["answer"] == LONG[explanation.details["start"] : explanation.details["end"]]
    start, end = explanation.targets
    assert start.position == explanation.details["start_token"] and end.position == explanation.details["end_token"]
    for target in explanation.targets:
        assert sum(target.token_scores) - (target.score - target.baseline_score) == pytest.approx(target.delta, abs=1e-12)
        assert sum(score != 0 for score in target.token_scores) <= task_explainer.task.limit


def test_stride_needs_windows_and_must_leave_room():
    with pytest.raises(InputError, match="long_inputs='windows'"):
        explainer("sequence", wide(), stride=8)
    with pytest.raises(InputError, match="must be below"):
        explainer("sequence", wide(), long_inputs="windows", stride=500)(LONG)
    with pytest.raises(UnknownNameError, match="valid: truncate, windows"):
        explainer("sequence", wide(), long_inputs="slices")


def test_window_length_sets_how_many_tokens_each_window_holds():
    model_and_tokenizer = wide()
    limit = attrix.Explainer(*model_and_tokenizer).task.limit
    default = explainer("sequence", model_and_tokenizer, long_inputs="windows", stride=4)(LONG)
    shorter = explainer("sequence", model_and_tokenizer, long_inputs="windows", stride=4, window_length=24)(LONG)
    assert max(len(window["tokens"]) for window in default.details["windows"]) == limit
    assert max(len(window["tokens"]) for window in shorter.details["windows"]) == 24
    assert len(shorter.details["windows"]) > len(default.details["windows"])
    assert shorter.words[-1].end == len(LONG) and [word.text for word in shorter.words] == [word.text for word in default.words]
    for window in shorter.details["windows"]:
        for tokens, score, baseline, delta in zip(window["token_scores"], window["scores"], window["baseline_scores"], window["deltas"]):
            assert sum(tokens) - (score - baseline) == pytest.approx(delta, abs=1e-9)


def test_a_text_longer_than_the_window_but_within_the_model_is_windowed():
    short_enough = " ".join(LONG.split()[:30])
    explanation = explainer("sequence", wide(), long_inputs="windows", window_length=16, stride=2)(short_enough)
    assert len(explanation.details["windows"]) > 1 and explanation.words[-1].end == len(short_enough)


def test_window_length_needs_windows_and_must_fit_the_model():
    with pytest.raises(InputError, match="window_length.*long_inputs='windows'"):
        explainer("sequence", wide(), window_length=24)
    with pytest.raises(InputError, match="at most 64 tokens"):
        explainer("sequence", wide(), long_inputs="windows", window_length=65)
    with pytest.raises(InputError, match="window_length"):
        explainer("sequence", wide(), long_inputs="windows", window_length=2)
