"""``n_steps="auto"``: steps grow per input and target until the completeness error is within the tolerance."""

from __future__ import annotations

import pytest
import torch

import attrix
from attrix.adaptive import step_schedule
from tiny_models import build
from tiny_nli import spread

TEXTS = ["i love this movie it is great", "the food was awful", "a very boring plot and bad acting , really so bad"]


@pytest.fixture(scope="module")
def tiny():
    """A tiny classifier in double precision, with weights wide enough that its scores depend on the words."""
    model, tokenizer = build("bert", num_labels=3, seed=4)
    spread(model, 0.3, seed=4)
    return model.double(), tokenizer


def relative_errors(explanation: attrix.Explanation) -> list[float]:
    return [abs(t.delta) / abs(t.score - t.baseline_score) for t in explanation.targets]


def test_the_schedule_doubles_from_8_up_to_the_maximum():
    assert step_schedule(128) == [8, 16, 32, 64, 128]
    assert step_schedule(100) == [8, 16, 32, 64, 100]
    assert step_schedule(8) == [8]
    assert step_schedule(3) == [3]


def test_each_input_stops_once_within_the_tolerance_and_records_its_steps(tiny):
    explanations = attrix.Explainer(*tiny, n_steps="auto", tolerance=1e-3, max_steps=256)(TEXTS, target="all")
    used = [explanation.settings["steps_used"] for explanation in explanations]
    assert all(explanation.settings["n_steps"] == "auto" for explanation in explanations)
    assert all(explanation.settings["tolerance"] == 1e-3 for explanation in explanations)
    assert set(used) <= {8, 16, 32, 64, 128, 256} and max(used) > 8  # some input needed more than the first round
    for explanation in explanations:
        assert max(relative_errors(explanation)) <= 1e-3


def test_a_target_keeps_the_result_of_the_first_round_within_the_tolerance(tiny):
    model, tokenizer = tiny
    adaptive = attrix.Explainer(model, tokenizer, n_steps="auto", tolerance=1e-3)
    for text in TEXTS:
        explanation = adaptive(text)
        steps = explanation.settings["steps_used"]
        fixed = attrix.Explainer(model, tokenizer, n_steps=steps)(text)
        assert explanation.target().token_scores == pytest.approx(fixed.target().token_scores, abs=1e-12)
        if steps > 8:  # the round before did not reach the tolerance
            fewer = attrix.Explainer(model, tokenizer, n_steps=steps // 2)(text)
            assert max(relative_errors(fewer)) > 1e-3


def test_converged_inputs_drop_out_of_later_rounds(tiny):
    model, tokenizer = tiny
    first_round = attrix.Explainer(model, tokenizer, n_steps=8, batch_size=3)(TEXTS)
    errors = sorted(max(relative_errors(explanation)) for explanation in first_round)
    tolerance = (errors[0] * errors[-1]) ** 0.5  # some inputs within it after 8 steps, some not
    pending = sum(error > tolerance for error in errors)
    assert 0 < pending < len(TEXTS)
    rows: list[int] = []
    handle = model.register_forward_pre_hook(lambda module, args, kwargs: rows.append(kwargs["input_ids"].shape[0]), with_kwargs=True)
    try:
        attrix.Explainer(model, tokenizer, n_steps="auto", tolerance=tolerance, batch_size=3, max_steps=16)(TEXTS)
    finally:
        handle.remove()
    # prediction, f(baseline), then each round: one step measuring the memory, then the rest in one pass
    assert rows == [3, 3, 3, 7 * 3, pending, 15 * pending]


def test_fixed_steps_record_no_adaptive_settings(tiny):
    explanation = attrix.Explainer(*tiny, n_steps=8)(TEXTS[0])
    assert explanation.settings["n_steps"] == 8
    assert not {"steps_used", "tolerance", "max_steps"} & set(explanation.settings)


@pytest.mark.parametrize(
    "options, message",
    [
        ({"n_steps": "sometimes"}, 'n_steps must be a positive integer, got \'sometimes\' \\(or "auto"'),
        ({"n_steps": "auto", "tolerance": 0}, "tolerance must be a number between 0 and 1"),
        ({"n_steps": "auto", "tolerance": 1.5}, "tolerance must be a number between 0 and 1"),
        ({"n_steps": "auto", "max_steps": 0}, "max_steps must be a positive integer"),
        ({"memory_budget": -1}, "memory_budget must be a positive integer"),
        ({"autocast": "int8"}, "unknown autocast 'int8'; valid: .*bf16"),
    ],
)
def test_bad_adaptive_options_are_refused(tiny, options, message):
    with pytest.raises(attrix.InputError if "unknown" not in message else attrix.UnknownNameError, match=message):
        attrix.Explainer(*tiny, **options)


def test_auto_steps_and_a_noise_tunnel_are_refused_together(tiny):
    with pytest.raises(attrix.InputError, match='n_steps="auto" cannot be used with a noise tunnel'):
        attrix.Explainer(*tiny, backend="ig", n_steps="auto", noise_tunnel="smoothgrad")


def cosines(first: attrix.Explanation, second: attrix.Explanation) -> list[float]:
    return [
        float(torch.cosine_similarity(torch.tensor(a.token_scores, dtype=torch.float64), torch.tensor(b.token_scores, dtype=torch.float64), dim=0))
        for a, b in zip(first.targets, second.targets)
    ]


@pytest.mark.parametrize(
    "head, item, options",
    [
        ("sentiment", "The acting was wonderful but the plot was dull and far too long.", {}),
        ("emotion_head", "My sister felt happy and surprised when the letter arrived.", {}),
        ("ner_head", "Anna Smith moved from Paris to Berlin.", {}),
        ("nli_head", {"text": "We talked about the football match for hours.", "candidate_labels": ["sports", "food"]},
         {"task": "zero_shot"}),
    ],
)
def test_auto_matches_512_steps_on_real_heads(request, one_torch_thread, head, item, options):
    if head == "sentiment":
        explainer = attrix.Explainer(str(request.getfixturevalue("default_model_dir_fixture")), n_steps="auto", max_steps=512, **options)
        model, tokenizer = explainer.model, explainer.task.tokenizer
    else:
        model, tokenizer = request.getfixturevalue(head)
        explainer = attrix.Explainer(model, tokenizer, n_steps="auto", max_steps=512, **options)
    auto = explainer(item)
    reference = attrix.Explainer(model, tokenizer, n_steps=512, internal_batch_size=128, **options)(item)
    assert [t.label for t in auto.targets] == [t.label for t in reference.targets] and auto.targets
    rounding = 4 * torch.finfo(torch.float32).eps  # the documented floor: a delta this small is float32 noise
    for target in auto.targets:
        allowed = 0.01 * abs(target.score - target.baseline_score) + rounding * max(abs(target.score), abs(target.baseline_score))
        assert abs(target.delta) <= allowed
    assert min(cosines(auto, reference)) >= 0.999
    assert auto.settings["steps_used"] < auto.settings["max_steps"]  # reached the tolerance, not the last round
