"""The metrics on the real MiniLM sentiment model: layer_ig's attributions of the held-out sentences are more faithful
than a random ranking of the same words."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import attrix
from attrix.api import default_model

HELDOUT = Path(default_model.__file__).resolve().parent / "data" / "sentiment_heldout.jsonl"


@pytest.mark.slow
def test_layer_ig_beats_a_random_ranking_on_held_out_sentences(default_model_dir_fixture, one_torch_thread):
    texts = [json.loads(line)["text"] for line in HELDOUT.read_text(encoding="utf-8").splitlines() if line.strip()]
    explainer = attrix.Explainer(str(default_model_dir_fixture), n_steps=16, batch_size=16)
    evaluation = attrix.evaluate(texts, explainer, ["comprehensiveness", "sufficiency", "deletion_auc", "insertion_auc"])
    summary = {row["metric"]: row for row in evaluation.summary()}
    assert summary["comprehensiveness"]["mean"] > summary["comprehensiveness"]["random"] + 0.1
    assert summary["sufficiency"]["mean"] < summary["sufficiency"]["random"]
    assert summary["deletion_auc"]["mean"] < summary["deletion_auc"]["random"]
    assert summary["insertion_auc"]["mean"] > summary["insertion_auc"]["random"]
    wins = [row["value"] > row["random"] for row in evaluation.rows if row["metric"] == "comprehensiveness"]
    assert sum(wins) >= 0.8 * len(wins), "a sign test: most sentences, not just the mean"
