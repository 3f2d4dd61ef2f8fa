"""``image``: image classification, explained pixel by pixel toward class probabilities."""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import torch
from PIL import Image
from torch import nn
from torch.nn import functional
from transformers import (
    AutoModelForImageClassification,
    PretrainedConfig,
    PreTrainedModel,
)
from transformers.image_processing_base import ImageProcessingMixin

from attrix.contracts.backend import Attributions
from attrix.contracts.explanation import Explanation, TargetAttribution
from attrix.contracts.hookspecs import hookimpl
from attrix.contracts.inputs import InputField
from attrix.contracts.problem import InputEmbedding, Prediction, Problem
from attrix.contracts.targets import Target, resolve_targets
from attrix.contracts.task import Prepared, Task
from attrix.drawing.pictures import Picture, load_picture, png_data_uri
from attrix.errors import InputError
from attrix.integration.points import captured_output


def class_scores(logits: torch.Tensor, config: PretrainedConfig) -> torch.Tensor:
    """Scores as the image-classification pipeline computes them: softmax, sigmoid for one output or multi-label, logits for regression."""
    if config.problem_type == "regression":
        return logits
    if config.problem_type == "multi_label_classification" or config.num_labels == 1:
        return torch.sigmoid(logits)
    return torch.softmax(logits, dim=-1)


def stem_of(model: PreTrainedModel) -> nn.Module:
    """The layer ``layer_ig`` attributes at: the patch embedding the model declares, else its first convolution (the stem)."""
    try:
        layer = model.get_input_embeddings()
    except NotImplementedError:
        layer = None
    if isinstance(layer, nn.Module):
        return layer
    for module in model.modules():
        if isinstance(module, nn.Conv2d):
            return module
    raise InputError(f"{type(model).__name__} has neither input embeddings nor a convolution for layer_ig to attribute at")


def patch_size_of(config: PretrainedConfig) -> tuple[int, int] | None:
    """The model's patch size (height, width), if its config has one."""
    size = getattr(config, "patch_size", None)
    if isinstance(size, int):
        return size, size
    if isinstance(size, (list, tuple)) and len(size) == 2:
        return int(size[0]), int(size[1])
    return None


def patch_scores(values: torch.Tensor, pixel_shape: torch.Size, patch: tuple[int, int]) -> torch.Tensor | None:
    """Attributions summed per patch of the grid: from pixel attributions ``[3, H, W]`` (edge patches may be partial),
    or from a layer with one row per patch ``[n_patches, hidden]``; None for any other shape."""
    (patch_height, patch_width), (height, width) = patch, pixel_shape[-2:]
    rows, columns = -(-height // patch_height), -(-width // patch_width)
    if values.shape == pixel_shape:
        padded = functional.pad(values.sum(0), (0, columns * patch_width - width, 0, rows * patch_height - height))
        return padded.view(rows, patch_height, columns, patch_width).sum((1, 3))
    if values.dim() == 2 and values.shape[0] == rows * columns:
        return values.sum(-1).view(rows, columns)
    return None


DEFAULT_PATCH = (16, 16)
"""The patch size of ``"patch"`` features for models without one of their own (convolutional networks)."""


def pixel_features(pixel_shape: torch.Size, patch: tuple[int, int]) -> dict[str, torch.Tensor]:
    """The ``"pixel"`` and ``"patch"`` features of images of ``pixel_shape`` (``[batch, 3, H, W]``), each
    ``[batch, 1, H, W]``: every pixel (its three channels together) one feature, and every patch of the grid
    (edge patches may be partial), numbered row by row."""
    batch, (height, width) = pixel_shape[0], pixel_shape[-2:]
    rows, columns = torch.arange(height).unsqueeze(1), torch.arange(width).unsqueeze(0)
    pixel = rows * width + columns
    patch_ids = (rows // patch[0]) * -(-width // patch[1]) + columns // patch[1]
    return {name: ids.expand(batch, 1, height, width) for name, ids in (("pixel", pixel), ("patch", patch_ids))}


class ImageClassification(Task):
    """Image classification: which pixels push an image toward a class (probabilities as the image-classification pipeline).

    Inputs: a PIL image, a numpy uint8 array (height, width, 3) or the path of an image file; other modes (RGBA,
    grayscale, palette) are converted to RGB as the pipeline does (alpha dropped), noted in ``details``.
    Options: ``baseline``, ``"zeros"`` (all-zero ``pixel_values``, captum's default: the processor's mean colour
    when it normalises with mean and std) or ``"black"`` (a black image put through the processor); ``output``,
    what is explained: ``"probabilities"`` (the pipeline's scores) or ``"logits"`` (what transformers-interpret's
    ImageClassificationExplainer explains). ``probabilities`` in the explanation are the pipeline's either way.
    """

    name = "image"
    heads = ("ForImageClassification", "ForImageClassificationWithTeacher")
    auto_model = AutoModelForImageClassification
    default_backend = "ig"
    inputs = (
        InputField(
            "image",
            str | Image.Image | np.ndarray,
            "an image: the path of an image file (in a data file, relative to it), a PIL image or an RGB uint8 array",
            "image",
            None,
            relative_path=True,
        ),
    )

    def __init__(
        self,
        model: PreTrainedModel,
        processor: Any,
        *,
        baseline: Literal["zeros", "black"] = "zeros",
        output: Literal["probabilities", "logits"] = "probabilities",
    ) -> None:
        super().__init__(model, processor)
        self.image_processor = getattr(processor, "image_processor", processor)
        if not isinstance(self.image_processor, ImageProcessingMixin):
            raise InputError(
                f"{type(model).__name__} needs an image processor, got {type(processor).__name__}: "
                f"load it with AutoImageProcessor.from_pretrained(...)"
            )
        self.baseline, self.output = baseline, output
        self.layer = stem_of(model)
        self.layer_name = next(name for name, module in model.named_modules() if module is self.layer)
        self.patch = patch_size_of(model.config)

    @property
    def labels(self) -> dict[int, str]:
        """Output index to label name, from the model's config."""
        return {int(index): label for index, label in self.model.config.id2label.items()}

    def check(self, item: Any) -> Picture:
        return load_picture(item)

    def logits(self, pixel_values: torch.Tensor) -> torch.Tensor:
        """The model's logits for ``pixel_values``: ``[batch, n_labels]``."""
        return self.model(pixel_values=pixel_values).logits

    def probabilities(self, pixel_values: torch.Tensor) -> torch.Tensor:
        """The class probabilities of ``pixel_values`` as the pipeline computes them: ``[batch, n_labels]``."""
        return class_scores(self.logits(pixel_values), self.model.config)

    def pixels(self, images: list[Image.Image]) -> torch.Tensor:
        """The images as the processor makes them, one by one as the pipeline does, in the model's dtype."""
        processed = [self.image_processor(images=image, return_tensors="pt")["pixel_values"] for image in images]
        shapes = sorted({tuple(pixels.shape[1:]) for pixels in processed})
        if len(shapes) > 1:
            raise InputError(f"the image processor made images of different sizes {shapes}; explain them with batch_size=1")
        return torch.cat(processed).to(self.model.device, self.model.dtype)

    def prepare(self, items: list[Picture], target: Target) -> Prepared:
        images = [item.image for item in items]
        pixels = self.pixels(images)
        if self.baseline == "zeros":
            baseline = torch.zeros_like(pixels)
        else:
            baseline = self.pixels([Image.new("RGB", image.size) for image in images])
        with torch.no_grad(), captured_output(self.layer, strict=False) as stem:
            logits = self.logits(pixels)
        probabilities = class_scores(logits, self.model.config)
        outputs = probabilities if self.output == "probabilities" else logits
        labels = self.labels
        targets = torch.tensor([resolve_targets(target, labels, [row]) for row in probabilities.argmax(-1).tolist()])
        problem = Problem(
            inputs={"pixel_values": pixels},
            baselines={"pixel_values": baseline},
            forward=self.probabilities if self.output == "probabilities" else self.logits,
            targets=targets.to(self.model.device),
            layer=self.layer,
            embedding=InputEmbedding("pixel_values", "pixel_values", nn.Identity()),
            prediction=Prediction(outputs, stem[0] if stem else None),
            features={
                name: ids.to(self.model.device) for name, ids in pixel_features(pixels.shape, self.patch or DEFAULT_PATCH).items()
            },
        )
        return Prepared(problem, (items, probabilities))

    def explanations(self, prepared: Prepared, attributions: Attributions) -> list[Explanation]:
        items, probabilities = prepared.context
        problem, labels = prepared.problem, self.labels
        explanations = []
        for row, item in enumerate(items):
            values = attributions.values[row]
            targets = [
                TargetAttribution(
                    label=labels[index],
                    index=index,
                    token_scores=[],
                    word_scores=[],
                    score=float(attributions.scores[row, column]),
                    baseline_score=float(attributions.baseline_scores[row, column]),
                    delta=float(attributions.delta[row, column]),
                    array=values[column].tolist(),
                )
                for column, index in enumerate(problem.targets[row].tolist())
            ]
            explanations.append(
                Explanation(
                    inputs={"image": item.source},
                    tokens=[],
                    words=[],
                    targets=targets,
                    predicted_label=labels[int(probabilities[row].argmax())],
                    probabilities={labels[index]: float(p) for index, p in enumerate(probabilities[row].tolist())},
                    details=self.details(item, values, problem.inputs["pixel_values"].shape[1:]),
                )
            )
        return explanations

    def display_pixels(self, image: Image.Image) -> np.ndarray:
        """``image`` as the processor resizes and crops it, before rescaling and normalising: uint8 ``(height, width, 3)``."""
        processed = self.image_processor(images=image, do_rescale=False, do_normalize=False, return_tensors="np")["pixel_values"][
            0
        ]
        return np.asarray(processed, dtype=np.float64).transpose(1, 2, 0).clip(0, 255).round().astype(np.uint8)

    def at_input(self, values: torch.Tensor, problem: Problem) -> torch.Tensor | None:
        """A patch embedding's attributions (one row per patch of the grid) spread evenly over their patch's pixels and
        channels: every patch keeps its total (exact for ``features="patch"``; pixels of a patch tie)."""
        pixels = problem.inputs["pixel_values"]
        patch = problem.features.get("patch")
        if patch is None or values.dim() != 4 or values.shape[2] != int(patch.max()) + 1:
            return None
        ids = patch[0, 0]
        shares = torch.bincount(ids.flatten(), minlength=values.shape[2]).to(values) * pixels.shape[1]
        spread = (values.sum(-1) / shares)[..., ids]
        return spread.unsqueeze(2).expand(*values.shape[:2], *pixels.shape[1:]).contiguous()

    def details(self, item: Picture, values: torch.Tensor, pixel_shape: torch.Size) -> dict[str, Any]:
        """Sizes, the mode the image came in, the image the model saw (a PNG data URI), where ``values``
        (``[n_targets, ...]``) were taken, and per-patch sums."""
        details: dict[str, Any] = {
            "image": png_data_uri(self.display_pixels(item.image)),
            "image_size": list(pixel_shape[-2:]),
            "input_size": [item.image.height, item.image.width],
            "input_mode": item.mode,
            "converted_to_rgb": item.mode != "RGB",
            "attributed_at": "pixel_values" if values.shape[1:] == pixel_shape else self.layer_name,
        }
        grids = [patch_scores(value, pixel_shape, self.patch) for value in values] if self.patch else [None]
        if grids[0] is not None:
            details.update(patch_size=list(self.patch), patch_scores=[grid.tolist() for grid in grids])
        return details


@hookimpl
def register_tasks(register):
    register(ImageClassification)
