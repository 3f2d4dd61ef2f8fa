"""The generation tasks (decoder-only and encoder–decoder): equal to captum's LLM attribution, one path for every
step, targets, contrast, chat prompts, features, and bad input."""

from __future__ import annotations

import pytest
import torch
from captum.attr import LayerIntegratedGradients, LLMGradientAttribution, TextTokenInput

import attrix
from attrix.errors import AttrixError, InputError, TaskMismatchError
from attrix.text.encoding import TruncationWarning
from helpers.tiny_lms import CAUSAL, LANGUAGE_MODELS, SEQ2SEQ, build_lm
from helpers.tiny_models import build

PROMPT = "the food was awful"
FORCED = {"prompt": PROMPT, "target_text": " and the film was good"}


@pytest.fixture(scope="module", params=LANGUAGE_MODELS)
def lm(request):
    return (request.param, *build_lm(request.param, dtype=torch.float64))


@pytest.fixture(scope="module", params=CAUSAL)
def causal(request):
    return (request.param, *build_lm(request.param, dtype=torch.float64))


def matrix(explanation) -> torch.Tensor:
    """The step × token attributions of an explanation."""
    return torch.tensor([target.token_scores for target in explanation.targets], dtype=torch.float64)


def test_the_task_is_chosen_from_the_head(lm):
    arch, model, tokenizer = lm
    assert attrix.Explainer(model, tokenizer).task.name == ("generation" if arch in CAUSAL else "seq2seq")


def test_a_model_without_a_generation_head_is_refused():
    model, tokenizer = build("bert", head="base")
    with pytest.raises(TaskMismatchError, match="generation"):
        attrix.Explainer(model, tokenizer, task="generation")


def test_each_step_equals_captum_llm_gradient_attribution(causal):
    """captum attributes each generated token to the prompt with the earlier output fixed: continuation_features=False."""
    arch, model, tokenizer = causal
    explainer = attrix.Explainer(model, tokenizer, n_steps=24, continuation_features=False)
    explanation = explainer(FORCED)
    steps = explanation.generation.steps
    inp = TextTokenInput(
        PROMPT, tokenizer, baselines=explainer.task.baseline_id, skip_tokens=[tokenizer.bos_token_id] if arch == "llama" else None
    )
    reference = LLMGradientAttribution(LayerIntegratedGradients(model, model.get_input_embeddings()), tokenizer).attribute(
        inp, target=torch.tensor([step.id for step in steps]), n_steps=24
    )
    features = [i for i in range(explanation.generation.prompt_length) if i not in explanation.generation.kept]
    assert len(steps) == len(tokenizer(FORCED["target_text"], add_special_tokens=False)["input_ids"]) > 1
    assert torch.allclose(matrix(explanation)[:, features], reference.token_attr, atol=1e-5, rtol=0)


def test_steps_depend_on_nothing_after_them_and_add_up(lm):
    _, model, tokenizer = lm
    explanation = attrix.Explainer(model, tokenizer, n_steps="auto")(FORCED)
    scores = matrix(explanation)
    assert len(explanation.targets) == len(explanation.generation.steps) > 1
    for target, row in zip(explanation.targets, scores):
        assert row[target.position :].abs().max() == 0
        assert float(row.sum()) == pytest.approx(target.score - target.baseline_score + target.delta, abs=1e-9)
        assert abs(target.delta) <= 0.05 * abs(target.score - target.baseline_score) + 2e-3
    assert scores[-1, explanation.targets[0].position : explanation.targets[-1].position].abs().sum() > 0


def test_the_whole_continuation_is_the_sum_of_its_steps(lm):
    """One path serves every step, so the sequence target's attributions are the steps' attributions summed."""
    _, model, tokenizer = lm
    explainer = attrix.Explainer(model, tokenizer, n_steps=16)
    steps, whole = explainer(FORCED), explainer(FORCED, target="sequence")
    assert whole.targets[0].label == steps.generation.text and whole.targets[0].position is None
    assert torch.allclose(matrix(whole)[0], matrix(steps).sum(0), atol=1e-9)
    assert whole.targets[0].score == pytest.approx(sum(target.score for target in steps.targets))


def test_every_step_shares_each_forward_pass(causal):
    _, model, tokenizer = causal
    calls = []
    handle = model.register_forward_hook(lambda *_: calls.append(1))
    try:
        explainer = attrix.Explainer(model, tokenizer, n_steps=16, internal_batch_size=1000)
        explainer(FORCED, target=0)
        one = len(calls)
        calls.clear()
        explanation = explainer(FORCED)
    finally:
        handle.remove()
    assert len(explanation.targets) > 3 and len(calls) == one


def test_step_targets_pick_steps_and_refuse_others(causal):
    _, model, tokenizer = causal
    explainer = attrix.Explainer(model, tokenizer, n_steps=8)
    everything = explainer(FORCED)
    picked = explainer(FORCED, target=[0, -1])
    assert [t.index for t in picked.targets] == [0, len(everything.targets) - 1]
    assert picked.targets[1].token_scores == pytest.approx(everything.targets[-1].token_scores)
    with pytest.raises(InputError, match=r"step 9 is out of range: this continuation has \d+ steps"):
        explainer(FORCED, target=9)
    with pytest.raises(InputError, match="step number"):
        explainer(FORCED, target="POSITIVE")


@pytest.mark.parametrize("score", ["logprob", "prob", "logit"])
def test_a_contrast_explains_the_difference_of_the_two_tokens_scores(causal, score):
    _, model, tokenizer = causal
    item = {"prompt": PROMPT, "target_text": " good", "contrast_text": " bad"}
    explanation = attrix.Explainer(model, tokenizer, n_steps=8, score=score)(item)
    good, bad = (tokenizer(text, add_special_tokens=False)["input_ids"][0] for text in (" good", " bad"))
    ids = tokenizer(PROMPT, return_tensors="pt")["input_ids"]
    with torch.no_grad():
        logits = model(input_ids=ids).logits[0, -1]
    values = {"logprob": torch.log_softmax(logits, -1), "prob": torch.softmax(logits, -1), "logit": logits}[score]
    step = explanation.generation.steps[0]
    assert explanation.targets[0].score == pytest.approx(float(values[good] - values[bad]), abs=1e-9)
    assert step.probability == pytest.approx(float(torch.softmax(logits, -1)[good]))
    assert step.contrast_probability == pytest.approx(float(torch.softmax(logits, -1)[bad]))


def test_chat_template_tokens_are_kept_and_only_contents_make_words(causal):
    _, model, tokenizer = causal
    messages = [{"role": "user", "content": "the food was awful"}]
    explanation = attrix.Explainer(model, tokenizer, n_steps=8)({"prompt": messages, "target_text": " good"})
    kept = explanation.generation.kept
    assert [w.text for w in explanation.words] == ["the", "food", "was", "awful", "good"]
    assert "user" in "".join(explanation.tokens[i] for i in kept)
    assert all(explanation.targets[0].token_scores[i] == 0 for i in kept)
    assert {w.sequence for w in explanation.words[:4]} == {0} and explanation.words[4].sequence == 1


def test_continuation_features_on_or_off(causal):
    _, model, tokenizer = causal
    on = attrix.Explainer(model, tokenizer, n_steps=8)(FORCED)
    off = attrix.Explainer(model, tokenizer, n_steps=8, continuation_features=False)(FORCED)
    last_on, last_off = on.targets[-1], off.targets[-1]
    first, own = on.targets[0].position, last_on.position
    assert any(abs(s) > 0 for s in last_on.token_scores[first:own])
    assert all(s == 0 for s in last_off.token_scores[first:own])
    assert [w.sequence for w in off.words].count(1) == 0


def test_sampling_is_seeded_and_greedy_is_the_models_argmax(causal):
    _, model, tokenizer = causal
    greedy = attrix.Explainer(model, tokenizer, n_steps=4, max_new_tokens=4)(PROMPT)
    ids = tokenizer(PROMPT, return_tensors="pt")["input_ids"]
    with torch.no_grad():
        for step in greedy.generation.steps:
            assert int(model(input_ids=ids).logits[0, -1].argmax()) == step.id
            ids = torch.cat([ids, torch.tensor([[step.id]])], 1)
    sampled = [
        attrix.Explainer(model, tokenizer, n_steps=4, max_new_tokens=6, do_sample=True, temperature=2.0, seed=seed)(PROMPT)
        for seed in (1, 1, 2)
    ]
    assert sampled[0].generation.text == sampled[1].generation.text != sampled[2].generation.text


def test_a_nucleus_of_one_token_samples_the_greedy_continuation(causal):
    """top_p keeps the fewest tokens whose probability reaches it: a tiny top_p keeps the argmax alone, so sampling
    at any temperature and seed writes the greedy text, which the same sampling without top_p does not."""
    _, model, tokenizer = causal
    greedy = attrix.Explainer(model, tokenizer, n_steps=4, max_new_tokens=6)(PROMPT).generation.text
    sampled = {
        (top_p, seed): attrix.Explainer(
            model, tokenizer, n_steps=4, max_new_tokens=6, do_sample=True, temperature=2.0, top_p=top_p, seed=seed
        )(PROMPT).generation.text
        for top_p in (1e-6, 1.0)
        for seed in (1, 2, 3)
    }
    assert all(sampled[(1e-6, seed)] == greedy for seed in (1, 2, 3))
    assert any(sampled[(1.0, seed)] != greedy for seed in (1, 2, 3))


def test_perturbation_backends_remove_words_of_the_prompt(causal):
    """Occlusion of one word: each step's drop when that word's tokens become the baseline token."""
    _, model, tokenizer = causal
    explainer = attrix.Explainer(model, tokenizer, backend="occlusion", max_new_tokens=3)
    explanation = explainer(PROMPT)
    ids = torch.tensor([tokenizer(PROMPT)["input_ids"] + [step.id for step in explanation.generation.steps]])
    word = explanation.words[2]
    removed = ids.clone()
    removed[0, word.tokens] = explainer.task.baseline_id
    with torch.no_grad():
        full, cut = (torch.log_softmax(model(input_ids=x).logits[0], -1) for x in (ids, removed))
    for target, step in zip(explanation.targets, explanation.generation.steps):
        drop = full[step.position - 1, step.id] - cut[step.position - 1, step.id]
        assert target.word_scores[2] == pytest.approx(float(drop), rel=1e-6)


def test_a_batch_explains_each_input_as_alone(lm):
    _, model, tokenizer = lm
    explainer = attrix.Explainer(model, tokenizer, n_steps=8)
    items = [FORCED, {"prompt": "i love this movie so much and it was great", "target_text": " bad"}]
    together = explainer(items)
    for item, explanation in zip(items, together):
        alone = explainer(item)
        assert alone.tokens == explanation.tokens
        assert torch.allclose(matrix(alone), matrix(explanation), atol=1e-9)


def test_a_long_prompt_is_cut_from_the_left_with_a_warning(causal):
    _, model, tokenizer = causal
    long_prompt = " ".join(["the food was awful"] * 40)
    with pytest.warns(TruncationWarning, match=r"the prompt has \d+ tokens and the continuation 2, but the model reads at most 64"):
        explanation = attrix.Explainer(model, tokenizer, n_steps=4)({"prompt": long_prompt, "target_text": " good film"})
    assert len(explanation.tokens) == 64 and explanation.words[-3].text == "awful"


@pytest.mark.parametrize("item, message", [
    ("   ", "the prompt is empty"),
    ({"prompt": PROMPT, "target_text": ""}, "target_text '' tokenizes to nothing"),
    ({"prompt": PROMPT, "contrast_text": " bad"}, "contrast_text is explained against target_text"),
    ({"prompt": [{"role": "user"}]}, "exactly the keys 'role' and 'content'"),
    ({"prompt": []}, "non-empty list"),
    ({"role": "user", "content": "hi"}, "chat messages go in"),
    ({"prompt": PROMPT, "answer": "x"}, "answer"),
    (3, "a prompt string or an object"),
])
def test_bad_input_is_refused_clearly(causal, item, message):
    _, model, tokenizer = causal
    with pytest.raises(AttrixError, match=message):
        attrix.Explainer(model, tokenizer)(item)


def test_bad_options_are_refused_clearly(causal):
    _, model, tokenizer = causal
    with pytest.raises(InputError, match="max_new_tokens"):
        attrix.Explainer(model, tokenizer, max_new_tokens=0)
    with pytest.raises(AttrixError, match="score 'entropy'; valid: logit, logprob, prob"):
        attrix.Explainer(model, tokenizer, score="entropy")
    with pytest.raises(InputError, match="temperature.*do_sample"):
        attrix.Explainer(model, tokenizer, temperature=0.5)
    with pytest.raises(InputError, match="no room for the prompt: the model reads at most 64"):
        attrix.Explainer(model, tokenizer, max_new_tokens=64)(PROMPT)


def test_a_chat_prompt_needs_a_chat_template():
    model, tokenizer = build_lm("gpt2")
    tokenizer.chat_template = None
    with pytest.raises(InputError, match="no chat template"):
        attrix.Explainer(model, tokenizer)({"prompt": [{"role": "user", "content": "hi there"}]})


@pytest.mark.parametrize("arch", SEQ2SEQ)
def test_seq2seq_keeps_source_and_decoder_prefix_apart(arch):
    model, tokenizer = build_lm(arch, dtype=torch.float64)
    explanation = attrix.Explainer(model, tokenizer, n_steps=32)({"prompt": PROMPT, "target_text": "good film"})
    source = [w for w in explanation.words if w.sequence == 0]
    target = [w for w in explanation.words if w.sequence == 1]
    assert [w.text for w in source] == PROMPT.split() and [w.text for w in target] == ["good", "film"]
    start = explanation.generation.prompt_length
    assert start in explanation.generation.kept and explanation.tokens[start + 1 :] == [
        tokenizer.convert_ids_to_tokens(step.id) for step in explanation.generation.steps
    ]
    second = explanation.targets[1].token_scores
    assert any(abs(second[t]) > 0 for w in source for t in w.tokens) and abs(second[target[0].tokens[0]]) > 0


class Surprisal(attrix.StepScore):
    """The token's surprisal, −log p (a third-party step score)."""

    name = "surprisal"

    def __call__(self, logits, ids):
        return -torch.log_softmax(logits, -1).gather(-1, ids.unsqueeze(-1)).squeeze(-1)


class SurprisalPlugin:
    """A third-party plugin registering a step score."""

    @attrix.hookimpl
    def register_step_scores(self, register):
        register(Surprisal)


def test_a_plugin_registers_a_step_score_that_explains_each_step(causal):
    _, model, tokenizer = causal
    pm = attrix.plugin_manager()
    pm.register(SurprisalPlugin(), name="surprisal-plugin")
    try:
        assert attrix.get_registry().get("step_score", "surprisal").plugin == "surprisal-plugin"
        surprisal = attrix.Explainer(model, tokenizer, n_steps=8, score="surprisal")(FORCED)
    finally:
        pm.unregister(name="surprisal-plugin")
    assert "surprisal" not in attrix.get_registry().entries["step_score"]
    logprob = attrix.Explainer(model, tokenizer, n_steps=8)(FORCED)
    assert set(attrix.get_registry().entries["step_score"]) == {"logprob", "prob", "logit"}
    assert surprisal.settings["score"] == "surprisal"
    assert torch.allclose(matrix(surprisal), -matrix(logprob), atol=1e-9)


def test_auto_steps_refine_each_step_as_if_it_were_explained_alone(causal):
    """Generation steps do not move alike: ``n_steps="auto"`` refines each step's own largest errors, so a step
    explained among all the others gets the points, and the attributions, it gets alone."""
    _, model, tokenizer = causal
    explainer = attrix.Explainer(model, tokenizer, n_steps="auto", tolerance=1e-3)
    together = explainer(FORCED)
    for step in (0, len(together.targets) - 1):
        alone = explainer(FORCED, target=step)
        assert alone.targets[0].token_scores == pytest.approx(together.targets[step].token_scores, abs=1e-12)
        assert alone.targets[0].delta == pytest.approx(together.targets[step].delta, abs=1e-12)


@pytest.mark.parametrize("arch", SEQ2SEQ)
def test_seq2seq_steps_equal_captum_integrated_gradients_on_both_sides_embeddings(arch):
    """captum's IntegratedGradients over the source's and the decoder's embeddings, one step at a time, with the
    same baseline token and points: the same attributions per token."""
    from captum.attr import IntegratedGradients

    model, tokenizer = build_lm(arch, dtype=torch.float64)
    explainer = attrix.Explainer(model, tokenizer, n_steps=16)
    explanation = explainer({"prompt": PROMPT, "target_text": "good film"})
    source = tokenizer(PROMPT, return_tensors="pt")["input_ids"]
    steps = [step.id for step in explanation.generation.steps]
    decoder = torch.tensor([[model.config.decoder_start_token_id, *steps]])
    embed, special = model.get_input_embeddings(), set(tokenizer.all_special_ids)
    baseline_ids = [torch.tensor([[t if t in special else explainer.task.baseline_id for t in ids[0].tolist()]]) for ids in (source, decoder)]
    baseline_ids[1][0, 0] = decoder[0, 0]

    def logprob(step):
        def forward(source_embeds, decoder_embeds):
            logits = model(inputs_embeds=source_embeds, decoder_inputs_embeds=decoder_embeds).logits
            return torch.log_softmax(logits[:, step], -1)[:, steps[step]]
        return forward

    for step, target in enumerate(explanation.targets):
        values = IntegratedGradients(logprob(step)).attribute(
            (embed(source), embed(decoder)), baselines=tuple(embed(ids) for ids in baseline_ids), n_steps=16
        )
        reference = torch.cat([value.sum(-1)[0] for value in values])
        assert torch.allclose(torch.tensor(target.token_scores, dtype=torch.float64), reference, atol=1e-5)


def test_stop_strings_end_the_generation(causal):
    _, model, tokenizer = causal
    free = attrix.Explainer(model, tokenizer, n_steps=4, max_new_tokens=6)(PROMPT)
    texts = [step.text for step in free.generation.steps]
    stop = texts[1].strip() or texts[1]
    stopped = attrix.Explainer(model, tokenizer, n_steps=4, max_new_tokens=6, stop=[stop])(PROMPT)
    assert len(stopped.generation.steps) < len(free.generation.steps)
    assert stopped.generation.text.endswith(stop) and free.generation.text.startswith(stopped.generation.text)
