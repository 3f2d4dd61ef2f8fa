"""The token-classification task: shared-forward targets against captum, the pipeline's labels and entities, options and bad input."""

from __future__ import annotations

import pytest
import torch
import transformers_interpret
from captum.attr import LayerIntegratedGradients
from transformers import pipeline

import attrix
from helpers.tiny_models import build

NER = {0: "O", 1: "B-PER", 2: "I-PER", 3: "B-LOC", 4: "I-LOC"}
TEXT = "the movie was wonderful and the actor was great"
TEXTS = [TEXT, "i love it", "who were they and where is the music €"]


@pytest.fixture(scope="module", params=["bert", "roberta"])
def ner(request):
    model, tokenizer = build(request.param, head="token", id2label=NER, seed=1)
    return model.double(), tokenizer


def captum_scores(model, tokenizer, text, pick, target, n_steps):
    """captum's LayerIntegratedGradients toward ``pick(probabilities)[:, target]``, summed over the hidden size."""
    encoding = tokenizer(text, return_tensors="pt", return_special_tokens_mask=True)
    special = encoding.pop("special_tokens_mask").bool()
    baseline = torch.where(special, encoding["input_ids"], tokenizer.pad_token_id)
    keys = [key for key in encoding if key != "input_ids"]

    def forward(ids, *rest):
        return pick(torch.softmax(model(input_ids=ids, **dict(zip(keys, rest))).logits, -1))

    values = LayerIntegratedGradients(forward, model.get_input_embeddings()).attribute(
        encoding["input_ids"],
        baselines=baseline,
        additional_forward_args=tuple(encoding[key] for key in keys),
        target=target,
        n_steps=n_steps,
    )
    return values[0].sum(-1)


def test_every_token_explained_from_one_problem_equals_captum_per_target(ner):
    model, tokenizer = ner
    explainer = attrix.Explainer(model, tokenizer, n_steps=8)
    explanation = explainer(TEXT)
    words = len(tokenizer(TEXT, add_special_tokens=False)["input_ids"])
    assert [target.position for target in explanation.targets] == list(range(1, words + 1))
    assert explainer.task.prepare([TEXT], None).problem.n_targets == words
    for target in explanation.targets:
        label = model.config.label2id[target.label]
        assert target.index == target.position * len(NER) + label
        expected = captum_scores(model, tokenizer, TEXT, lambda p: p[:, target.position], label, 8)
        assert torch.allclose(torch.tensor(target.token_scores, dtype=torch.float64), expected, atol=1e-5, rtol=0)
        assert target.total - (target.score - target.baseline_score) == pytest.approx(target.delta, abs=1e-9)
        assert abs(target.delta) < 1e-2 * abs(target.score - target.baseline_score) + 1e-6
    assert max(abs(score) for target in explanation.targets for score in target.token_scores) > 1e-4


def test_forward_passes_do_not_grow_with_the_number_of_tokens(ner):
    model, tokenizer = ner
    calls: list[int] = []
    handle = model.register_forward_pre_hook(lambda module, args, kwargs: calls.append(1), with_kwargs=True)
    try:
        counts = []
        for text in ("i love it", TEXT):
            calls.clear()
            explanation = attrix.Explainer(model, tokenizer, n_steps=8)(text)
            counts.append((len(explanation.targets), len(calls)))
    finally:
        handle.remove()
    # prediction, layer values at input and baseline, one pass along the path, one at the endpoints
    assert counts[0][0] < counts[1][0]
    assert counts[0][1] == counts[1][1] == 4


@pytest.mark.parametrize("arch", ["bert", "roberta", "deberta-v2"])
def test_labels_and_entities_equal_the_token_classification_pipeline(arch):
    model, tokenizer = build(arch, head="token", id2label=NER, seed=2)
    explanations = attrix.Explainer(model, tokenizer, n_steps=2)(TEXTS)
    per_token = pipeline("token-classification", model=model, tokenizer=tokenizer)
    grouped = pipeline("token-classification", model=model, tokenizer=tokenizer, aggregation_strategy="simple")
    for text, explanation in zip(TEXTS, explanations):
        tokens = [token for token in explanation.details["tokens"] if token["entity"] != "O"]
        expected = per_token(text)
        assert [(t["index"], t["word"], t["entity"], t["start"], t["end"]) for t in tokens] == [
            (t["index"], t["word"], t["entity"], t["start"], t["end"]) for t in expected
        ]
        assert [t["score"] for t in tokens] == pytest.approx([float(t["score"]) for t in expected], abs=1e-6)
        entities = explanation.details["entities"]
        expected = grouped(text)
        assert [(e["entity_group"], e["word"], e["start"], e["end"]) for e in entities] == [
            (e["entity_group"], e["word"], e["start"], e["end"]) for e in expected
        ]
        assert [e["score"] for e in entities] == pytest.approx([float(e["score"]) for e in expected], abs=1e-6)
        assert [target.label for target in explanation.targets] == [t["entity"] for t in explanation.details["tokens"]]


def test_unknown_tokens_show_their_text_as_the_pipeline_does():
    model, tokenizer = build("bert", head="token", id2label={0: "B-X", 1: "I-X"}, seed=3)
    explanation = attrix.Explainer(model, tokenizer, n_steps=2)("it costs € now")
    assert tokenizer.unk_token in explanation.tokens
    expected = pipeline("token-classification", model=model, tokenizer=tokenizer)("it costs € now")
    assert [token["word"] for token in explanation.details["tokens"]] == [token["word"] for token in expected]
    assert "€" in [token["word"] for token in expected]


def test_entity_attributions_are_captum_toward_the_sum_of_its_tokens_labels():
    model, tokenizer = build("bert", head="token", id2label=NER, seed=1)
    model = model.double()
    explanation = attrix.Explainer(model, tokenizer, n_steps=16)(TEXTS[1])
    entity = next(e for e in explanation.details["entities"] if len(e["tokens"]) > 1)
    predicted = {token["index"]: model.config.label2id[token["entity"]] for token in explanation.details["tokens"]}

    def entity_probability(probabilities):
        return sum(probabilities[:, i, predicted[i]] for i in entity["tokens"]).unsqueeze(1)

    expected = captum_scores(model, tokenizer, TEXTS[1], entity_probability, 0, 16)
    assert torch.allclose(torch.tensor(entity["token_scores"], dtype=torch.float64), expected, atol=1e-5, rtol=0)
    words = explanation.words
    assert entity["word_scores"] == pytest.approx([float(expected[w.tokens].sum()) for w in words], abs=1e-5)


def test_repeated_tokens_each_get_their_own_target(ner):
    model, tokenizer = ner
    text = "the movie the movie the movie"
    explanation = attrix.Explainer(model, tokenizer, n_steps=8)(text)
    assert [explanation.tokens[t.position] for t in explanation.targets] == tokenizer.tokenize(text)
    assert [t.position for t in explanation.targets] == [1, 2, 3, 4, 5, 6]
    first, second = explanation.targets[1], explanation.targets[3]
    assert first.token_scores != pytest.approx(second.token_scores, abs=1e-6)
    assert attrix.Explanation.from_json(explanation.to_json()) == explanation


def test_transformers_interpret_keys_by_token_and_loses_repeats():
    model, tokenizer = build("bert", head="token", id2label=NER, seed=1)
    text = "the movie the movie"
    legacy = transformers_interpret.TokenClassificationExplainer(model, tokenizer)(text, n_steps=2)
    ours = attrix.Explainer(model, tokenizer, n_steps=2, special_tokens=True)(text)
    assert len(ours.targets) == 6
    assert len(legacy) == 4  # [CLS], the, movie, [SEP]: its issue #154


@pytest.mark.parametrize("arch, seed", [("bert", 1), ("distilbert", 2)])
def test_agrees_with_transformers_interpret(arch, seed):
    model, tokenizer = build(arch, head="token", id2label=NER, seed=seed)
    legacy = transformers_interpret.TokenClassificationExplainer(model, tokenizer)
    legacy(TEXT, n_steps=8)
    explanation = attrix.Explainer(model, tokenizer, n_steps=8, special_tokens=True)(TEXT)
    assert [target.label for target in explanation.targets] == list(legacy.predicted_class_names)
    assert [target.position for target in explanation.targets] == sorted(legacy.attributions)
    for target in explanation.targets:
        expected = legacy.attributions[target.position].attributions_sum
        ours = torch.tensor(target.token_scores) / torch.tensor(target.token_scores).norm()
        assert float(torch.nn.functional.cosine_similarity(ours, expected.float(), dim=0)) >= 0.98


def test_ignored_labels_and_indexes_leave_their_tokens_out(ner):
    model, tokenizer = ner
    full = attrix.Explainer(model, tokenizer, n_steps=2)(TEXT)
    predicted = {token["index"]: token["entity"] for token in full.details["tokens"]}
    dropped = sorted(set(predicted.values()))[0]
    explanation = attrix.Explainer(model, tokenizer, n_steps=2, ignored_labels=[dropped], ignored_indexes=[1, 3])(TEXT)
    expected = [i for i, label in predicted.items() if label != dropped and i not in (1, 3)]
    assert [t.position for t in explanation.targets] == expected
    assert dropped not in [t.label for t in explanation.targets]
    assert explanation.settings["ignored_labels"] == [dropped] and explanation.settings["ignored_indexes"] == [1, 3]


def test_special_tokens_are_explained_only_on_request(ner):
    model, tokenizer = ner
    explanation = attrix.Explainer(model, tokenizer, n_steps=2, special_tokens=True)(TEXT)
    assert [t.position for t in explanation.targets] == list(range(len(explanation.tokens)))


def test_named_label_is_explained_at_every_token(ner):
    model, tokenizer = ner
    explanation = attrix.Explainer(model, tokenizer, n_steps=2)("i love it", target="I-LOC")
    assert [(t.label, t.index) for t in explanation.targets] == [("I-LOC", p * 5 + 4) for p in (1, 2, 3)]
    both = attrix.Explainer(model, tokenizer, n_steps=2)("i love it", target=["O", 4])
    assert [(t.position, t.label) for t in both.targets] == [(p, label) for p in (1, 2, 3) for label in ("O", "I-LOC")]


def test_batch_of_different_lengths_equals_one_at_a_time(ner, padded_batches):
    model, tokenizer = ner
    explainer = attrix.Explainer(model, tokenizer, n_steps=8, batch_size=3)
    for text, together in zip(TEXTS, explainer(TEXTS)):
        alone = explainer(text)
        assert [(t.position, t.label) for t in together.targets] == [(t.position, t.label) for t in alone.targets]
        for a, b in zip(together.targets, alone.targets):
            assert a.token_scores == pytest.approx(b.token_scores, abs=1e-9)
        assert [{**t, "score": None} for t in together.details["tokens"]] == [{**t, "score": None} for t in alone.details["tokens"]]
        for a, b in zip(together.details["entities"], alone.details["entities"], strict=True):
            assert (a["word"], a["tokens"], a["score"]) == (b["word"], b["tokens"], pytest.approx(b["score"], abs=1e-9))
            assert a["token_scores"] == pytest.approx(b["token_scores"], abs=1e-9)


def test_text_with_every_token_ignored_has_no_targets(ner):
    model, tokenizer = ner
    explanation = attrix.Explainer(model, tokenizer, n_steps=2, ignored_labels=list(NER.values()))(TEXT)
    assert explanation.targets == []
    assert all(entity["token_scores"] is None for entity in explanation.details["entities"])


def test_predicted_label_is_the_most_frequent_entity_group(ner):
    model, tokenizer = ner
    for explanation in attrix.Explainer(model, tokenizer, n_steps=2)(TEXTS):
        groups = [entity["entity_group"] for entity in explanation.details["entities"]]
        assert explanation.predicted_label == (max(groups, key=groups.count) if groups else "O")
        assert explanation.predicted_label in (*groups, "O")


def test_auto_task_picks_token_classification(ner):
    model, tokenizer = ner
    assert attrix.Explainer(model, tokenizer).task.name == "token"


def test_bad_options_and_input_get_clear_errors(ner):
    model, tokenizer = ner
    with pytest.raises(attrix.UnknownNameError, match="unknown label 'PER' in ignored_labels; valid: B-LOC, B-PER, I-LOC, I-PER, O"):
        attrix.Explainer(model, tokenizer, ignored_labels=["PER"])
    with pytest.raises(attrix.InputError, match="option 'ignored_labels' of task 'token' must be a list, each item a string"):
        attrix.Explainer(model, tokenizer, ignored_labels="O")
    for bad in ([-1], ["1"], 3):
        with pytest.raises(attrix.InputError, match=r"ignored_indexes must be a list of token indices|option 'ignored_indexes' of task 'token' must be a list, each item an integer"):
            attrix.Explainer(model, tokenizer, ignored_indexes=bad)
    with pytest.raises(attrix.InputError, match="text is empty"):
        attrix.Explainer(model, tokenizer)(" ")
    with pytest.raises(attrix.UnknownNameError, match="unknown label 'PERSON'"):
        attrix.Explainer(model, tokenizer)(TEXT, target="PERSON")
