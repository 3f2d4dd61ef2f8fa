"""One tiny model and a few inputs per built-in task, for the tests that run something on every task."""

from __future__ import annotations

import functools
from typing import Any

from helpers import tiny_vision
from helpers.tiny_lms import build_lm
from helpers.tiny_models import build
from helpers.tiny_nli import build_nli, spread

TASKS = ("sequence", "pairwise", "multilabel", "zero_shot", "qa", "token", "image", "generation")
INPUTS: dict[str, list[Any]] = {
    "sequence": ["i love this movie it is wonderful", "the food was awful"],
    "multilabel": ["i love this movie it is great", "a boring plot"],
    "pairwise": [("i love this movie", "the acting was great"), ("the food", "was awful")],
    "zero_shot": [{"text": "i love this movie it is great", "candidate_labels": ["sports", "music", "food"]}],
    "qa": [("who is the best actor", "the food was awful but the actor was great")],
    "token": ["the movie was wonderful and the actor was great", "i love it"],
    "generation": [{"prompt": "the food was awful", "target_text": " and the film was good"}, {"prompt": "i love it", "target_text": " so much"}],
}
LABELS = {"multilabel": {0: "action", 1: "comedy", 2: "drama"}, "token": {0: "O", 1: "B-PER", 2: "I-PER"}}


@functools.cache
def task_case(task: str) -> tuple[Any, Any, list[Any]]:
    """A tiny float32 model for ``task`` whose outputs depend on its inputs, its tokenizer or processor, and the
    inputs; shared across tests, so never change it in place (copy it first, e.g. ``copy.deepcopy(model).double()``)."""
    if task == "image":
        model, processor = tiny_vision.build("vit", seed=1)
        return model, processor, [tiny_vision.image(seed=0), tiny_vision.image(seed=1)]
    if task == "generation":
        model, tokenizer = build_lm("gpt2", seed=5)
        return model, tokenizer, INPUTS[task]
    if task == "zero_shot":
        model, tokenizer = build_nli("bert", seed=3, std=0.3)
        return model, tokenizer, INPUTS[task]
    sizes = {} if task == "qa" else {"num_labels": 3}
    head = {"qa": "qa", "token": "token"}.get(task, "sequence")
    model, tokenizer = build("bert", head=head, seed=5, id2label=LABELS.get(task), **sizes)
    spread(model, 0.3, seed=5)
    if task == "multilabel":
        model.config.problem_type = "multi_label_classification"
    return model, tokenizer, INPUTS[task]
