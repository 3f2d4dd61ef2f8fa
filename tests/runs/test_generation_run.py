"""Dataset runs of the generation task: prompts from a data file, rows written as they go, prompt words ranked."""

from __future__ import annotations

import json

import pytest

import attrix
from attrix.experiments.schema import Component, Experiment, InputsSpec, ModelSpec, OutputSpec
from attrix.runs.runner import run_experiment
from attrix.runs.summary import GENERATED
from helpers.tiny_lms import save_lm

PROMPTS = [
    {"prompt": "the food was awful", "target_text": " and bad"},
    {"prompt": "the film was awful", "target_text": " so bad"},
    {"prompt": "i love the food", "target_text": " very much"},
    {"prompt": "i love this film", "target_text": " and the music"},
]


@pytest.fixture(scope="module")
def lm_dir(tmp_path_factory):
    return save_lm("gpt2", tmp_path_factory.mktemp("lm") / "gpt2", seed=3)


def test_a_run_explains_each_prompt_and_ranks_the_prompt_words_that_drive_the_continuations(lm_dir, tmp_path):
    data = tmp_path / "prompts.jsonl"
    data.write_text("".join(json.dumps(row) + "\n" for row in PROMPTS), encoding="utf-8")
    run = Experiment(
        model=ModelSpec(path=str(lm_dir)),
        task=Component("generation"),
        backend=Component("layer_ig", {"n_steps": 8}),
        inputs=InputsSpec(path=str(data), format="jsonl"),
        output=OutputSpec(str(tmp_path / "run")),
        batch_size=3,
    )
    run_experiment(run, show_progress=False)
    rows = [json.loads(line) for line in (tmp_path / "run" / "results.jsonl").read_text().splitlines()]
    explanations = [attrix.Explanation.from_dict(row["explanation"]) for row in rows]
    assert sorted(e.generation.text for e in explanations) == sorted(row["target_text"] for row in PROMPTS)
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    ranked = summary["top_words_per_label"][GENERATED]
    assert ranked["rows"] == len(PROMPTS) and set(summary["top_words_per_label"]) == {GENERATED}
    expected = {}
    for explanation in explanations:
        for number, word in enumerate(explanation.words):
            if word.sequence == 0:
                total = sum(target.word_scores[number] for target in explanation.targets)
                expected.setdefault(word.text, []).append(total)
    means = {word: sum(values) / len(values) for word, values in expected.items() if len(values) >= 2}
    assert [entry["word"] for entry in ranked["top_words"]] == sorted(means, key=lambda word: (-means[word], word))
    assert all(entry["mean_attribution"] == pytest.approx(means[entry["word"]]) for entry in ranked["top_words"])
