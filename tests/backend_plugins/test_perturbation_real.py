"""The perturbation backends on the real MiniLM sentiment model: the sentiment word of held-out sentences comes out on top."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

import attrix
from attrix.api import default_model

HELDOUT = Path(default_model.__file__).resolve().parent / "data" / "sentiment_heldout.jsonl"
SENTIMENT_WORDS = {
    "amazing", "excellent", "appreciated", "atrocious", "loved", "terrible", "horrible", "horrendous", "poor",
    "marvelous", "adore", "beautiful", "brilliant", "pleasant", "hated", "mediocre", "miserable", "lovely", "despise",
    "despised", "charming", "enjoyed", "superb", "bad", "liked", "hate", "terrific", "good", "pathetic", "adored",
    "disgusting", "disliked", "enjoyable", "lousy", "awful", "dreadful",
}  # fmt: skip


@pytest.fixture(scope="module")
def heldout() -> list[str]:
    lines = HELDOUT.read_text(encoding="utf-8").splitlines()
    return [json.loads(line)["text"] for line in lines if line.strip()]


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["occlusion", "feature_ablation", "shapley_sampling"])
def test_the_sentiment_word_is_the_top_word(default_model_dir_fixture, one_torch_thread, heldout, backend):
    explanations = attrix.Explainer(str(default_model_dir_fixture), backend=backend, batch_size=16)(heldout)
    tops = [explanation.top_words(1)[0][0].lower() for explanation in explanations]
    assert all(SENTIMENT_WORDS & set(re.findall(r"[a-z]+", text.lower())) for text in heldout)
    hits = sum(top in SENTIMENT_WORDS for top in tops)
    assert hits >= 0.9 * len(heldout), [(text, top) for text, top in zip(heldout, tops) if top not in SENTIMENT_WORDS]
