"""The generation task on the embedded SmolLM2-135M-Instruct: facts it knows, the words that name them, contrasts."""

from __future__ import annotations

import pytest
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

import attrix

FACTS = [
    ("The capital of France is", " Paris", "France"),
    ("The capital of Japan is", " Tokyo", "Japan"),
    ("The Eiffel Tower is located in the city of", " Paris", "Eiffel"),
]
PATH = {"n_steps": "auto", "max_steps": 1024}
"""Straight-line paths on this model need many points: at 50 fixed steps the delta is as large as the attributions."""


@pytest.fixture(scope="module")
def smollm2(default_lm_dir_fixture, one_torch_thread):
    model = AutoModelForCausalLM.from_pretrained(default_lm_dir_fixture, dtype=torch.float32)
    return model, AutoTokenizer.from_pretrained(default_lm_dir_fixture)


@pytest.mark.parametrize("prompt, answer, subject", FACTS)
def test_the_word_naming_the_subject_drives_the_answer(smollm2, prompt, answer, subject):
    explanation = attrix.Explainer(*smollm2, max_new_tokens=1, **PATH)(prompt)
    assert explanation.generation.text == answer
    target = explanation.target()
    assert abs(target.delta) <= 0.01 * abs(target.score - target.baseline_score)
    assert subject in [word for word, _ in explanation.top_words(2)]


def test_an_unlikely_continuation_is_less_probable_and_the_contrast_names_what_tells_them_apart(smollm2):
    explainer = attrix.Explainer(*smollm2, **PATH)
    prompt = "The capital of France is"
    generated = explainer({"prompt": prompt, "target_text": " Paris"})
    unlikely = explainer({"prompt": prompt, "target_text": " London"})
    assert unlikely.generation.steps[0].probability < generated.generation.steps[0].probability / 10
    contrast = explainer({"prompt": prompt, "target_text": " Paris", "contrast_text": " London"})
    assert contrast.generation.steps[0].contrast_probability == pytest.approx(unlikely.generation.steps[0].probability, rel=1e-4)
    assert contrast.top_words(1)[0][0] == "France"
