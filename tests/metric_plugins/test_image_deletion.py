"""Deletion on images: a model that keys on a red square loses its score fastest when the patches are removed in the
order of layer_ig's attributions, which put the square first; a ViT's patch-embedding attributions are measured per
patch, as integrated gradients at the pixels are."""

from __future__ import annotations

import pytest
import torch

import attrix
from helpers.square_vision import examples, picture, square_classifier
from helpers.tiny_vision import IMAGE_SIZE, PATCH_SIZE

GRID = IMAGE_SIZE // PATCH_SIZE
PLACES = [(row, column) for row in range(GRID) for column in range(GRID)]
"""Where the square is in the pictures explained: at every patch of the grid."""


@pytest.fixture(scope="module", autouse=True)
def threads(one_torch_thread):
    """One torch thread: a tiny model, many small passes."""


@pytest.fixture(scope="module")
def classifier():
    return square_classifier()


@pytest.fixture(scope="module")
def squares():
    return [picture(900 + number, place) for number, place in enumerate(PLACES)]


def test_the_model_keys_on_the_square(classifier):
    model, processor = classifier
    pictures, labels = examples(64, seed=2)
    with torch.no_grad():
        predicted = model(pixel_values=processor(images=pictures, return_tensors="pt")["pixel_values"]).logits.argmax(-1)
    assert (predicted == torch.tensor(labels)).float().mean() >= 0.9


def test_deleting_patches_in_layer_igs_order_loses_the_score_faster_than_at_random(classifier, squares):
    explainer = attrix.Explainer(*classifier, task="image", backend="layer_ig", n_steps=16)
    evaluation = attrix.evaluate(squares, explainer, ["deletion_auc"], target="square", features="patch")
    rows = evaluation.rows
    assert len(rows) == len(PLACES)
    assert sum(row["value"] < row["random"] for row in rows) >= 0.9 * len(rows)
    assert sum(row["value"] for row in rows) < 0.5 * sum(row["random"] for row in rows)
    seen = [(place, one) for place, one in zip(PLACES, evaluation.explanations) if one.targets[0].score > 0.5]
    assert len(seen) >= 0.75 * len(PLACES), "the model sees most squares"
    for place, explanation in seen:
        grid = torch.tensor(explanation.details["patch_scores"][0])
        assert divmod(int(grid.argmax()), GRID) == place, "where the model sees the square, its patch is ranked first"


def test_patch_embedding_attributions_measure_as_integrated_gradients_at_the_pixels_do(classifier, squares):
    """The patch embedding is linear in its patch's pixels, so layer_ig there and ig at the pixels give every patch
    the same total, and deletion by patches the same curve."""
    values = {
        backend: attrix.evaluate(
            squares[:3], attrix.Explainer(*classifier, task="image", backend=backend, n_steps=16), ["deletion_auc"],
            target="square", features="patch",
        ).rows
        for backend in ("layer_ig", "ig")
    }
    assert [row["value"] for row in values["layer_ig"]] == pytest.approx([row["value"] for row in values["ig"]], abs=1e-4)
