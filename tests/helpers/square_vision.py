"""A tiny ViT trained to tell pictures with a red square from pictures without: a model that keys on a known region,
so that a faithful attribution must rank the square's pixels first. Trained once per process, deterministically."""

from __future__ import annotations

import functools

import numpy as np
import torch
from PIL import Image
from transformers import PreTrainedModel
from transformers.image_processing_utils import BaseImageProcessor

from helpers.tiny_vision import IMAGE_SIZE, PATCH_SIZE, build

LABELS = {0: "plain", 1: "square"}
STEPS = 300


def picture(seed: int, square: tuple[int, int] | None) -> Image.Image:
    """A noisy grey picture of IMAGE_SIZE pixels, with a red square filling the patch at ``square`` (row, column)."""
    rng = np.random.default_rng(seed)
    pixels = rng.normal(128, 40, (IMAGE_SIZE, IMAGE_SIZE, 3)).clip(0, 255)
    if square is not None:
        top, left = square[0] * PATCH_SIZE, square[1] * PATCH_SIZE
        pixels[top : top + PATCH_SIZE, left : left + PATCH_SIZE] = (230, 20, 20)
    return Image.fromarray(pixels.astype(np.uint8), "RGB")


def examples(count: int, seed: int) -> tuple[list[Image.Image], list[int]]:
    """``count`` pictures, every other one with the square at a random patch."""
    rng = np.random.default_rng(seed)
    grid = IMAGE_SIZE // PATCH_SIZE
    pictures, labels = [], []
    for number in range(count):
        has = number % 2
        where = (int(rng.integers(grid)), int(rng.integers(grid))) if has else None
        pictures.append(picture(seed * 100_000 + number, where))
        labels.append(has)
    return pictures, labels


@functools.cache
def square_classifier() -> tuple[PreTrainedModel, BaseImageProcessor]:
    """The trained (model, image processor): its probability of ``square`` is high exactly when the square is there."""
    model, processor = build("vit", num_labels=2, seed=3, id2label=LABELS)
    pictures, labels = examples(256, seed=1)
    pixels = processor(images=pictures, return_tensors="pt")["pixel_values"]
    targets = torch.tensor(labels)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        model.train()
        optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
        for step in range(STEPS):
            batch = torch.randint(0, len(labels), (32,))
            loss = torch.nn.functional.cross_entropy(model(pixel_values=pixels[batch]).logits, targets[batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    return model.eval(), processor
