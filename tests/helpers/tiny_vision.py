"""Tiny randomly initialised image classifiers with locally constructed image processors: nothing is downloaded.

``build(arch)`` gives a ``(model, image_processor)`` pair: ``"vit"`` (a ViT over 32x32 images in 8x8 patches,
its processor resizing to 32x32 and normalising with mean = std = 0.5) or ``"resnet"`` (a two-stage ResNet,
its ConvNeXT-style processor resizing the shortest edge to 36 and centre-cropping 32x32, ImageNet mean and std).
The same seed gives identical weights, chosen so that the class probabilities depend clearly on the image.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import torch
import transformers
from PIL import Image
from transformers import PreTrainedModel
from transformers.image_processing_utils import BaseImageProcessor

ARCHITECTURES = ("vit", "resnet")
IMAGE_SIZE = 32
PATCH_SIZE = 8
IMAGENET_MEAN = [0.485, 0.456, 0.406]
IMAGENET_STD = [0.229, 0.224, 0.225]


def _check_arch(arch: str) -> None:
    """Raise ValueError for an unsupported architecture name."""
    if arch not in ARCHITECTURES:
        raise ValueError(f"unknown architecture {arch!r}; expected one of {ARCHITECTURES}")


def _labels(num_labels: int, id2label: Mapping[int, str] | None) -> dict[int, str]:
    """The id -> label mapping: ``id2label`` if given, else ``cat``, ``dog``, ``bird``, then ``LABEL_<i>``."""
    if id2label is not None:
        return {int(key): str(value) for key, value in id2label.items()}
    names = ["cat", "dog", "bird"]
    return {index: names[index] if index < len(names) else f"LABEL_{index}" for index in range(num_labels)}


def _config(arch: str) -> transformers.PretrainedConfig:
    """A tiny configuration for ``arch``."""
    if arch == "vit":
        return transformers.ViTConfig(
            image_size=IMAGE_SIZE, patch_size=PATCH_SIZE, hidden_size=32, num_hidden_layers=2,
            num_attention_heads=2, intermediate_size=37,
        )
    return transformers.ResNetConfig(embedding_size=8, hidden_sizes=[8, 16], depths=[1, 1], layer_type="basic")


def build_processor(arch: str) -> BaseImageProcessor:
    """The slow (PIL) image processor of ``arch``, built locally."""
    _check_arch(arch)
    if arch == "vit":
        return transformers.ViTImageProcessorPil(size={"height": IMAGE_SIZE, "width": IMAGE_SIZE})
    return transformers.ConvNextImageProcessorPil(
        size={"shortest_edge": IMAGE_SIZE}, crop_pct=IMAGE_SIZE / 36, image_mean=IMAGENET_MEAN, image_std=IMAGENET_STD
    )


def build_model(arch: str, num_labels: int = 3, seed: int = 0, id2label: Mapping[int, str] | None = None) -> PreTrainedModel:
    """A tiny image classifier in eval mode; ViT weights are redrawn from N(0, 0.3) (layer norms kept)."""
    _check_arch(arch)
    config = _config(arch)
    labels = _labels(num_labels, id2label)
    config.id2label, config.label2id = labels, {label: index for index, label in labels.items()}
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = transformers.AutoModelForImageClassification.from_config(config)
        if arch == "vit":  # its default initialisation (std 0.02) gives nearly uniform probabilities
            with torch.no_grad():
                for name, parameter in model.named_parameters():
                    if "layernorm" not in name:
                        parameter.normal_(0.0, 0.3)
    return model.eval()


def build(arch: str, num_labels: int = 3, seed: int = 0, id2label: Mapping[int, str] | None = None) -> tuple[PreTrainedModel, BaseImageProcessor]:
    """A matching (model, image processor) pair."""
    return build_model(arch, num_labels, seed, id2label), build_processor(arch)


def save(arch: str, directory: Path | str, **kwargs: object) -> Path:
    """Save a built model and its image processor to ``directory`` for offline ``from_pretrained``; return the path."""
    directory = Path(directory)
    model, processor = build(arch, **kwargs)  # type: ignore[arg-type]
    model.save_pretrained(directory)
    processor.save_pretrained(directory)
    return directory


def image(width: int = 40, height: int = 36, seed: int = 0, mode: str = "RGB") -> Image.Image:
    """A reproducible picture: smooth colour gradients with noise, in ``mode``."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width]
    channels = [x * 255 / width, y * 255 / height, (x + y) * 127 / (width + height)]
    pixels = np.stack(channels, -1) + rng.normal(0, 40, (height, width, 3))
    picture = Image.fromarray(pixels.clip(0, 255).astype(np.uint8), "RGB")
    if mode == "RGBA":
        alpha = Image.fromarray(rng.integers(0, 256, (height, width), dtype=np.uint8), "L")
        picture.putalpha(alpha)
        return picture
    return picture.convert(mode)
